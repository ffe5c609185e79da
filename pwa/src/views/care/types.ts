// Shapes of the care endpoints: aliases of the schemas generated from the API's OpenAPI document
// (src/api/schema.d.ts), so a change in the API shows up in the type-check.
import type { Schema } from '@/api/types'

export type ModeOut = Schema<'ModeOut'>
export type ModeName = ModeOut['mode']
export type PriceUnit = ModeOut['price_unit']
export type ClassOut = Schema<'ClassOut'>
export type ClassType = ClassOut['class_type']
export type Band = Schema<'SlotOut'>['band']
export type FlagsOut = Schema<'FlagsOut'>

export type InstitutionSummary = Schema<'InstitutionSummary'>
export type OpeningPeriod = Schema<'OpeningPeriod'>
export type InstitutionDetail = Schema<'InstitutionDetail'>
export type NearbyItem = Schema<'NearbyItem'>
export type NearbyPage = Schema<'NearbyPage'>

export type Child = Schema<'ChildOut'>

export type SlotOut = Schema<'SlotOut'>
export type DaySlots = Schema<'DaySlots'>

export type Booking = Schema<'BookingOut'>
export type BookingStatus = Booking['status']
export type BookingHistoryItem = Schema<'BookingHistoryItem'>
export type BookingDetail = Schema<'BookingDetail'>

export type Application = Schema<'ApplicationOut'>
export type ApplicationStatus = Application['status']
export type ApplicationHistoryItem = Schema<'HistoryItem'>
export type ApplicationDetail = Schema<'ApplicationDetail'>
