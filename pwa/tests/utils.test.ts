import { describe, expect, it } from 'vitest'
import { backoffDelay } from '@/utils/backoff'
import { addDays, ageInMonths, daqingToday, distance, yuan } from '@/utils/format'
import { fromDisplay, haversine, toDisplay } from '@/utils/geo'
import { safePath } from '@/utils/paths'
import { buildUrl } from '@/api/client'

describe('geo', () => {
  const tower = { lat: 46.5893, lng: 125.1036 }
  it('moves WGS-84 points onto GCJ-02 tiles by a few hundred metres, and back', () => {
    const shown = toDisplay(tower, 'gcj02')
    const shift = haversine(tower, shown)
    expect(shift).toBeGreaterThan(200)
    expect(shift).toBeLessThan(900)
    const back = fromDisplay(shown, 'gcj02')
    expect(haversine(tower, back)).toBeLessThan(1) // round trip within a metre
  })
  it('leaves points alone on WGS-84 tiles', () => {
    expect(toDisplay(tower, 'wgs84')).toEqual(tower)
  })
})

describe('format', () => {
  it('shows fen as yuan', () => {
    expect(yuan(280000)).toBe('¥2800')
    expect(yuan(4050)).toBe('¥40.50')
    expect(yuan(null)).toBe('—')
  })
  it("takes today's date in Daqing, not UTC", () => {
    expect(daqingToday(new Date('2026-11-28T17:00:00Z'))).toBe('2026-11-29')
    expect(daqingToday(new Date('2026-11-28T15:59:00Z'))).toBe('2026-11-28')
  })
  it('adds days across months and counts whole months of age', () => {
    expect(addDays('2026-11-30', 1)).toBe('2026-12-01')
    expect(ageInMonths('2025-01-31', '2026-01-30')).toBe(11)
    expect(ageInMonths('2025-01-31', '2026-01-31')).toBe(12)
  })
  it('shows distances in metres then kilometres', () => {
    expect(distance(350)).toBe('350 米')
    expect(distance(2345)).toBe('2.3 公里')
  })
})

describe('backoff', () => {
  it('doubles from half a second to at most 30 s, with jitter inside ±20 %', () => {
    expect(backoffDelay(0, () => 0.5)).toBe(500)
    expect(backoffDelay(3, () => 0.5)).toBe(4000)
    expect(backoffDelay(20, () => 0.5)).toBe(30000)
    expect(backoffDelay(20, () => 0)).toBe(24000)
    expect(backoffDelay(20, () => 1)).toBe(36000)
  })
})

describe('paths', () => {
  it('only follows our own paths from messages', () => {
    expect(safePath('/bookings/1')).toBe('/bookings/1')
    expect(safePath('https://evil.example/')).toBe('/')
    expect(safePath('//evil.example/')).toBe('/')
    expect(safePath('/\\evil.example')).toBe('/')
    expect(safePath(undefined)).toBe('/')
  })
})

describe('buildUrl', () => {
  it('drops empty values and repeats arrays', () => {
    expect(buildUrl('/api/x', { a: 1, b: '', c: null, d: ['x', 'y'], e: true })).toBe('/api/x?a=1&d=x&d=y&e=true')
  })
})

import { notificationFor, parsePush } from '@/utils/notification'

describe('push notifications', () => {
  it('show the bilingual title, open our own path, replace older ones for the same subject', () => {
    const spec = notificationFor({
      title: '托育预约：已确认', body: 'Booking confirmed', url: '/bookings/42',
      subject: { type: 'booking', id: '42' }, urgency: 'normal',
    })
    expect(spec.title).toBe('托育预约：已确认')
    expect(spec.options.body).toBe('Booking confirmed')
    expect(spec.options.tag).toBe('booking:42')
    expect(spec.options.data).toEqual({ url: '/bookings/42' })
    expect(spec.options.requireInteraction).toBe(false)
  })
  it('keep urgent ones on screen and never follow a foreign URL', () => {
    const spec = notificationFor({ url: 'https://evil.example/', urgency: 'high' })
    expect(spec.options.data).toEqual({ url: '/' })
    expect(spec.options.requireInteraction).toBe(true)
    expect(spec.title).toBe('大庆托育有新消息')
  })
  it('survive payloads that are not JSON', () => {
    const text = { json: () => { throw new SyntaxError('x') }, text: () => 'plain words' }
    expect(parsePush(text)).toEqual({ title: 'plain words' })
    expect(parsePush(null)).toEqual({})
  })
})
