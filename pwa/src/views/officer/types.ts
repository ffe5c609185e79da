// Shapes of the officers' desk answers: aliases of the schemas generated from the API's OpenAPI
// document (src/api/schema.d.ts), so a change in the API shows up in the type-check.
import type { Schema } from '@/api/types'

export type DeskItem = Schema<'DeskItem'>
export type ComplaintStatus = DeskItem['status']
export type SimilarItem = Schema<'SimilarItem'>
export type DeskUpdate = Schema<'DeskUpdate'>
export type ComplaintRef = Schema<'ComplaintRef'>
export type Presigned = Schema<'PresignedOut'>
export type DeskComplaint = Schema<'DeskComplaint'>
export type CategoryOut = Schema<'CategoryOut'>
export type UnitOut = Schema<'UnitOut'>
