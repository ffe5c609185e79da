// Shapes of the API answers the staff console uses: aliases of the schemas generated from the API's
// OpenAPI document (src/api/schema.d.ts), so a change in the API shows up in the type-check.
import type { Schema } from '@/api/types'

export type DeskClass = Schema<'DeskClass'>
export type SlotUse = Schema<'SlotUse'>
export type Desk = Schema<'Desk'>

/** The few facts of an institution (GET /api/institutions/{id}) the console keeps per session. */
export type InstitutionBrief = Pick<Schema<'InstitutionDetail'>, 'id' | 'name' | 'unit_name_zh' | 'flags' | 'classes'>

export type QueueItem = Schema<'QueueItem'>
export type ApplicationStatus = QueueItem['status']

export type BookingOut = Schema<'BookingOut'>
export type BookingStatus = BookingOut['status']

export type NoticeOut = Schema<'NoticeOut'>
export type NoticeDetail = Schema<'NoticeDetail'>
export type ReceiptsOut = Schema<'ReceiptsOut'>
export type ResultsOut = Schema<'ResultsOut'>
export type UploadOut = Schema<'UploadOut'>

export type PublicUpdate = Schema<'PublicUpdate'>
export type StaffComplaint = Schema<'StaffComplaint'>
