import { describe, expect, it } from 'vitest'
import {
  canCancelEvent,
  canMarkAttendance,
  daqingInstant,
  listQuery,
  placesState,
  publishBody,
  sortRegistrations,
  type PublishForm,
} from '@/views/guidance/logic'
import type { Registration } from '@/views/guidance/types'

const NOW = new Date('2026-12-02T08:00:00Z') // 16:00 in Daqing

function form(over: Partial<PublishForm> = {}): PublishForm {
  return {
    kind: 'parent_class',
    title: ' 辅食添加家长课堂 ',
    description: '讲解要点',
    day: '2026-12-09',
    start: '09:30',
    end: '11:00',
    capacity: '20',
    address: '',
    institutionId: 'inst-1',
    hostName: '',
    unitCode: 0,
    ...over,
  }
}

describe('guidance list', () => {
  it('builds the page query, leaving out empty filters', () => {
    expect(listQuery({ kind: '', unit: 0 })).toEqual({ kind: undefined, unit: undefined, limit: 20, offset: 0 })
    expect(listQuery({ kind: 'home_visit', unit: 230621 }, 40)).toEqual({ kind: 'home_visit', unit: 230621, limit: 20, offset: 40 })
  })

  it('shows places as open, few, full or closed', () => {
    const e = { capacity: 30, places_left: 20, open_for_registration: true, status: 'published' as const }
    expect(placesState(e)).toBe('open')
    expect(placesState({ ...e, places_left: 3 })).toBe('few')
    expect(placesState({ ...e, capacity: 100, places_left: 15 })).toBe('few')
    expect(placesState({ ...e, places_left: 0, open_for_registration: false })).toBe('full')
    expect(placesState({ ...e, open_for_registration: false })).toBe('closed')
    expect(placesState({ ...e, status: 'cancelled' })).toBe('closed')
  })
})

describe('hosting rules', () => {
  const upcoming = { starts_at: '2026-12-02T09:00:00Z', status: 'published' as const }
  const started = { starts_at: '2026-12-02T07:59:00Z', status: 'published' as const }
  it('marks attendance from the start on, never for cancelled registrations or events', () => {
    expect(canMarkAttendance(upcoming, { status: 'registered' }, NOW)).toBe(false)
    expect(canMarkAttendance(started, { status: 'registered' }, NOW)).toBe(true)
    expect(canMarkAttendance(started, { status: 'no_show' }, NOW)).toBe(true)
    expect(canMarkAttendance(started, { status: 'cancelled' }, NOW)).toBe(false)
    expect(canMarkAttendance({ ...started, status: 'cancelled' }, { status: 'registered' }, NOW)).toBe(false)
  })
  it('cancels only published events that have not started', () => {
    expect(canCancelEvent(upcoming, NOW)).toBe(true)
    expect(canCancelEvent(started, NOW)).toBe(false)
    expect(canCancelEvent({ ...upcoming, status: 'cancelled' }, NOW)).toBe(false)
  })
})

describe('my registrations', () => {
  const reg = (id: string, status: Registration['status'], starts: string) =>
    ({ id, status, event: { starts_at: starts } }) as unknown as Registration
  it('lists upcoming live registrations first (soonest first), then the rest (latest first)', () => {
    const rows = [
      reg('past-old', 'attended', '2026-10-01T01:00:00Z'),
      reg('later', 'registered', '2026-12-20T01:00:00Z'),
      reg('cancelled-soon', 'cancelled', '2026-12-05T01:00:00Z'),
      reg('soon', 'registered', '2026-12-04T01:00:00Z'),
      reg('past-new', 'no_show', '2026-11-20T01:00:00Z'),
    ]
    expect(sortRegistrations(rows, NOW).map((r) => r.id)).toEqual(['soon', 'later', 'cancelled-soon', 'past-new', 'past-old'])
  })
})

describe('publishing', () => {
  it('sends Daqing local times with their offset and trims text', () => {
    expect(daqingInstant('2026-12-09', '09:30')).toBe('2026-12-09T09:30:00+08:00')
    const result = publishBody(form(), NOW)
    expect(result).toEqual({
      body: {
        kind: 'parent_class',
        title: '辅食添加家长课堂',
        description: '讲解要点',
        starts_at: '2026-12-09T09:30:00+08:00',
        ends_at: '2026-12-09T11:00:00+08:00',
        capacity: 20,
        institution_id: 'inst-1',
      },
    })
  })

  it('names the first problem and sends nothing', () => {
    expect(publishBody(form({ title: '  ' }), NOW)).toEqual({ problem: 'title' })
    expect(publishBody(form({ end: '09:00' }), NOW)).toEqual({ problem: 'time_order' })
    expect(publishBody(form({ day: '2026-12-02', start: '15:00', end: '16:30' }), NOW)).toEqual({ problem: 'start_in_past' })
    expect(publishBody(form({ day: '' }), NOW)).toEqual({ problem: 'day' })
    for (const capacity of ['0', '-1', '2.5', '', '1001']) {
      expect(publishBody(form({ capacity }), NOW)).toEqual({ problem: 'capacity' })
    }
  })

  it('a health-centre event needs a host name, a district and an address', () => {
    const centre = form({ institutionId: null })
    expect(publishBody(centre, NOW)).toEqual({ problem: 'host' })
    expect(publishBody({ ...centre, hostName: '萨尔图区妇幼保健计划生育服务中心' }, NOW)).toEqual({ problem: 'unit' })
    expect(publishBody({ ...centre, hostName: '中心', unitCode: 230602 }, NOW)).toEqual({ problem: 'address' })
    const ok = publishBody({ ...centre, hostName: '中心', unitCode: 230602, address: '中央大街1号' }, NOW)
    expect(ok).toMatchObject({ body: { host_name: '中心', unit_code: 230602, address: '中央大街1号' } })
    expect('body' in ok && ok.body.institution_id).toBeFalsy()
  })
})
