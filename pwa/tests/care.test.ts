import { describe, expect, it } from 'vitest'
import type { LiveEvent } from '@/api/types'
import {
  applyEvent, bandForAge, canAccept, canCancel, canWithdraw, childBandOn, daqingNowMinutes, dayRuns, defaultFilters,
  durationProblem, estimatePrice, eventStatus, filtersFromQuery, filtersToQuery, fittingClasses, isoWeekday, nearbyQuery,
  nextDays, rangeTimes, slotsForBand, sortBookings, tapSlot, type SlotView,
} from '@/views/care/logic'
import type { Application, Booking, ClassOut, ModeOut, SlotOut } from '@/views/care/types'

describe('search filters', () => {
  it('round-trips through the query string, leaving defaults out', () => {
    expect(filtersToQuery(defaultFilters())).toEqual({})
    const f = { ...defaultFilters(), mode: 'hourly' as const, age: 26, vacancy: true, inclusive: true, maxPrice: 2000, radius: 10000, lat: 46.63, lng: 125.11, view: 'map' as const, q: '阳光' }
    const q = filtersToQuery(f)
    expect(q).toEqual({ mode: 'hourly', age: '26', vacancy: '1', inclusive: '1', price: '2000', radius: '10000', lat: '46.63000', lng: '125.11000', view: 'map', q: '阳光' })
    expect(filtersFromQuery(q)).toEqual(f)
  })
  it('ignores invalid values in the URL', () => {
    const f = filtersFromQuery({ mode: 'nightly', age: '40', radius: '7', lat: '91', lng: '10', view: 'globe', vacancy: 'yes', price: '1999' })
    expect(f).toEqual(defaultFilters())
    expect(filtersFromQuery({ age: ['3', '9'] }).age).toBe(3)
    expect(filtersFromQuery({ age: '2.5' }).age).toBeNull()
    expect(filtersFromQuery({ price: 'abc' }).maxPrice).toBeNull()
    expect(filtersFromQuery({ price: '3000' }).maxPrice).toBe(3000)
  })
  it('maps to the nearby API query, sending only chosen filters', () => {
    const base = nearbyQuery(defaultFilters(), { lat: 46.630001234, lng: 125.11 })
    expect(base).toEqual({ lat: 46.63, lng: 125.11, radius_m: 5000, mode: undefined, age_months: undefined, vacancy: undefined, inclusive: undefined, filed: true, limit: 20 })
    // Filed only is the default (institutions that can take applications); filed=0 turns it off.
    expect(filtersToQuery(defaultFilters())).toEqual({})
    const all = filtersFromQuery({ filed: '0' })
    expect(all.filed).toBe(false)
    expect(filtersToQuery(all)).toEqual({ filed: '0' })
    expect(nearbyQuery(all, { lat: 46.6, lng: 125.1 }).filed).toBeUndefined()
    const q = nearbyQuery({ ...defaultFilters(), mode: 'full_day', age: 0, vacancy: true }, { lat: 46.6, lng: 125.1 })
    expect(q).toMatchObject({ mode: 'full_day', age_months: 0, vacancy: true, inclusive: undefined, max_price: undefined })
    // The monthly cap goes to the API as max_price (yuan).
    expect(nearbyQuery({ ...defaultFilters(), maxPrice: 1000 }, { lat: 46.6, lng: 125.1 }).max_price).toBe(1000)
    // A name search goes to the API as q; blank is no filter.
    expect(nearbyQuery({ ...defaultFilters(), q: '萨尔图' }, { lat: 46.6, lng: 125.1 }).q).toBe('萨尔图')
    expect(filtersFromQuery({ q: '  ' }).q).toBe('')
  })
})

