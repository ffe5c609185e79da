// Pure rules of the care screens (unit-tested in tests/care.test.ts): search filters ↔ the URL and
// the API query, age bands, slot grouping and range selection, price estimates, live updates.
import type { Query } from '@/api/client'
import type { LiveEvent } from '@/api/types'
import { ageInMonths } from '@/utils/format'
import type { LatLng } from '@/utils/geo'
import type {
  Application, ApplicationStatus, Band, Booking, BookingStatus, ClassOut, ModeName, ModeOut, SlotOut,
} from './types'

// ------------------------------------------------------------------------------------------ search filters

export const MODES: ModeName[] = ['full_day', 'half_day', 'hourly', 'temporary']
export const RADII = [1000, 3000, 5000, 10000, 20000] as const
export const DEFAULT_RADIUS = 5000
export type View = 'list' | 'map'
/** Quality assessment grades (WS/T 821-2023), best first; the search asks for "this or better". */
export const GRADES = ['A', 'B', 'C', 'D'] as const
export type Grade = (typeof GRADES)[number]
/** 价格's monthly caps in yuan (the API's max_price: a mode priced per month at most this). The demo's
 *  lowest monthly fees split about 28 / 53 / 69 of 77 at these; 普惠 full days are capped at 1,600. */
export const PRICE_CAPS = [1000, 2000, 3000] as const
/** Modes priced per hour or day: a monthly cap never matches them, so the two exclude each other. */
export const UNMONTHLY_MODES: ModeName[] = ['hourly', 'temporary']

export interface Filters {
  mode: ModeName | null
  /** The child's age in whole months (0-35), or null for any age. */
  age: number | null
  vacancy: boolean
  inclusive: boolean
  /** A monthly fee of at most this many yuan (one of PRICE_CAPS), or null for any price. */
  maxPrice: number | null
  /** Only institutions whose filing (备案) is approved — the ones that can take applications and
   *  bookings. On by default; `filed=0` in the URL turns it off. */
  filed: boolean
  /** Latest published quality grade at least this (A best), or null for any (also unrated). */
  grade: Grade | null
  radius: number
  /** The search centre (WGS-84) when the user located themselves; null means Daqing's centre. */
  lat: number | null
  lng: number | null
  view: View
  /** A name (or address) to look for; '' for any. */
  q: string
}

export function defaultFilters(): Filters {
  return { mode: null, age: null, vacancy: false, inclusive: false, maxPrice: null, filed: true, grade: null, radius: DEFAULT_RADIUS, lat: null, lng: null, view: 'list', q: '' }
}

type RouteQueryValue = string | null | (string | null)[] | undefined
function first(v: RouteQueryValue): string | undefined {
  const s = Array.isArray(v) ? v[0] : v
  return s === null || s === undefined || s === '' ? undefined : s
}
function num(v: RouteQueryValue): number | null {
  const s = first(v)
  if (s === undefined) return null
  const n = Number(s)
  return Number.isFinite(n) ? n : null
}

/** Filters from the route's query string; anything invalid falls back to its default. */
export function filtersFromQuery(q: Record<string, RouteQueryValue>): Filters {
  const f = defaultFilters()
  const mode = first(q.mode)
  if (mode && (MODES as string[]).includes(mode)) f.mode = mode as ModeName
  const age = num(q.age)
  if (age !== null && Number.isInteger(age) && age >= 0 && age <= 35) f.age = age
  f.vacancy = first(q.vacancy) === '1'
  f.inclusive = first(q.inclusive) === '1'
  const price = num(q.price)
  if (price !== null && (PRICE_CAPS as readonly number[]).includes(price)) f.maxPrice = price
  f.filed = first(q.filed) !== '0'
  const grade = first(q.grade)
  if (grade && (GRADES as readonly string[]).includes(grade)) f.grade = grade as Grade
  const radius = num(q.radius)
  if (radius !== null && (RADII as readonly number[]).includes(radius)) f.radius = radius
  const lat = num(q.lat)
  const lng = num(q.lng)
  if (lat !== null && lng !== null && Math.abs(lat) <= 90 && Math.abs(lng) <= 180) {
    f.lat = lat
    f.lng = lng
  }
  if (first(q.view) === 'map') f.view = 'map'
  const name = first(q.q)?.trim()
  if (name) f.q = name.slice(0, 50)
  return f
}

