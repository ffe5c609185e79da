// Shapes of the API answers the staff console uses (backend/enrolment, bookings, notices, complaints,
// institutions schemas). Only the fields the screens read.

export type ApplicationStatus =
  | 'submitted' | 'waitlisted' | 'offered' | 'accepted' | 'enrolled' | 'ended' | 'rejected' | 'withdrawn' | 'expired'

export interface DeskClass {
  id: string
  name: string
  class_type: string
  class_type_zh: string
  capacity: number
  carers: number
  carer_ratio_ok: boolean
  offline_enrolled: number
  enrolled: number
  offered: number
  vacancies: number
  waitlist: number
  submitted: number
}

export interface SlotUse {
  band: string
  start: string
  end: string
  capacity: number
  booked: number
}

export interface Desk {
  institution_id: string
  day: string
  classes: DeskClass[]
  slots: SlotUse[]
}

export interface InstitutionBrief {
  id: string
  name: string
  unit_name_zh: string
  flags: { home_based: boolean; kindergarten_class: boolean }
  classes: Array<{ id: string; name: string; class_type_zh: string }>
}

export interface QueueItem {
  id: string
  child_id: string
  child_name: string
  institution_id: string
  class_id: string
  class_name: string
  class_type: string
  mode: 'full_day' | 'half_day'
  start_date: string
  status: ApplicationStatus
  status_zh: string
  priority: number
  waitlist_position: number | null
  offer_expires_at: string | null
  reason: string | null
  submitted_at: string
  updated_at: string
  child_birth_date: string
  child_age_months_at_start: number
}

export type BookingStatus = 'booked' | 'cancelled' | 'attended' | 'no_show'

export interface BookingOut {
  id: string
  child_id: string
  child_name: string
  institution_id: string
  mode: 'hourly' | 'temporary'
  day: string
  start: string
  end: string
  band: string
  price_fen: number
  status: BookingStatus
  status_zh: string
  created_at: string
  cancelled_at: string | null
  cancel_reason: string | null
}

export interface NoticeOut {
  id: string
  institution_id: string
  institution_name: string
  audience: 'institution' | 'class' | 'committee'
  audience_zh: string
  class_id: string | null
  posted_as: 'staff' | 'committee'
  title: string
  pinned: boolean
  urgent: boolean
  status: 'scheduled' | 'published' | 'expired' | 'deleted'
  publish_at: string
  published_at: string | null
  expires_at: string | null
  version: number
  has_consultation: boolean
}

export interface NoticeDetail extends NoticeOut {
  body: string
  body_format: 'plain' | 'markdown'
  body_html: string
  attachments: Array<{ id: string; url: string; width: number; height: number }>
  consultation: { question: string; choice_mode: string; options: string[]; deadline: string; open: boolean } | null
}

export interface ReceiptsOut {
  notice_id: string
  audience_count: number
  read_count: number
  not_read: Array<{ account_id: string; name: string; read_at: string | null }>
}

export interface ResultsOut {
  question: string
  eligible: number
  answered: number
  open: boolean
  deadline: string
  options: Array<{ index: number; option: string; count: number }>
  texts: string[]
}

export interface UploadOut {
  id: string
  content_type: string
  byte_size: number
  width: number
  height: number
}

export interface PublicUpdate {
  at: string
  status: string
  status_zh: string
  note: string | null
}

export interface StaffComplaint {
  id: string
  reference: string
  category: string
  category_zh: string
  status: string
  status_zh: string
  description: string
  created_at: string
  accepted_at: string | null
  updates: PublicUpdate[]
}
