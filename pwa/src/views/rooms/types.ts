// Shapes of the rooms API (backend/rooms/schemas.py), generated from its OpenAPI document.
import type { Schema } from '@/api/types'

export type Room = Schema<'RoomOut'>
export type RoomMarker = Schema<'RoomMarker'>
export type WeeklyHours = Schema<'WeeklyHours'>
export type HoursException = Schema<'HoursException'>
export type RoomPhoto = Schema<'RoomPhoto'>
export type RatingComment = Schema<'RatingComment'>
export type Ratings = Schema<'RatingsOut'>
export type MyRating = Schema<'MyRatingOut'>
export type RatingIn = Schema<'RatingIn'>
/** A suggested correction: only the fields to change. */
export type RoomFactsPatch = Schema<'RoomFactsPatch'>
export type SuggestionIn = Schema<'SuggestionIn'>

export type VenueType = Room['venue_type']
export type Amenity = Room['amenities'][number]

/** The list as given, checked to name every value of T (a value the API adds fails the type-check here). */
function everyOf<T>() {
  return <const L extends readonly T[]>(
    list: L & ([Exclude<T, L[number]>] extends [never] ? unknown : { missing: Exclude<T, L[number]> }),
  ): L => list
}

/** In the order the filters show them. */
export const VENUE_TYPES = everyOf<VenueType>()([
  'transport_hub', 'commercial_centre', 'tourist_area', 'hospital', 'government_hall', 'park', 'other',
])

export const AMENITIES = everyOf<Amenity>()([
  'changing_table', 'hot_water_sink', 'nursing_chair', 'baby_bed', 'lockable_door',
  'power_socket', 'call_button', 'air_conditioning', 'diaper_vending', 'wheelchair_access',
])
