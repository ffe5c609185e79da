// Shapes of the complaints API (backend/complaints/schemas.py).
import type { Schema } from '@/api/types'

export type Category = Schema<'CategoryOut'>
export type CategoryCode = Category['code']
export type Filed = Schema<'Filed'>
export type ComplaintStatus = Filed['status']
export type PublicUpdate = Schema<'PublicUpdate'>
export type ComplaintPublic = Schema<'ComplaintPublic'>
export type MyComplaint = Schema<'MyComplaint'>
export type Figure = Schema<'Figure'>
export type Figures = Schema<'Figures'>

/** Where a complaint points (FilingForm.target_type is a plain string in the API's schema). */
export type TargetType = 'institution' | 'room' | 'place'

/** The text fields of the multipart filing form (FilingForm without its photo parts), as the offline queue
 *  keeps them: strings, and absent rather than null (FormData would send "null"). */
type FilingText = Omit<Schema<'FilingForm'>, 'photos'>
export type ComplaintFields = { [K in keyof FilingText]?: string } & {
  category: CategoryCode
  description: string
  target_type: TargetType
}

/** The categories as the API lists them, for filing offline before they were ever fetched. */
export const FALLBACK_CATEGORIES: Category[] = [
  { code: 'child_safety', name_zh: '虐童、人身安全', name_en: 'Child abuse or personal safety', urgent: true, departments: ['police', 'health'] },
  { code: 'food_safety', name_zh: '食品安全', name_en: 'Food safety', urgent: false, departments: ['market'] },
  { code: 'fire_safety', name_zh: '消防安全', name_en: 'Fire safety', urgent: false, departments: ['fire'] },
  { code: 'health_hygiene', name_zh: '卫生保健', name_en: 'Health and hygiene', urgent: false, departments: ['health'] },
  { code: 'fees', name_zh: '收费', name_en: 'Fees and pricing', urgent: false, departments: ['market', 'ndrc'] },
  { code: 'unregistered', name_zh: '无证无备案', name_en: 'Unregistered or unfiled operation', urgent: false, departments: ['market', 'health'] },
  { code: 'staff_conduct', name_zh: '从业人员', name_en: 'Staff qualification or conduct', urgent: false, departments: ['hrss', 'health'] },
  { code: 'kindergarten_class', name_zh: '幼儿园托班', name_en: 'Nursery class in a kindergarten', urgent: false, departments: ['education'] },
  { code: 'nursing_room', name_zh: '母婴设施', name_en: 'Nursing room or mother-and-baby facility', urgent: false, departments: ['trade_union', 'health'] },
  { code: 'other', name_zh: '其他', name_en: 'Other', urgent: false, departments: ['health'] },
]

export const MAX_PHOTOS = 6
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024
export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp']
export const MAX_DESCRIPTION = 4000
