// The officer console's pure rules: the transitions offered per status, overdue flags and deadlines,
// working days, and the queue's query string.
import { describe, expect, it } from 'vitest'
import { buildUrl } from '@/api/client'
import { canMerge, dueOf, nextStatuses, overdueKind, queueQuery, statusTag, workingDaysBetween } from '@/views/officer/logic'

describe('transitions', () => {
  it('offers the moves the API allows, without duplicate (set by merging)', () => {
    expect(nextStatuses('received')).toEqual(['accepted', 'rejected', 'referred'])
    expect(nextStatuses('accepted')).toEqual(['investigating', 'resolved', 'rejected', 'referred'])
    expect(nextStatuses('investigating')).toEqual(['resolved', 'rejected', 'referred'])
    for (const s of ['resolved', 'rejected', 'duplicate', 'referred'] as const) expect(nextStatuses(s)).toEqual([])
  })
  it('merges only open complaints', () => {
    expect(canMerge('received')).toBe(true)
    expect(canMerge('investigating')).toBe(true)
    expect(canMerge('resolved')).toBe(false)
    expect(canMerge('duplicate')).toBe(false)
  })
  it('colours statuses', () => {
    expect(statusTag('received')).toBe('warning')
    expect(statusTag('resolved')).toBe('success')
    expect(statusTag('referred')).toBe('default')
  })
})

describe('time limits', () => {
  const item = { ack_due_at: '2026-11-30T02:00:00Z', resolve_due_at: '2026-12-18T02:00:00Z' }
  it('shows the limit that matters in each status', () => {
    expect(dueOf({ ...item, status: 'received' })).toEqual({ kind: 'ack', at: item.ack_due_at })
    expect(dueOf({ ...item, status: 'investigating' })).toEqual({ kind: 'resolve', at: item.resolve_due_at })
    expect(dueOf({ ...item, status: 'resolved' })).toBeNull()
  })
  it('names the limit passed', () => {
    expect(overdueKind({ ack_overdue: true, resolve_overdue: true })).toBe('ack')
    expect(overdueKind({ ack_overdue: false, resolve_overdue: true })).toBe('resolve')
    expect(overdueKind({ ack_overdue: false, resolve_overdue: false })).toBeNull()
  })
  it('counts working days in Daqing dates, skipping weekends', () => {
    // Friday 27 Nov 2026, 10:00 in Daqing -> Monday 30 Nov: one working day
    expect(workingDaysBetween('2026-11-27T02:00:00Z', '2026-11-30T02:00:00Z')).toBe(1)
    // 15 working days = three weeks
    expect(workingDaysBetween('2026-11-27T02:00:00Z', '2026-12-18T02:00:00Z')).toBe(15)
    // 23:30 UTC is already the next day in Daqing
    expect(workingDaysBetween('2026-11-29T23:30:00Z', '2026-12-01T02:00:00Z')).toBe(1)
    expect(workingDaysBetween('2026-11-30T02:00:00Z', '2026-11-27T02:00:00Z')).toBe(-1)
    expect(workingDaysBetween('2026-11-27T02:00:00Z', '2026-11-27T09:00:00Z')).toBe(0)
  })
})

describe('queue query', () => {
  const base = { status: '', category: '', unit: '', overdue: false, urgent: '' }
  it('leaves defaults to the API', () => {
    expect(buildUrl('/api/complaints/desk', queueQuery(base, 30, 0))).toBe('/api/complaints/desk?limit=30&offset=0')
  })
  it('sends each filter', () => {
    const url = buildUrl('/api/complaints/desk', queueQuery({ status: 'received', category: 'food_safety', unit: '230602', overdue: true, urgent: 'true' }, 30, 30))
    expect(url).toBe('/api/complaints/desk?status=received&category=food_safety&unit=230602&overdue=true&urgent=true&limit=30&offset=30')
  })
  it('asks for every status with "all"', () => {
    const url = buildUrl('/api/complaints/desk', queueQuery({ ...base, status: 'all' }, 10, 0))
    expect(url.match(/status=/g)?.length).toBe(7)
  })
})
