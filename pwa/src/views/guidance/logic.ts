// Pure logic of the guidance screens (tested in tests/guidance.test.ts).
import type { QueryOf } from '@/api/http'
import type { EventIn, GuidanceEvent, HostedRegistration, Kind, Registration } from './types'

export const PAGE_SIZE = 20

export interface ListFilters {
  kind: Kind | ''
  unit: number | 0
}

/** The query for one page of upcoming events. */
export function listQuery(filters: ListFilters, offset = 0): QueryOf<'/api/guidance/events'> {
  return {
    kind: filters.kind || undefined,
    unit: filters.unit || undefined,
    limit: PAGE_SIZE,
    offset,
  }
}

export type PlacesState = 'open' | 'few' | 'full' | 'closed'

/** How to show the places left: full, few (≤ 20 % or ≤ 3), open, or closed (cancelled / started). */
export function placesState(e: Pick<GuidanceEvent, 'places_left' | 'capacity' | 'open_for_registration' | 'status'>): PlacesState {
  if (e.status !== 'published') return 'closed'
  if (e.places_left <= 0) return 'full'
  if (!e.open_for_registration) return 'closed'
  if (e.places_left <= 3 || e.places_left <= e.capacity * 0.2) return 'few'
  return 'open'
}

/** Attendance is marked from the event's start on, for live registrations of a published event. */
export function canMarkAttendance(
  event: Pick<GuidanceEvent, 'starts_at' | 'status'>,
  reg: Pick<HostedRegistration, 'status'>,
  now: Date = new Date(),
): boolean {
  return event.status === 'published' && reg.status !== 'cancelled' && new Date(event.starts_at).getTime() <= now.getTime()
}

/** A host may cancel a published event that has not started. */
export function canCancelEvent(event: Pick<GuidanceEvent, 'starts_at' | 'status'>, now: Date = new Date()): boolean {
  return event.status === 'published' && new Date(event.starts_at).getTime() > now.getTime()
}

/** Upcoming registrations first (soonest first), then the rest (latest first). */
export function sortRegistrations(rows: Registration[], now: Date = new Date()): Registration[] {
  const t = now.getTime()
  const upcoming = (r: Registration) => r.status === 'registered' && new Date(r.event.starts_at).getTime() > t
  return [...rows].sort((a, b) => {
    const ua = upcoming(a), ub = upcoming(b)
    if (ua !== ub) return ua ? -1 : 1
    const d = new Date(a.event.starts_at).getTime() - new Date(b.event.starts_at).getTime()
    return ua ? d : -d
  })
}

/** A Daqing local date and time (YYYY-MM-DD, HH:MM) as an RFC 3339 instant with its +08:00 offset. */
export function daqingInstant(day: string, hhmm: string): string {
  return `${day}T${hhmm}:00+08:00`
}

export interface PublishForm {
  kind: Kind
  title: string
  description: string
  day: string
  start: string
  end: string
  capacity: number | string
  address: string
  institutionId: string | null
  hostName: string
  unitCode: number | 0
}

export type PublishProblem = 'title' | 'description' | 'day' | 'time_order' | 'start_in_past' | 'capacity' | 'host' | 'unit' | 'address'

/** Check a publish form and build the request body, or name the first problem (nothing is sent). */
export function publishBody(form: PublishForm, now: Date = new Date()): { body: EventIn } | { problem: PublishProblem } {
  if (!form.title.trim()) return { problem: 'title' }
  if (!form.description.trim()) return { problem: 'description' }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(form.day) || !/^\d{2}:\d{2}$/.test(form.start) || !/^\d{2}:\d{2}$/.test(form.end)) {
    return { problem: 'day' }
  }
  if (form.end <= form.start) return { problem: 'time_order' }
  const starts = daqingInstant(form.day, form.start)
  if (new Date(starts).getTime() <= now.getTime()) return { problem: 'start_in_past' }
  const capacity = Number(form.capacity)
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1000) return { problem: 'capacity' }
  const body: EventIn = {
    kind: form.kind,
    title: form.title.trim(),
    description: form.description.trim(),
    starts_at: starts,
    ends_at: daqingInstant(form.day, form.end),
    capacity,
  }
  if (form.address.trim()) body.address = form.address.trim()
  if (form.institutionId) {
    body.institution_id = form.institutionId
  } else {
    if (!form.hostName.trim()) return { problem: 'host' }
    if (!form.unitCode) return { problem: 'unit' }
    if (!form.address.trim()) return { problem: 'address' }
    body.host_name = form.hostName.trim()
    body.unit_code = form.unitCode
  }
  return { body }
}
