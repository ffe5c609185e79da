import type { Schema } from '@/api/types'

export type FilingOut = Schema<'FilingOut'>
export type FilingQueueItem = Schema<'FilingQueueItem'>
export type FilingKindDocuments = Schema<'FilingKindDocuments'>
export type FilingStatus = FilingOut['status']
export type DocumentKind = FilingKindDocuments['kind']
export type DocumentOut = Schema<'DocumentOut'>
