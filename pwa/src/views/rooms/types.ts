// Shapes of the rooms API (backend/rooms/schemas.py).
export const VENUE_TYPES = [
  'transport_hub', 'commercial_centre', 'tourist_area', 'hospital', 'government_hall', 'park', 'other',
] as const
export type VenueType = (typeof VENUE_TYPES)[number]

export const AMENITIES = [
  'changing_table', 'hot_water_sink', 'nursing_chair', 'baby_bed', 'lockable_door',
  'power_socket', 'call_button', 'air_conditioning', 'diaper_vending', 'wheelchair_access',
] as const
export type Amenity = (typeof AMENITIES)[number]

export interface WeeklyHours {
  days: number[]
  opens: string
  closes: string
}

export interface HoursException {
  date: string
  closed: boolean
  opens: string | null
  closes: string | null
  note: string | null
}

export interface RoomPhoto {
  id: string
  url: string
  content_type: string
  width: number
  height: number
}

export interface Room {
  id: string
  name: string
  venue: string
  venue_type: VenueType
  venue_type_zh: string
  address: string
  location_hint: string | null
  lat: number
  lng: number
  opening_hours: WeeklyHours[]
  exceptions: HoursException[]
  open_now: boolean
  amenities: Amenity[]
  area_m2: number | null
  independent: boolean
  managing_body: string | null
  contact_phone: string | null
  verified: boolean
  verified_on: string | null
  rating: number | null
  ratings: number
  version: number
  distance_m: number | null
  photos: RoomPhoto[]
}

export interface RoomMarker {
  id: string
  name: string
  lat: number
  lng: number
  venue_type: VenueType
  open_now: boolean
}

export interface RatingComment {
  id: string
  stars: number
  comment: string
  by: string
  created_at: string
  updated_at: string
}

export interface Ratings {
  room_id: string
  average: number | null
  count: number
  comments_total: number
  comments: RatingComment[]
}

export interface MyRating {
  id: string
  room_id: string
  stars: number
  comment: string | null
  hidden: boolean
  hidden_reason: string | null
  created_at: string
  updated_at: string
}

/** A suggested correction: only the fields to change. */
export interface RoomFactsPatch {
  name?: string
  address?: string
  location_hint?: string | null
  contact_phone?: string | null
  amenities?: Amenity[]
}
