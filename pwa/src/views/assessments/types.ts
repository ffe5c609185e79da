// Shapes of the assessment endpoints: aliases of the schemas generated from the API's OpenAPI
// document (src/api/schema.d.ts), so a change in the API shows up in the type-check.
import type { Schema } from '@/api/types'

export type StandardOut = Schema<'StandardOut'>
export type AssessmentOut = Schema<'AssessmentOut'>
export type AssessmentListItem = Schema<'AssessmentListItem'>
export type ItemOut = Schema<'ItemOut'>
export type PublicAssessment = Schema<'PublicAssessment'>
export type QualityOut = Schema<'QualityOut'>