/** The query string for filters: only what differs from the defaults, so plain "/" means defaults. */
export function filtersToQuery(f: Filters): Record<string, string> {
  const q: Record<string, string> = {}
  if (f.mode) q.mode = f.mode
  if (f.age !== null) q.age = String(f.age)
  if (f.vacancy) q.vacancy = '1'
  if (f.inclusive) q.inclusive = '1'
  if (f.maxPrice !== null) q.price = String(f.maxPrice)
  if (!f.filed) q.filed = '0'
  if (f.grade) q.grade = f.grade
  if (f.radius !== DEFAULT_RADIUS) q.radius = String(f.radius)
  if (f.lat !== null && f.lng !== null) {
    q.lat = f.lat.toFixed(5) // about a metre: enough, and keeps the URL (and cache keys) short
    q.lng = f.lng.toFixed(5)
  }
  if (f.view === 'map') q.view = 'map'
  if (f.q) q.q = f.q
  return q
}

/** The GET /api/institutions/nearby query for filters around a centre. */
export function nearbyQuery(f: Filters, centre: LatLng, limit = 20): Query {
  return {
    lat: Number(centre.lat.toFixed(5)),
    lng: Number(centre.lng.toFixed(5)),
    radius_m: f.radius,
    mode: f.mode ?? undefined,
    age_months: f.age ?? undefined,
    vacancy: f.vacancy ? true : undefined,
    inclusive: f.inclusive ? true : undefined,
    max_price: f.maxPrice ?? undefined,
    filed: f.filed ? true : undefined,
    min_grade: f.grade ?? undefined,
    q: f.q || undefined,
    limit,
  }
}

// ------------------------------------------------------------------------------------------ ages and classes

/** The hourly/temporary age band for an age (6-11 infant, 12-23 toddler, 24-35 older toddler). */
export function bandForAge(months: number): Band | null {
  if (months >= 6 && months < 12) return 'infant'
  if (months >= 12 && months < 24) return 'toddler'
  if (months >= 24 && months < 36) return 'older_toddler'
  return null
}

/** The band a child is in on a day (age on the service date, as the API computes it). */
export function childBandOn(birthDate: string, day: string): Band | null {
  return bandForAge(ageInMonths(birthDate, day))
}

/** Classes a child of this age fits (upper bound exclusive, as the national rules are written). */
export function fittingClasses(classes: ClassOut[], ageMonths: number): ClassOut[] {
  return classes.filter((c) => c.age_min_months <= ageMonths && ageMonths < c.age_max_months)
}

export function offers(modes: ModeOut[], ...wanted: ModeName[]): ModeOut[] {
  return modes.filter((m) => wanted.includes(m.mode))
}

// ------------------------------------------------------------------------------------------ days and slots

export function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number)
  return h * 60 + m
}

/** Minutes since midnight now, in Daqing. */
export function daqingNowMinutes(now: Date = new Date()): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hour12: false })
    .formatToParts(now)
  const h = Number(parts.find((p) => p.type === 'hour')?.value ?? 0) % 24
  const m = Number(parts.find((p) => p.type === 'minute')?.value ?? 0)
  return h * 60 + m
}

/** `count` days from `today` (YYYY-MM-DD), today first. */
export function nextDays(today: string, count = 14): string[] {
  const start = new Date(`${today}T00:00:00Z`)
  return Array.from({ length: count }, (_, i) => {
    const d = new Date(start)
    d.setUTCDate(d.getUTCDate() + i)
    return d.toISOString().slice(0, 10)
  })
}

/** ISO weekday (1 = Monday … 7 = Sunday) of a YYYY-MM-DD date. */
export function isoWeekday(day: string): number {
  const d = new Date(`${day}T00:00:00Z`).getUTCDay()
  return d === 0 ? 7 : d
}

export interface SlotView extends SlotOut {
  /** Bookable now: a free place and a start still ahead. */
  open: boolean
  past: boolean
}

/** The day's slots for one band, in time order, each marked bookable or not. */
export function slotsForBand(slots: SlotOut[], band: Band | null, day: string, today: string, nowMinutes: number): SlotView[] {
  if (!band) return []
  return slots
    .filter((s) => s.band === band)
    .sort((a, b) => minutesOf(a.start) - minutesOf(b.start))
    .map((s) => {
      const past = day < today || (day === today && minutesOf(s.start) <= nowMinutes)
      return { ...s, past, open: !past && s.free > 0 }
    })
}

/** A selected run of consecutive slots: indexes into the day's slot list, inclusive. */
export interface Range {
  from: number
  to: number
}

function touching(a: SlotOut, b: SlotOut): boolean {
  return a.end === b.start
}

/**
 * Tapping slot `i`: select it alone; tap the only selected slot to clear; tap the slot right after
 * (or before) the run to extend it; tap an end of a longer run to shorten it; anything else starts
 * a new run at `i`. Closed slots are never selected.
 */
