// What the rooms screen remembers while the app is open (coming back from a room's details keeps the
// place, filters and radius instead of locating again).
import type { LatLng } from '@/utils/geo'
import type { Amenity, VenueType } from './types'

export const remembered: {
  origin: LatLng | null
  located: boolean
  radius: number
  openNow: boolean
  venueType: VenueType | null
  amenities: Amenity[]
} = { origin: null, located: false, radius: 5000, openNow: false, venueType: null, amenities: [] }

export const NEARBY_CACHE_KEY = 'rooms:nearby:last'
