// The dashboard's pure rules: month ranges, the query string, the headline cards, and the ECharts
// options built from an /api/statistics/overview answer. No ECharts import here (options are plain data).
import { buildUrl } from '@/api/client'
import type { QueryOf } from '@/api/http'
import type { AreaFigures, MonthFigures, Overview } from './types'

export const MAX_MONTHS = 36
export const DEFAULT_MONTHS = 12

/** A YYYY-MM month `n` months after `month` (negative: before). */
export function addMonths(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number)
  const total = y * 12 + (m - 1) + n
  return `${Math.floor(total / 12)}-${String((total % 12) + 1).padStart(2, '0')}`
}

/** Months from `from` to `to`, both included (0 or less when `from` is after `to`). */
export function monthCount(from: string, to: string): number {
  const [fy, fm] = from.split('-').map(Number)
  const [ty, tm] = to.split('-').map(Number)
  return (ty - fy) * 12 + (tm - fm) + 1
}

/** This month in Daqing (YYYY-MM). */
export function daqingMonth(now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' })
    .format(now)
    .slice(0, 7)
}

export interface Range {
  from: string
  to: string
}

export function defaultRange(now: Date = new Date()): Range {
  const to = daqingMonth(now)
  return { from: addMonths(to, -(DEFAULT_MONTHS - 1)), to }
}

/** null when the range is fine, else the message key explaining why not. */
export function rangeProblem(r: Range): 'order' | 'tooLong' | null {
  const n = monthCount(r.from, r.to)
  if (n < 1) return 'order'
  if (n > MAX_MONTHS) return 'tooLong'
  return null
}

export function statsQuery(r: Range, unit: string): QueryOf<'/api/statistics/overview'> {
  return { from: r.from, to: r.to, unit: unit ? Number(unit) : undefined }
}

export function csvUrl(r: Range, unit: string): string {
  return buildUrl('/api/statistics/export.csv', statsQuery(r, unit))
}

/** The area the headline figures are about: the city when shown, else the (one) unit asked for. */
export function focusArea(o: Overview, unit: string): AreaFigures | null {
  if (unit) return o.units.find((u) => String(u.unit_code) === unit) ?? null
  return o.city ?? (o.units.length === 1 ? o.units[0] : null)
}

export function lastMonth(area: AreaFigures): MonthFigures | null {
  return area.months.length ? area.months[area.months.length - 1] : null
}

export interface Headline {
  placesPer1000: number
  placesTarget: number
  placesMet: boolean
  /** Units with a demonstration institution, of how many (a single unit: its own count of 1). */
  demonstrationHave: number
  demonstrationOf: number
  demonstrationMet: boolean
  filingRate: number | null
  filed: number
  institutions: number
  places: number
  occupancyPct: number | null
  inclusiveSharePct: number | null
  familiesReached: number | null
  healthRate: number | null
  healthMet: boolean
  healthManaged: number
  healthChildren: number
  healthTarget: number
  guidanceRate: number | null
  guidanceMet: boolean
  guidanceReached: number
  guidanceFamilies: number
  guidanceTarget: number
}

export function headline(o: Overview, area: AreaFigures): Headline | null {
  const m = lastMonth(area)
  if (!m) return null
  const city = area.unit_code === null
  return {
    placesPer1000: m.places_per_1000,
    placesTarget: o.targets.places_per_1000,
    placesMet: m.places_target_met,
    demonstrationHave: city ? (m.units_meeting_demonstration ?? 0) : m.demonstration,
    demonstrationOf: city ? o.units.length : o.targets.demonstration_per_unit,
    demonstrationMet: m.demonstration_met,
    filingRate: m.filing_rate_pct,
    filed: m.filed,
    institutions: m.institutions,
    places: m.places,
    occupancyPct: area.occupancy.occupancy_pct,
    inclusiveSharePct: m.inclusive_share_pct,
    familiesReached: m.families_reached,
    healthRate: m.health_management_rate_pct ?? null,
    healthMet: m.health_management_target_met ?? false,
    healthManaged: m.health_managed ?? 0,
    healthChildren: m.children_under3_in_care ?? 0,
    healthTarget: o.targets.health_management_pct ?? 95,
    guidanceRate: m.guidance_rate_pct ?? null,
    guidanceMet: m.guidance_target_met ?? false,
    guidanceReached: m.guidance_families_reached ?? 0,
    guidanceFamilies: m.guidance_families ?? 0,
    guidanceTarget: o.targets.guidance_pct ?? 95,
  }
}