export function tapSlot(range: Range | null, i: number, slots: SlotView[]): Range | null {
  if (!slots[i]?.open) return range
  if (!range) return { from: i, to: i }
  const { from, to } = range
  if (from === to && i === from) return null
  if (i === to + 1 && touching(slots[to], slots[i])) return { from, to: i }
  if (i === from - 1 && touching(slots[i], slots[from])) return { from: i, to }
  if (i === to && to > from) return { from, to: to - 1 }
  if (i === from && to > from) return { from: from + 1, to }
  return { from: i, to: i }
}

export function rangeTimes(range: Range | null, slots: SlotOut[]): { start: string; end: string; minutes: number } | null {
  if (!range || !slots[range.from] || !slots[range.to]) return null
  const start = slots[range.from].start
  const end = slots[range.to].end
  return { start, end, minutes: minutesOf(end) - minutesOf(start) }
}

export const HOURLY_MAX_MINUTES = 240
export const TEMPORARY_MIN_MINUTES = 180
export const WHOLE_DAY_MINUTES = 360

/** Why a duration does not suit a mode (the API's rule), or null when it does. */
export function durationProblem(mode: 'hourly' | 'temporary', minutes: number): 'tooLong' | 'tooShort' | null {
  if (mode === 'hourly' && minutes > HOURLY_MAX_MINUTES) return 'tooLong'
  if (mode === 'temporary' && minutes < TEMPORARY_MIN_MINUTES) return 'tooShort'
  return null
}

/** The price the API will charge (bookings/service.py `_price`), in fen. */
export function estimatePrice(mode: ModeOut, minutes: number): number {
  if (mode.price_unit === 'hour') return Math.ceil((mode.price_fen * minutes) / 60)
  if (mode.price_unit === 'half_day') return mode.price_fen * (minutes >= WHOLE_DAY_MINUTES ? 2 : 1)
  return minutes >= WHOLE_DAY_MINUTES ? mode.price_fen : Math.ceil(mode.price_fen / 2)
}

// ------------------------------------------------------------------------------------------ bookings, applications

const BOOKING_STATUSES: BookingStatus[] = ['booked', 'cancelled', 'attended', 'no_show']
const APPLICATION_STATUSES: ApplicationStatus[] = [
  'submitted', 'waitlisted', 'offered', 'accepted', 'enrolled', 'ended', 'rejected', 'withdrawn', 'expired',
]
export const ACTIVE_APPLICATION: ApplicationStatus[] = ['submitted', 'waitlisted', 'offered', 'accepted', 'enrolled']

/** The new status a live event carries for a subject, or null when the event is about something else. */
export function eventStatus(e: LiveEvent, type: 'booking', id: string): BookingStatus | null
export function eventStatus(e: LiveEvent, type: 'application', id: string): ApplicationStatus | null
export function eventStatus(e: LiveEvent, type: 'booking' | 'application', id: string): string | null {
  if (e.subject?.type !== type || e.subject.id !== id) return null
  const status = typeof e.data?.status === 'string' ? e.data.status : e.event.split('.').pop() ?? ''
  const known: string[] = type === 'booking' ? BOOKING_STATUSES : APPLICATION_STATUSES
  return known.includes(status) ? status : null
}

/** Rows with the one a live event is about given its new status (same array when nothing changes). */
export function applyEvent<T extends Booking | Application>(rows: T[], e: LiveEvent, type: 'booking' | 'application'): T[] {
  let changed = false
  const next = rows.map((row) => {
    const status = eventStatus(e, type as 'booking', row.id) as string | null
    if (!status || status === row.status) return row
    changed = true
    return { ...row, status } as T
  })
  return changed ? next : rows
}

export function canCancel(b: Booking, now: Date = new Date()): boolean {
  return b.status === 'booked' && now.getTime() < new Date(b.cancellable_until).getTime()
}

export function canAccept(a: Application): boolean {
  return a.status === 'offered'
}

export function canWithdraw(a: Application): boolean {
  return ACTIVE_APPLICATION.includes(a.status)
}

/** Upcoming bookings first (soonest first), then the past ones (latest first). */
export function sortBookings(rows: Booking[], today: string): Booking[] {
  const key = (b: Booking) => `${b.day} ${b.start}`
  const upcoming = rows.filter((b) => b.day >= today && b.status === 'booked').sort((a, b) => key(a).localeCompare(key(b)))
  const rest = rows.filter((b) => !upcoming.includes(b)).sort((a, b) => key(b).localeCompare(key(a)))
  return [...upcoming, ...rest]
}

/** ISO weekdays grouped into runs: [1,2,3,4,5,7] → [[1,5],[7,7]]. */
export function dayRuns(days: number[]): [number, number][] {
  const sorted = [...new Set(days)].sort((a, b) => a - b)
  const runs: [number, number][] = []
  for (const d of sorted) {
    const last = runs[runs.length - 1]
    if (last && d === last[1] + 1) last[1] = d
    else runs.push([d, d])
  }
  return runs
}
