// Shapes of the complaints API (backend/complaints/schemas.py).
export type ComplaintStatus =
  | 'received' | 'accepted' | 'investigating' | 'resolved' | 'rejected' | 'duplicate' | 'referred'

export type CategoryCode =
  | 'child_safety' | 'food_safety' | 'fire_safety' | 'health_hygiene' | 'fees' | 'unregistered'
  | 'staff_conduct' | 'kindergarten_class' | 'nursing_room' | 'other'

export type TargetType = 'institution' | 'room' | 'place'

export interface Category {
  code: CategoryCode
  name_zh: string
  name_en: string
  urgent: boolean
  departments: string[]
}

export interface Filed {
  id: string
  reference: string
  tracking_code: string
  status: ComplaintStatus
  urgent: boolean
  departments: string[]
}

export interface PublicUpdate {
  at: string
  status: ComplaintStatus
  status_zh: string
  note: string | null
}

export interface ComplaintPublic {
  reference: string
  category: CategoryCode
  category_zh: string
  status: ComplaintStatus
  status_zh: string
  urgent: boolean
  created_at: string
  updated_at: string
  institution_name: string | null
  place_name: string | null
  departments: string[]
  photos: number
  updates: PublicUpdate[]
}

export interface MyComplaint extends ComplaintPublic {
  id: string
  description: string
}

export interface Figure {
  key: string
  name_zh: string
  count: number
}

export interface Figures {
  total: number
  by_category: Figure[]
  by_unit: Figure[]
  by_status: Figure[]
  median_days_to_resolve: number | null
  resolved_within_limit_pct: number | null
}

/** The text fields of the multipart filing form (routes.py FilingForm), as strings. */
export interface ComplaintFields {
  category: CategoryCode
  description: string
  target_type: TargetType
  institution_id?: string
  room_id?: string
  place_name?: string
  lat?: string
  lng?: string
  address?: string
  contact_name?: string
  contact_phone?: string
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
