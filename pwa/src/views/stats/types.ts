// Shapes of the statistics answers: aliases of the schemas generated from the API's OpenAPI document.
import type { Schema } from '@/api/types'

export type Overview = Schema<'Overview'>
export type AreaFigures = Schema<'AreaFigures'>
export type MonthFigures = Schema<'MonthFigures'>
