import { afterEach, describe, expect, it } from 'vitest'
import { ApiError, errorText } from '@/api/client'
import { dateTime, dayOnly, daySlot, timeOnly, timeRange } from '@/utils/format'

const NOW = new Date('2026-12-07T03:00:00Z') // 7 Dec 2026 in Daqing

describe('the one friendly date format', () => {
  afterEach(() => document.documentElement.setAttribute('lang', ''))

  it('writes month, day, weekday and a 24-hour time in Daqing time (zh-CN)', () => {
    // 00:30 UTC on 9 Dec is 08:30 in Daqing, a Wednesday
    expect(dateTime('2026-12-09T00:30:00Z', 'zh-CN', NOW)).toBe('12月9日 周三 08:30')
    // 16:30 UTC on 9 Dec is already 10 Dec in Daqing
    expect(dateTime('2026-12-09T16:30:00Z', 'zh-CN', NOW)).toBe('12月10日 周四 00:30')
    expect(timeOnly('2026-12-09T00:30:00Z')).toBe('08:30')
  })

  it('adds the year only when it is not this year', () => {
    expect(dateTime('2025-12-09T00:00:00Z', 'zh-CN', NOW)).toBe('2025年12月9日 周二 08:00')
    expect(dayOnly('2027-01-04', 'zh-CN', NOW)).toBe('2027年1月4日 周一')
  })

  it('writes spans with an en dash, the day once', () => {
    expect(timeRange('2026-12-09T00:00:00Z', '2026-12-09T01:00:00Z', 'zh-CN', NOW)).toBe('12月9日 周三 08:00–09:00')
    expect(daySlot('2026-12-09', '08:00:00', '09:00', 'zh-CN', NOW)).toBe('12月9日 周三 08:00–09:00')
    expect(timeRange('2026-12-09T15:00:00Z', '2026-12-09T17:00:00Z', 'zh-CN', NOW)).toBe('12月9日 周三 23:00 – 12月10日 周四 01:00')
  })

  it('follows the app language by default', () => {
    document.documentElement.setAttribute('lang', 'en')
    expect(dateTime('2026-12-09T00:30:00Z', undefined, NOW)).toBe('Wed 9 Dec 08:30')
    document.documentElement.setAttribute('lang', 'zh-CN')
    expect(dateTime('2026-12-09T00:30:00Z', undefined, NOW)).toBe('12月9日 周三 08:30')
  })
})

describe('error messages', () => {
  afterEach(() => document.documentElement.setAttribute('lang', ''))

  it('are Chinese only in zh-CN, the machine code on a details line', () => {
    document.documentElement.setAttribute('lang', 'zh-CN')
    const err = new ApiError(404, 'complaint_not_found', 'complaint not found', '未找到与该查询码对应的投诉')
    expect(errorText(err)).toBe('未找到与该查询码对应的投诉\n错误代码：complaint_not_found')
    expect(errorText(err).split('\n')[0]).not.toMatch(/[A-Za-z]/)
    expect(errorText(new ApiError(0, 'network', 'The network is unreachable', '网络不可用，请检查网络连接'))).toBe('网络不可用，请检查网络连接')
    expect(errorText(new Error('boom'))).toBe('出错了，请稍后再试')
  })

  it('are English only in English', () => {
    document.documentElement.setAttribute('lang', 'en')
    const err = new ApiError(404, 'complaint_not_found', 'complaint not found', '未找到与该查询码对应的投诉')
    expect(errorText(err)).toBe('complaint not found\nCode: complaint_not_found')
  })
})
