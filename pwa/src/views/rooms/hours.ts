// Opening hours for display: weekday groups ("周一至周五 08:30–17:00") and the dated exceptions ahead.
import type { HoursException, WeeklyHours } from './types'

const ZH = ['周一', '周二', '周三', '周四', '周五', '周六', '周日']
const EN = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']

/** ISO weekdays (1 = Monday) as runs: [1,2,3,4,5] → 周一至周五; every day → 每天. */
export function daysLabel(days: number[], en = false): string {
  const names = en ? EN : ZH
  const sorted = [...new Set(days)].filter((d) => d >= 1 && d <= 7).sort((a, b) => a - b)
  if (sorted.length === 7) return en ? 'Daily' : '每天'
  const runs: number[][] = []
  for (const d of sorted) {
    const last = runs[runs.length - 1]
    if (last && last[last.length - 1] === d - 1) last.push(d)
    else runs.push([d])
  }
  return runs
    .map((r) =>
      r.length >= 3
        ? `${names[r[0] - 1]}${en ? '–' : '至'}${names[r[r.length - 1] - 1]}`
        : r.map((d) => names[d - 1]).join(en ? ', ' : '、'),
    )
    .join(en ? ', ' : '、')
}

export function hoursText(h: Pick<WeeklyHours, 'opens' | 'closes'>, en = false): string {
  if (h.opens === '00:00' && h.closes === '24:00') return en ? '24 hours' : '24 小时'
  return `${h.opens}–${h.closes}`
}

/** The weekly hours grouped by day set, in weekday order: [{days label, ['08:30–11:30', '13:30–17:00']}]. */
export function weeklyLines(hours: WeeklyHours[], en = false): Array<{ days: string; times: string }> {
  const groups = new Map<string, { days: number[]; times: string[] }>()
  for (const h of hours) {
    const key = [...h.days].sort((a, b) => a - b).join(',')
    const g = groups.get(key) ?? { days: [...h.days].sort((a, b) => a - b), times: [] }
    g.times.push(hoursText(h, en))
    groups.set(key, g)
  }
  return [...groups.values()]
    .sort((a, b) => a.days[0] - b.days[0])
    .map((g) => ({ days: daysLabel(g.days, en), times: g.times.sort().join(en ? ', ' : '、') }))
}

/** Exceptions from today on, soonest first. */
export function upcomingExceptions(exceptions: HoursException[], today: string): HoursException[] {
  return exceptions.filter((e) => e.date >= today).sort((a, b) => a.date.localeCompare(b.date))
}

/** A dated exception's own hours ("09:00–12:00"), or null when it is closed all day or gives no times. */
export function exceptionHours(e: HoursException, en = false): string | null {
  if (e.closed || !e.opens || !e.closes) return null
  return hoursText({ opens: e.opens, closes: e.closes }, en)
}
