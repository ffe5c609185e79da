// The staff console's pure rules: carer ratios, the actions each application status allows, slot
// grouping, the debounced refresh and the notice form's helpers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  actionBody, actionsFor, cleanOptions, debounceBatch, localInputToIso, percent, ratioCheck, reasonRule, slotsByBand, toLocalInput,
} from '@/views/staff/logic'

describe('carer ratios', () => {
  it('needs one carer per three infants, five toddlers, seven older toddlers', () => {
    expect(ratioCheck({ class_type: 'infant', capacity: 9, carers: 3, enrolled: 9 })).toMatchObject({ requiredNow: 3, breach: false, atCapacityBreach: false })
    expect(ratioCheck({ class_type: 'toddler', capacity: 15, carers: 3, enrolled: 14 })).toMatchObject({ requiredNow: 3, requiredFull: 3, breach: false })
    expect(ratioCheck({ class_type: 'older_toddler', capacity: 20, carers: 2, enrolled: 15 })).toMatchObject({ perCarer: 7, requiredNow: 3, breach: true })
  })
  it('uses the strictest band (1:5) for mixed classes and 1:3 at home-based points', () => {
    expect(ratioCheck({ class_type: 'mixed', capacity: 18, carers: 3, enrolled: 16 }).breach).toBe(true)
    expect(ratioCheck({ class_type: 'mixed', capacity: 5, carers: 1, enrolled: 4 }, true)).toMatchObject({ perCarer: 3, requiredNow: 2, breach: true })
  })
  it('warns when the carers suffice now but not once the class is full', () => {
    const r = ratioCheck({ class_type: 'infant', capacity: 10, carers: 3, enrolled: 6 })
    expect(r).toMatchObject({ breach: false, atCapacityBreach: true, requiredFull: 4 })
  })
  it('an empty class with no carers is no breach', () => {
    expect(ratioCheck({ class_type: 'toddler', capacity: 0, carers: 0, enrolled: 0 })).toMatchObject({ breach: false, atCapacityBreach: false })
  })
  it('gives percentages for progress bars', () => {
    expect(percent(3, 4)).toBe(75)
    expect(percent(5, 4)).toBe(100)
    expect(percent(0, 0)).toBe(0)
    expect(percent(1, 0)).toBe(100)
  })
})

describe('the queue', () => {
  it('offers the actions the API allows per status', () => {
    expect(actionsFor('submitted')).toEqual(['offer', 'waitlist', 'reject', 'priority'])
    expect(actionsFor('waitlisted')).toEqual(['offer', 'reject', 'priority'])
    expect(actionsFor('accepted')).toEqual(['enrol'])
    expect(actionsFor('enrolled')).toEqual(['end'])
    for (const s of ['offered', 'ended', 'rejected', 'withdrawn', 'expired'] as const) expect(actionsFor(s)).toEqual([])
  })
  it('asks for reasons where the API requires them', () => {
    expect(reasonRule('reject')).toBe('required')
    expect(reasonRule('priority')).toBe('required')
    expect(reasonRule('end')).toBe('optional')
    expect(reasonRule('offer')).toBe('none')
    expect(actionBody('reject', '  满员 ', 0)).toEqual({ reason: '满员' })
    expect(actionBody('end', '  ', 0)).toEqual({})
    expect(actionBody('priority', '二孩家庭', 5)).toEqual({ priority: 5, reason: '二孩家庭' })
    expect(actionBody('offer', 'x', 1)).toBeUndefined()
  })
})

describe('slots by band', () => {
  it('groups, orders and totals', () => {
    const out = slotsByBand([
      { band: 'older_toddler', start: '09:00', end: '10:00', capacity: 4, booked: 1 },
      { band: 'toddler', start: '10:00', end: '11:00', capacity: 4, booked: 4 },
      { band: 'toddler', start: '09:00', end: '10:00', capacity: 4, booked: 2 },
    ])
    expect(out.map((b) => b.band)).toEqual(['toddler', 'older_toddler'])
    expect(out[0].slots.map((s) => s.start)).toEqual(['09:00', '10:00'])
    expect(out[0]).toMatchObject({ booked: 6, capacity: 8 })
  })
})

describe('debounced refresh', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())
  it('makes one call per burst, with every item of it', () => {
    const fn = vi.fn()
    const d = debounceBatch<number>(fn, 300)
    d.push(1)
    vi.advanceTimersByTime(200)
    d.push(2)
    vi.advanceTimersByTime(200)
    d.push(3)
    expect(fn).not.toHaveBeenCalled()
    vi.advanceTimersByTime(300)
    expect(fn).toHaveBeenCalledTimes(1)
    expect(fn).toHaveBeenCalledWith([1, 2, 3])
    d.push(4)
    vi.advanceTimersByTime(300)
    expect(fn).toHaveBeenLastCalledWith([4])
  })
  it('cancel drops what is pending; flush sends it at once', () => {
    const fn = vi.fn()
    const d = debounceBatch<string>(fn, 300)
    d.push('a')
    d.cancel()
    vi.advanceTimersByTime(1000)
    expect(fn).not.toHaveBeenCalled()
    d.push('b')
    d.flush()
    expect(fn).toHaveBeenCalledWith(['b'])
    d.flush()
    expect(fn).toHaveBeenCalledTimes(1)
  })
})

describe('notice form helpers', () => {
  it('cleans consultation options', () => {
    expect(cleanOptions([' 杂粮粥 ', '', '蒸蛋羹'])).toEqual(['杂粮粥', '蒸蛋羹'])
    expect(cleanOptions(['a', ''])).toBeNull()
    expect(cleanOptions(['a', 'a'])).toBeNull()
    expect(cleanOptions(Array.from({ length: 11 }, (_, i) => `o${i}`))).toBeNull()
  })
  it('turns datetime-local values into RFC 3339 and back', () => {
    const d = new Date(2026, 10, 28, 9, 30)
    const local = toLocalInput(d)
    expect(local).toBe('2026-11-28T09:30')
    expect(localInputToIso(local)).toBe(d.toISOString())
    expect(localInputToIso('nonsense')).toBeNull()
  })
})
