// The care screens' requests (typed: src/api/http.ts). Each read keeps its last good answer on the
// device (kept) so results, bookings and applications stay readable offline; the search also keeps "the last search" whatever
// its filters, so going offline after changing a filter still shows something, marked stale.
import { ApiError, type Query } from '@/api/client'
import { data, http, type QueryOf } from '@/api/http'
import type { Schema } from '@/api/types'
import { cacheKey, kept, readCached, writeCached, type Cached } from '@/utils/offline'
import type { Band, NearbyPage } from './types'

type ApplicationIn = Schema<'ApplicationIn'>
type BookingIn = Schema<'BookingIn'>

const LAST_SEARCH = 'care:nearby:last'

export async function searchNearby(query: Query): Promise<Cached<NearbyPage>> {
  try {
    // The screen builds its query from the URL's filters (strings), so it is passed as the API's query type.
    const params = { query: query as unknown as QueryOf<'/api/institutions/nearby'> }
    const result: Cached<NearbyPage> = await kept(cacheKey('/api/institutions/nearby', query), () =>
      data(http.GET('/api/institutions/nearby', { params })),
    )
    if (!result.stale) await writeCached(LAST_SEARCH, result.data).catch(() => undefined)
    return result
  } catch (err) {
    if (err instanceof ApiError && err.offline) {
      const saved = await readCached<NearbyPage>(LAST_SEARCH).catch(() => undefined)
      if (saved) return { ...saved, stale: true }
    }
    throw err
  }
}

const path = (id: string) => ({ params: { path: { institution_id: id } } })

export const getInstitution = (id: string) =>
  kept(cacheKey(`/api/institutions/${id}`), () => data(http.GET('/api/institutions/{institution_id}', path(id))))
export const getChildren = () => kept(cacheKey('/api/me/children'), () => data(http.GET('/api/me/children')))
export const getBookings = () => kept(cacheKey('/api/bookings'), () => data(http.GET('/api/bookings')))
export const getBooking = (id: string) =>
  kept(cacheKey(`/api/bookings/${id}`), () =>
    data(http.GET('/api/bookings/{booking_id}', { params: { path: { booking_id: id } } })),
  )
export const getApplications = () => kept(cacheKey('/api/applications'), () => data(http.GET('/api/applications')))
export const getApplication = (id: string) =>
  kept(cacheKey(`/api/applications/${id}`), () =>
    data(http.GET('/api/applications/{application_id}', { params: { path: { application_id: id } } })),
  )

export const getSlots = (id: string, day: string, band: Band) =>
  data(http.GET('/api/institutions/{institution_id}/slots', { params: { path: { institution_id: id }, query: { day, band } } }))

export const apply = (body: ApplicationIn, idempotencyKey: string) =>
  data(http.POST('/api/applications', { params: { header: { 'Idempotency-Key': idempotencyKey } }, body }))
export const book = (body: BookingIn, idempotencyKey: string) =>
  data(http.POST('/api/bookings', { params: { header: { 'Idempotency-Key': idempotencyKey } }, body }))

export const acceptOffer = (id: string) =>
  data(http.POST('/api/applications/{application_id}/accept', { params: { path: { application_id: id } } }))
export const withdrawApplication = (id: string, reason: string | null) =>
  data(http.POST('/api/applications/{application_id}/withdraw', { params: { path: { application_id: id } }, body: { reason } }))
export const cancelBooking = (id: string, reason: string) =>
  data(http.POST('/api/bookings/{booking_id}/cancel', { params: { path: { booking_id: id } }, body: { reason } }))

/** A fresh Idempotency-Key for one attempt at a creation (a retry of the same attempt reuses it). */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  // Non-secure contexts (plain http on a LAN address) have no randomUUID: build a v4 UUID by hand.
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
