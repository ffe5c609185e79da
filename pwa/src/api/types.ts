// The API's shapes. Request and response schemas are generated from the API's OpenAPI document into
// schema.d.ts (`make api-types`; a test fails while it is stale): use `Schema<'BookingOut'>` rather
// than writing an interface by hand, so a change in the API shows up in the type-check.
import type { components } from './schema'

export type Schema<K extends keyof components['schemas']> = components['schemas'][K]

export type Account = Schema<'AccountOut'>
export type Grant = Schema<'GrantOut'>
export type Role = 'parent' | 'institution_staff' | 'institution_admin' | 'officer' | 'city_admin'
export type Session = Schema<'SessionOut'>

/** A live message from /ws (and, trimmed, the data of a push notification). */
export interface LiveEvent {
  /** Critical news (offer, cancellation, urgent notice): the app reports it saw it, which stops the SMS fallback. */
  critical?: boolean
  type: 'event'
  id: number
  event: string
  category: string
  urgency: string
  at: string
  subject: { type: string; id: string }
  title_zh: string
  title: string
  url: string
  data: Record<string, unknown>
}