describe('ages and classes', () => {
  it('puts ages in the hourly-care bands', () => {
    expect(bandForAge(5)).toBeNull()
    expect(bandForAge(6)).toBe('infant')
    expect(bandForAge(11)).toBe('infant')
    expect(bandForAge(12)).toBe('toddler')
    expect(bandForAge(24)).toBe('older_toddler')
    expect(bandForAge(35)).toBe('older_toddler')
    expect(bandForAge(36)).toBeNull()
    expect(childBandOn('2024-05-20', '2025-05-19')).toBe('infant') // 11 months, a day short of 12
    expect(childBandOn('2024-05-20', '2025-05-20')).toBe('toddler')
  })
  it('finds the classes a child fits (upper bound exclusive)', () => {
    const cls = (id: string, min: number, max: number) => ({ id, age_min_months: min, age_max_months: max }) as ClassOut
    const classes = [cls('a', 6, 12), cls('b', 12, 24), cls('m', 18, 36)]
    expect(fittingClasses(classes, 12).map((c) => c.id)).toEqual(['b'])
    expect(fittingClasses(classes, 20).map((c) => c.id)).toEqual(['b', 'm'])
    expect(fittingClasses(classes, 36)).toEqual([])
  })
})

describe('days', () => {
  it('lists the next fourteen days across a month end', () => {
    const days = nextDays('2026-01-25', 14)
    expect(days).toHaveLength(14)
    expect(days[0]).toBe('2026-01-25')
    expect(days[7]).toBe('2026-02-01')
    expect(days[13]).toBe('2026-02-07')
  })
  it('knows ISO weekdays and groups runs of days', () => {
    expect(isoWeekday('2026-06-01')).toBe(1) // a Monday
    expect(isoWeekday('2026-06-07')).toBe(7)
    expect(dayRuns([5, 1, 2, 3, 4, 7])).toEqual([[1, 5], [7, 7]])
  })
  it("reads the clock in Daqing's time zone", () => {
    expect(daqingNowMinutes(new Date('2026-06-01T01:30:00Z'))).toBe(9 * 60 + 30)
    expect(daqingNowMinutes(new Date('2026-06-01T16:05:00Z'))).toBe(5)
  })
})

const slot = (start: string, end: string, free = 2, band: SlotOut['band'] = 'toddler'): SlotOut => ({
  id: `${band}-${start}`, band, start, end, capacity: 4, booked: 4 - free, free,
})

describe('slots', () => {
  const raw = [
    slot('10:00', '11:00'), slot('08:00', '09:00'), slot('09:00', '10:00', 0), slot('11:00', '12:00'),
    slot('13:00', '14:00'), slot('08:00', '09:00', 3, 'older_toddler'),
  ]
  it("keeps the child's band, in time order, closing full and past slots", () => {
    const today = slotsForBand(raw, 'toddler', '2026-06-01', '2026-06-01', 8 * 60 + 30)
    expect(today.map((s) => s.start)).toEqual(['08:00', '09:00', '10:00', '11:00', '13:00'])
    expect(today.map((s) => s.open)).toEqual([false, false, true, true, true])
    expect(today[0].past).toBe(true)
    const tomorrow = slotsForBand(raw, 'toddler', '2026-06-02', '2026-06-01', 23 * 60)
    expect(tomorrow[0].open).toBe(true)
    expect(slotsForBand(raw, null, '2026-06-02', '2026-06-01', 0)).toEqual([])
  })
  it('selects runs of consecutive open slots', () => {
    const s = slotsForBand(raw, 'toddler', '2026-06-02', '2026-06-01', 0) as SlotView[]
    // 0 08-09, 1 09-10 (full), 2 10-11, 3 11-12, 4 13-14
    let r = tapSlot(null, 2, s)
    expect(r).toEqual({ from: 2, to: 2 })
    r = tapSlot(r, 3, s) // extend forward
    expect(r).toEqual({ from: 2, to: 3 })
    expect(rangeTimes(r, s)).toEqual({ start: '10:00', end: '12:00', minutes: 120 })
    expect(tapSlot(r, 1, s)).toEqual(r) // a full slot is not selectable
    expect(tapSlot(r, 4, s)).toEqual({ from: 4, to: 4 }) // 12:00-13:00 is a gap: start again
    expect(tapSlot(r, 3, s)).toEqual({ from: 2, to: 2 }) // shorten from the end
    expect(tapSlot(r, 2, s)).toEqual({ from: 3, to: 3 }) // shorten from the start
    expect(tapSlot({ from: 3, to: 3 }, 2, s)).toEqual({ from: 2, to: 3 }) // extend backwards
    expect(tapSlot({ from: 2, to: 2 }, 2, s)).toBeNull() // tap again to clear
    expect(rangeTimes(null, s)).toBeNull()
  })
  it('checks durations and estimates prices as the API does', () => {
    expect(durationProblem('hourly', 240)).toBeNull()
    expect(durationProblem('hourly', 300)).toBe('tooLong')
    expect(durationProblem('temporary', 120)).toBe('tooShort')
    expect(durationProblem('temporary', 180)).toBeNull()
    const mode = (price_unit: ModeOut['price_unit'], price_fen: number) => ({ mode: 'hourly', mode_zh: '', price_unit, price_fen }) as ModeOut
    expect(estimatePrice(mode('hour', 4000), 90)).toBe(6000)
    expect(estimatePrice(mode('hour', 3333), 30)).toBe(1667)
    expect(estimatePrice(mode('half_day', 8000), 180)).toBe(8000)
    expect(estimatePrice(mode('half_day', 8000), 360)).toBe(16000)
    expect(estimatePrice(mode('day', 15001), 240)).toBe(7501)
    expect(estimatePrice(mode('day', 15000), 480)).toBe(15000)
  })
})

