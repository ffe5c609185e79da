// Formatting for display. Money is stored in fen (分); times are shown in Daqing's time zone.
const TZ = 'Asia/Shanghai'

export function yuan(fen: number | null | undefined): string {
  if (fen === null || fen === undefined) return '—'
  const y = fen / 100
  return `¥${Number.isInteger(y) ? y.toFixed(0) : y.toFixed(2)}`
}

export function dateTime(iso: string | null | undefined, locale = 'zh-CN'): string {
  if (!iso) return '—'
  return new Intl.DateTimeFormat(locale, {
    timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).format(new Date(iso))
}

export function timeOnly(iso: string, locale = 'zh-CN'): string {
  return new Intl.DateTimeFormat(locale, { timeZone: TZ, hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(iso))
}

/** Today's date in Daqing as YYYY-MM-DD (not the UTC date: they differ 16:00-24:00 UTC). */
export function daqingToday(now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now)
}

/** Add days to a YYYY-MM-DD date. */
export function addDays(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + days)
  return d.toISOString().slice(0, 10)
}

export function distance(metres: number | null | undefined): string {
  if (metres === null || metres === undefined) return ''
  return metres < 1000 ? `${Math.round(metres)} 米` : `${(metres / 1000).toFixed(1)} 公里`
}

/** Whole months between a birth date and a day (both YYYY-MM-DD). */
export function ageInMonths(birth: string, on: string): number {
  const [by, bm, bd] = birth.split('-').map(Number)
  const [y, m, d] = on.split('-').map(Number)
  return (y - by) * 12 + (m - bm) - (d < bd ? 1 : 0)
}
