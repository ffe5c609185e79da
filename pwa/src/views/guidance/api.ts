import { api, type Query } from '@/api/client'
import type { Schema } from '@/api/types'
import { cachedGet } from '@/utils/offline'
import type {
  EventIn,
  GuidanceEventDetail,
  GuidancePage,
  HostedEvent,
  HostedEventDetail,
  Registration,
} from './types'

export const listEvents = (query: Query) => api.get<GuidancePage>('/api/guidance/events', query)
export const getEvent = (id: string) => api.get<GuidanceEventDetail>(`/api/guidance/events/${id}`)
export const myRegistrations = () => cachedGet<Registration[]>('/api/guidance/registrations')
export const getUnits = () => cachedGet<Schema<'UnitOut'>[]>('/api/units')

export const register = (eventId: string, childId: string | null, idempotencyKey: string) =>
  api.post<Registration>(`/api/guidance/events/${eventId}/registrations`, childId ? { child_id: childId } : {}, {
    'Idempotency-Key': idempotencyKey,
  })
export const cancelRegistration = (id: string) => api.post<Registration>(`/api/guidance/registrations/${id}/cancel`, {})

export const hostedEvents = (past: boolean) => api.get<HostedEvent[]>('/api/guidance/hosted', { past })
export const hostedEvent = (id: string) => api.get<HostedEventDetail>(`/api/guidance/hosted/${id}`)
export const publishEvent = (body: EventIn) => api.post<HostedEventDetail>('/api/guidance/events', body)
export const markAttendance = (eventId: string, regId: string, status: 'attended' | 'no_show') =>
  api.post<HostedEventDetail>(`/api/guidance/hosted/${eventId}/registrations/${regId}/attendance`, { status })
export const cancelEvent = (eventId: string, reason: string) =>
  api.post<HostedEventDetail>(`/api/guidance/hosted/${eventId}/cancel`, { reason })
