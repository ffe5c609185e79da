// The statistics dashboard's pure rules: month ranges, the query string and CSV link, the headline
// cards and the chart options built from an overview.
import { describe, expect, it } from 'vitest'
import {
  addMonths,
  complaintsOption,
  csvUrl,
  defaultRange,
  focusArea,
  headline,
  monthCount,
  rangeProblem,
  statsQuery,
  trendOption,
  unitBarOption,
} from '@/views/stats/logic'
import type { AreaFigures, MonthFigures, Overview } from '@/views/stats/types'

function month(m: string, over: Partial<MonthFigures> = {}): MonthFigures {
  return {
    month: m, institutions: 2, home_based: 0, kindergarten_class: 0, inclusive_institutions: 1, demonstration: 1,
    demonstration_met: true, units_meeting_demonstration: null, places: 45,
    places_by_class_type: { infant: 10, toddler: 15, older_toddler: 20, mixed: 0 }, inclusive_places: 25,
    inclusive_share_pct: 55.6, population: 10000, places_per_1000: 4.5, places_target_met: true, filed: 1,
    filing_rate_pct: 50, slot_capacity: 4, slot_booked: 3, slot_use_pct: 75, complaints: 2,
    complaints_by_category: { food_safety: 1, fire_safety: 1, other: 0 }, complaints_resolved: 1,
    median_resolution_hours: 30, families_reached: null, children_under3_in_care: 20, health_managed: 19,
    health_management_rate_pct: 95, health_management_target_met: true, guidance_families: 20,
    guidance_families_reached: 10, guidance_rate_pct: 50, guidance_target_met: false, ...over,
  }
}

function area(code: number | null, months: MonthFigures[]): AreaFigures {
  return {
    unit_code: code, name_zh: code ? `县${code}` : '大庆市', name_en: code ? `U${code}` : 'Daqing', population: 10000,
    occupancy: { places: 45, places_taken: 20, occupancy_pct: 44.4 }, months,
  }
}

const A = area(230621, [month('2025-01', { places_per_1000: 2.5, places_target_met: false }), month('2025-02')])
const B = area(230622, [
  month('2025-01', { demonstration: 0, demonstration_met: false, places_per_1000: 1 , places_target_met: false}),
  month('2025-02', { demonstration: 0, demonstration_met: false, places_per_1000: 1, places_target_met: false }),
])
const CITY = area(null, [
  month('2025-01', { units_meeting_demonstration: 1, demonstration_met: false }),
  month('2025-02', { units_meeting_demonstration: 1, demonstration_met: false, places_per_1000: 2.17, places_target_met: false }),
])
const overview: Overview = {
  from_month: '2025-01', to_month: '2025-02', months: ['2025-01', '2025-02'], timezone: 'Asia/Shanghai',
  generated_at: '2026-12-02T00:00:00Z', targets: { places_per_1000: 4.5, demonstration_per_unit: 1, health_management_pct: 95, guidance_pct: 95 },
  units: [A, B], city: CITY, notes: [],
}

describe('month ranges', () => {
  it('adds months across years', () => {
    expect(addMonths('2025-01', -1)).toBe('2024-12')
    expect(addMonths('2024-12', 1)).toBe('2025-01')
    expect(addMonths('2026-12', -11)).toBe('2026-01')
    expect(monthCount('2025-01', '2025-01')).toBe(1)
    expect(monthCount('2024-01', '2026-12')).toBe(36)
  })
  it('defaults to the last 12 months in Daqing time', () => {
    // 1 January 2027 00:30 in Daqing is still 31 December 2026 in UTC
    expect(defaultRange(new Date('2026-12-31T16:30:00Z'))).toEqual({ from: '2026-02', to: '2027-01' })
    expect(defaultRange(new Date('2026-12-31T15:30:00Z'))).toEqual({ from: '2026-01', to: '2026-12' })
  })
  it('refuses a backwards or too long range', () => {
    expect(rangeProblem({ from: '2025-03', to: '2025-01' })).toBe('order')
    expect(rangeProblem({ from: '2024-01', to: '2026-12' })).toBeNull()
    expect(rangeProblem({ from: '2023-12', to: '2026-12' })).toBe('tooLong')
  })
  it('builds the query and the CSV link', () => {
    expect(statsQuery({ from: '2025-01', to: '2025-03' }, '')).toEqual({ from: '2025-01', to: '2025-03', unit: undefined })
    expect(csvUrl({ from: '2025-01', to: '2025-03' }, '')).toBe('/api/statistics/export.csv?from=2025-01&to=2025-03')
    expect(csvUrl({ from: '2025-01', to: '2025-03' }, '230621')).toBe(
      '/api/statistics/export.csv?from=2025-01&to=2025-03&unit=230621',
    )
  })
})

describe('headline cards', () => {
  it('shows the city against the targets, from the last month', () => {
    expect(focusArea(overview, '')).toBe(CITY)
    const h = headline(overview, CITY)!
    expect(h.placesPer1000).toBe(2.17)
    expect(h.placesMet).toBe(false)
    expect([h.demonstrationHave, h.demonstrationOf, h.demonstrationMet]).toEqual([1, 2, false])
    expect([h.filingRate, h.filed, h.institutions]).toEqual([50, 1, 2])
  })
  it('shows one unit when asked, or the only one an officer sees', () => {
    expect(focusArea(overview, '230622')).toBe(B)
    expect(focusArea({ ...overview, units: [A], city: null }, '')).toBe(A)
    const h = headline(overview, A)!
    expect([h.placesPer1000, h.placesMet, h.demonstrationHave, h.demonstrationOf]).toEqual([4.5, true, 1, 1])
  })
})

describe('chart options', () => {
  it('bars each unit with the 4.5 target line, coloured met / not met', () => {
    const o = unitBarOption(overview, (a) => a.name_zh, '目标')
    expect(o.xAxis.data).toEqual(['县230621', '县230622'])
    expect(o.series[0].data.map((d) => d.value)).toEqual([4.5, 1])
    expect(o.series[0].data[0].itemStyle.color).not.toBe(o.series[0].data[1].itemStyle.color)
    expect(o.series[0].markLine.data).toEqual([{ yAxis: 4.5 }])
    expect(o.yAxis.max({ max: 1 })).toBe(5)
  })
  it('draws monthly trends on two axes', () => {
    const labels = {
      placesPer1000: 'p', filingRate: 'f', inclusiveShare: 'i', slotUse: 's', perThousand: '‰', percent: '%', target: 't',
    }
    const o = trendOption(overview, A, labels)
    expect(o.xAxis.data).toEqual(['2025-01', '2025-02'])
    expect(o.series.map((s) => s.name)).toEqual(['p', 'f', 'i', 's'])
    expect(o.series[0].data).toEqual([2.5, 4.5])
    expect(o.series[1].yAxisIndex).toBe(1)
    const left = o.yAxis[0] as { max: (v: { max: number }) => number }
    expect(left.max({ max: 2.5 })).toBe(5) // the 4.5 target line stays in view
  })
  it('stacks complaints by category, leaving out empty categories', () => {
    const o = complaintsOption(A, (c) => c.toUpperCase())
    expect(o.series.map((s) => s.name)).toEqual(['FOOD_SAFETY', 'FIRE_SAFETY'])
    expect(o.series[0].data).toEqual([1, 1])
    expect(o.series.every((s) => s.stack === 'complaints')).toBe(true)
  })
})
