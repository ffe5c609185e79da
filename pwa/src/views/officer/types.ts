// Shapes of the officers' desk answers (backend/complaints/schemas.py), as the screens read them.

export type ComplaintStatus = 'received' | 'accepted' | 'investigating' | 'resolved' | 'rejected' | 'duplicate' | 'referred'

export interface DeskItem {
  id: string
  reference: string
  category: string
  category_zh: string
  status: ComplaintStatus
  status_zh: string
  urgent: boolean
  unit_code: number | null
  unit_zh: string | null
  departments: string[]
  created_at: string
  ack_due_at: string
  resolve_due_at: string
  ack_overdue: boolean
  resolve_overdue: boolean
  institution_id: string | null
  institution_name: string | null
  place_name: string | null
  photos: number
}

export interface SimilarItem extends DeskItem {
  distance_m: number | null
  same_institution: boolean
}

export interface DeskUpdate {
  id: number
  at: string
  status: ComplaintStatus
  status_zh: string
  previous_status: ComplaintStatus | null
  public_note: string | null
  internal_note: string | null
  officer_id: string | null
  officer_name: string | null
}

export interface ComplaintRef {
  id: string
  reference: string
}

export interface Presigned {
  id: string
  url: string
  content_type: string
  width: number
  height: number
  expires_at: string
}

export interface DeskComplaint extends DeskItem {
  description: string
  target_type: 'institution' | 'place'
  lat: number | null
  lng: number | null
  address: string | null
  anonymous: boolean
  contact_name: string | null
  contact_phone: string | null
  source: 'app' | 'open311'
  updated_at: string
  acknowledged_at: string | null
  accepted_at: string | null
  closed_at: string | null
  duplicate_of: ComplaintRef | null
  duplicates: ComplaintRef[]
  photo_urls: Presigned[]
  updates: DeskUpdate[]
}

export interface CategoryOut {
  code: string
  name_zh: string
  name_en: string
  urgent: boolean
  departments: string[]
}

export interface UnitOut {
  code: number
  name_zh: string
  name_en: string
}
