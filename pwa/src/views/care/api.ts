// The care screens' reads. Each keeps its last good answer on the device (cachedGet) so results,
// bookings and applications stay readable offline; the search also keeps "the last search" whatever
// its filters, so going offline after changing a filter still shows something, marked stale.
import { ApiError, type Query } from '@/api/client'
import { cachedGet, readCached, writeCached, type Cached } from '@/utils/offline'
import type { Application, ApplicationDetail, Booking, BookingDetail, Child, InstitutionDetail, NearbyPage } from './types'

const LAST_SEARCH = 'care:nearby:last'

export async function searchNearby(query: Query): Promise<Cached<NearbyPage>> {
  try {
    const result = await cachedGet<NearbyPage>('/api/institutions/nearby', query)
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

export const getInstitution = (id: string) => cachedGet<InstitutionDetail>(`/api/institutions/${id}`)
export const getChildren = () => cachedGet<Child[]>('/api/me/children')
export const getBookings = () => cachedGet<Booking[]>('/api/bookings')
export const getBooking = (id: string) => cachedGet<BookingDetail>(`/api/bookings/${id}`)
export const getApplications = () => cachedGet<Application[]>('/api/applications')
export const getApplication = (id: string) => cachedGet<ApplicationDetail>(`/api/applications/${id}`)

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