export type Labeller = (area: AreaFigures) => string
const MET = '#07c160'
const NOT_MET = '#ee0a24'

/** Bar chart: places per 1,000 residents of each unit in the last month, with the target line. */
export function unitBarOption(o: Overview, label: Labeller, targetLabel: string) {
  const rows = o.units.map((u) => ({ name: label(u), m: lastMonth(u) }))
  return {
    grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis' as const },
    xAxis: { type: 'category' as const, data: rows.map((r) => r.name), axisLabel: { rotate: 40, interval: 0 } },
    yAxis: { type: 'value' as const, min: 0, max: (v: { max: number }) => Math.max(v.max, o.targets.places_per_1000) + 0.5 },
    series: [
      {
        type: 'bar' as const,
        data: rows.map((r) => ({
          value: r.m?.places_per_1000 ?? 0,
          itemStyle: { color: r.m?.places_target_met ? MET : NOT_MET },
        })),
        markLine: {
          symbol: 'none',
          lineStyle: { type: 'dashed' as const, color: '#1989fa' },
          label: { position: 'insideEndTop' as const, formatter: `${targetLabel} ${o.targets.places_per_1000}` },
          data: [{ yAxis: o.targets.places_per_1000 }],
        },
      },
    ],
  }
}

export interface TrendLabels {
  placesPer1000: string
  filingRate: string
  inclusiveShare: string
  slotUse: string
  perThousand: string
  percent: string
  target: string
}

/** Monthly trend lines: places per 1,000 (left axis, with the target) and rates in % (right axis). */
export function trendOption(o: Overview, area: AreaFigures, l: TrendLabels) {
  const ms = area.months
  return {
    grid: { left: 8, right: 8, top: 48, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis' as const },
    legend: { top: 0, type: 'scroll' as const },
    xAxis: { type: 'category' as const, data: ms.map((m) => m.month) },
    yAxis: [
      { type: 'value' as const, name: l.perThousand, min: 0, max: (v: { max: number }) => Math.ceil(Math.max(v.max, o.targets.places_per_1000) + 0.5) },
      { type: 'value' as const, name: l.percent, min: 0, max: 100 },
    ],
    series: [
      {
        name: l.placesPer1000,
        type: 'line' as const,
        data: ms.map((m) => m.places_per_1000),
        markLine: {
          symbol: 'none',
          lineStyle: { type: 'dashed' as const },
          label: { position: 'insideEndTop' as const, formatter: `${l.target} ${o.targets.places_per_1000}` },
          data: [{ yAxis: o.targets.places_per_1000 }],
        },
      },
      { name: l.filingRate, type: 'line' as const, yAxisIndex: 1, data: ms.map((m) => m.filing_rate_pct) },
      { name: l.inclusiveShare, type: 'line' as const, yAxisIndex: 1, data: ms.map((m) => m.inclusive_share_pct) },
      { name: l.slotUse, type: 'line' as const, yAxisIndex: 1, data: ms.map((m) => m.slot_use_pct) },
    ],
  }
}

/** Stacked bars: complaints filed each month by category (categories with none in the range left out). */
export function complaintsOption(area: AreaFigures, categoryName: (code: string) => string) {
  const ms = area.months
  const codes = Object.keys(ms[0]?.complaints_by_category ?? {}).filter((c) =>
    ms.some((m) => (m.complaints_by_category[c] ?? 0) > 0),
  )
  return {
    grid: { left: 8, right: 8, top: 48, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis' as const },
    legend: { top: 0, type: 'scroll' as const },
    xAxis: { type: 'category' as const, data: ms.map((m) => m.month) },
    yAxis: { type: 'value' as const, minInterval: 1 },
    series: codes.map((c) => ({
      name: categoryName(c),
      type: 'bar' as const,
      stack: 'complaints',
      data: ms.map((m) => m.complaints_by_category[c] ?? 0),
    })),
  }
}

export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${v}%`
}
