// The guidance screens' requests (typed: src/api/http.ts). My registrations and the units are kept on
// the device.
import { data, http, type QueryOf } from '@/api/http'
import { cacheKey, kept } from '@/utils/offline'
import type { EventIn } from './types'

export const listEvents = (query: QueryOf<'/api/guidance/events'>) => data(http.GET('/api/guidance/events', { params: { query } }))
export const getEvent = (id: string) =>
  data(http.GET('/api/guidance/events/{event_id}', { params: { path: { event_id: id } } }))
export const myRegistrations = () =>
  kept(cacheKey('/api/guidance/registrations'), () => data(http.GET('/api/guidance/registrations')))
export const getUnits = () => kept(cacheKey('/api/units'), () => data(http.GET('/api/units')))

export const register = (eventId: string, childId: string | null, idempotencyKey: string) =>
  data(
    http.POST('/api/guidance/events/{event_id}/registrations', {
      params: { path: { event_id: eventId }, header: { 'Idempotency-Key': idempotencyKey } },
      body: childId ? { child_id: childId } : {},
    }),
  )
export const cancelRegistration = (id: string) =>
  data(http.POST('/api/guidance/registrations/{registration_id}/cancel', { params: { path: { registration_id: id } } }))

export const hostedEvents = (past: boolean) => data(http.GET('/api/guidance/hosted', { params: { query: { past } } }))
export const hostedEvent = (id: string) =>
  data(http.GET('/api/guidance/hosted/{event_id}', { params: { path: { event_id: id } } }))
export const publishEvent = (body: EventIn) => data(http.POST('/api/guidance/events', { body }))
export const markAttendance = (eventId: string, regId: string, status: 'attended' | 'no_show') =>
  data(
    http.POST('/api/guidance/hosted/{event_id}/registrations/{registration_id}/attendance', {
      params: { path: { event_id: eventId, registration_id: regId } },
      body: { status },
    }),
  )
export const cancelEvent = (eventId: string, reason: string) =>
  data(http.POST('/api/guidance/hosted/{event_id}/cancel', { params: { path: { event_id: eventId } }, body: { reason } }))
