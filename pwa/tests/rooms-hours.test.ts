import { describe, expect, it } from 'vitest'
import { daysLabel, hoursText, upcomingExceptions, weeklyLines } from '@/views/rooms/hours'

describe('room opening hours', () => {
  it('names runs of weekdays', () => {
    expect(daysLabel([1, 2, 3, 4, 5])).toBe('周一至周五')
    expect(daysLabel([6, 7])).toBe('周六、周日')
    expect(daysLabel([1, 2, 3, 4, 5, 6, 7])).toBe('每天')
    expect(daysLabel([2, 3, 4, 5, 6, 7])).toBe('周二至周日')
    expect(daysLabel([1, 3, 4, 5], true)).toBe('Mon, Wed–Fri')
  })
  it('groups periods with the same days (a lunch break) and shows round-the-clock rooms', () => {
    expect(
      weeklyLines([
        { days: [1, 2, 3, 4, 5], opens: '13:30', closes: '17:00' },
        { days: [1, 2, 3, 4, 5], opens: '08:30', closes: '11:30' },
        { days: [6, 7], opens: '09:00', closes: '12:00' },
      ]),
    ).toEqual([
      { days: '周一至周五', times: '08:30–11:30、13:30–17:00' },
      { days: '周六、周日', times: '09:00–12:00' },
    ])
    expect(hoursText({ opens: '00:00', closes: '24:00' })).toBe('24 小时')
  })
  it('keeps only exceptions from today on', () => {
    const ex = [
      { date: '2027-02-05', closed: true, opens: null, closes: null, note: '除夕' },
      { date: '2026-12-15', closed: true, opens: null, closes: null, note: '检修' },
      { date: '2026-01-01', closed: true, opens: null, closes: null, note: '旧' },
    ]
    expect(upcomingExceptions(ex, '2026-12-01').map((e) => e.date)).toEqual(['2026-12-15', '2027-02-05'])
  })
})