const booking = (id: string, day: string, start: string, status: Booking['status'] = 'booked') =>
  ({ id, day, start, end: start, status, cancellable_until: '2026-06-01T08:00:00Z' }) as Booking
const event = (type: string, id: string, status: string): LiveEvent => ({
  type: 'event', id: 1, event: `${type}.${status}`, category: 'care', urgency: 'normal', at: '', subject: { type, id },
  title_zh: '', title: '', url: `/${type}s/${id}`, data: { status },
})

describe('live updates', () => {
  it('reads the status an event carries for the subject it names', () => {
    expect(eventStatus(event('booking', 'b1', 'cancelled'), 'booking', 'b1')).toBe('cancelled')
    expect(eventStatus(event('booking', 'b1', 'cancelled'), 'booking', 'b2')).toBeNull()
    expect(eventStatus(event('application', 'b1', 'offered'), 'booking', 'b1')).toBeNull()
    expect(eventStatus(event('booking', 'b1', 'exploded'), 'booking', 'b1')).toBeNull()
    const noData = { ...event('application', 'a1', 'x'), event: 'application.offered', data: {} }
    expect(eventStatus(noData, 'application', 'a1')).toBe('offered')
  })
  it('updates only the row the event is about', () => {
    const rows = [booking('b1', '2026-06-02', '09:00'), booking('b2', '2026-06-03', '09:00')]
    const next = applyEvent(rows, event('booking', 'b2', 'attended'), 'booking')
    expect(next.map((b) => b.status)).toEqual(['booked', 'attended'])
    expect(next[0]).toBe(rows[0])
    expect(applyEvent(rows, event('booking', 'zz', 'cancelled'), 'booking')).toBe(rows)
  })
})

describe('actions', () => {
  it('allows cancelling a booked visit until its cut-off', () => {
    const b = booking('b', '2026-06-01', '10:00')
    expect(canCancel(b, new Date('2026-06-01T07:59:00Z'))).toBe(true)
    expect(canCancel(b, new Date('2026-06-01T08:00:00Z'))).toBe(false)
    expect(canCancel({ ...b, status: 'cancelled' }, new Date('2026-05-01T00:00:00Z'))).toBe(false)
  })
  it('offers accept on offers and withdraw while an application is in play', () => {
    const a = (status: Application['status']) => ({ status }) as Application
    expect(canAccept(a('offered'))).toBe(true)
    expect(canAccept(a('submitted'))).toBe(false)
    expect(['submitted', 'waitlisted', 'offered', 'accepted', 'enrolled'].every((s) => canWithdraw(a(s as Application['status'])))).toBe(true)
    expect(canWithdraw(a('rejected'))).toBe(false)
    expect(canWithdraw(a('withdrawn'))).toBe(false)
  })
  it('lists upcoming bookings soonest first, then the rest latest first', () => {
    const rows = [
      booking('past', '2026-05-20', '09:00', 'attended'),
      booking('later', '2026-06-05', '09:00'),
      booking('soon', '2026-06-02', '10:00'),
      booking('gone', '2026-06-03', '09:00', 'cancelled'),
    ]
    expect(sortBookings(rows, '2026-06-01').map((b) => b.id)).toEqual(['soon', 'later', 'gone', 'past'])
  })
})
