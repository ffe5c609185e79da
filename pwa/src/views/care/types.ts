// Shapes of the care endpoints, as the API's schemas define them (backend/institutions/schemas.py,
// backend/families/schemas.py, backend/bookings/schemas.py, backend/enrolment/schemas.py).

export type ModeName = 'full_day' | 'half_day' | 'hourly' | 'temporary'
export type PriceUnit = 'month' | 'day' | 'half_day' | 'hour'
export type ClassType = 'infant' | 'toddler' | 'older_toddler' | 'mixed'
export type Band = 'infant' | 'toddler' | 'older_toddler'

export interface ModeOut {
  mode: ModeName
  mode_zh: string
  price_fen: number
  price_unit: PriceUnit
}

export interface ClassOut {
  id: string
  name: string
  class_type: ClassType
  class_type_zh: string
  age_min_months: number
  age_max_months: number
  capacity: number
  carers: number
  enrolled: number
  vacancies: number
  carer_ratio_ok: boolean
}

export interface FlagsOut {
  inclusive: boolean
  demonstration: boolean
  employer_run: boolean
  community_run: boolean
  kindergarten_class: boolean
  home_based: boolean
}

export interface InstitutionSummary {
  id: string
  name: string
  unit_code: number
  unit_name_zh: string
  address: string
  lat: number
  lng: number
  phone: string
  legal_form: 'public_institution' | 'social_organisation' | 'for_profit'
  ownership: 'public' | 'private'
  filing_status: 'unfiled' | 'submitted' | 'filed' | 'returned'
  flags: FlagsOut
  modes: ModeOut[]
  classes: ClassOut[]
  vacancies: number
  is_demo: boolean
}

export interface OpeningPeriod {
  days: number[]
  opens: string
  closes: string
}

/** Quality assessment results, shown when the API includes them (it does not yet). */
export interface QualityResult {
  grade?: string
  score?: number
  assessed_on?: string
  [key: string]: unknown
}

export interface InstitutionDetail extends InstitutionSummary {
  registration_no: string
  opening_hours: OpeningPeriod[]
  description: string
  updated_at: string
  quality?: QualityResult | QualityResult[] | null
}

export interface NearbyItem extends InstitutionSummary {
  distance_m: number
}

export interface NearbyPage {
  items: NearbyItem[]
  next_cursor: string | null
}

export interface Child {
  id: string
  name: string
  birth_date: string
  age_months: number
  relation: 'mother' | 'father' | 'grandparent' | 'other'
}

export interface SlotOut {
  id: string
  band: Band
  start: string
  end: string
  capacity: number
  booked: number
  free: number
}

export interface DaySlots {
  institution_id: string
  day: string
  slots: SlotOut[]
}

export type BookingStatus = 'booked' | 'cancelled' | 'attended' | 'no_show'

export interface Booking {
  id: string
  child_id: string
  child_name: string
  institution_id: string
  institution_name: string
  mode: 'hourly' | 'temporary'
  day: string
  start: string
  end: string
  band: Band
  price_fen: number
  status: BookingStatus
  status_zh: string
  created_at: string
  cancellable_until: string
  cancelled_at: string | null
  cancel_reason: string | null
}

export interface HistoryItem<S> {
  event_id: number
  type: string
  status: S
  at: string
}

export interface BookingDetail extends Booking {
  history: HistoryItem<BookingStatus>[]
}

export type ApplicationStatus =
  | 'submitted' | 'waitlisted' | 'offered' | 'accepted' | 'enrolled' | 'ended' | 'rejected' | 'withdrawn' | 'expired'

export interface Application {
  id: string
  child_id: string
  child_name: string
  institution_id: string
  institution_name: string
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
}

export interface ApplicationDetail extends Application {
  history: HistoryItem<ApplicationStatus>[]
}
