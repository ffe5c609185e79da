// Formatting for display. Money is stored in fen (分); times are shown in Daqing's time zone.
const TZ = 'Asia/Shanghai'

export function yuan(fen: number | null | undefined): string {
  if (fen === null || fen === undefined) return '—'
  const y = fen / 100
  return `¥${Number.isInteger(y) ? y.toFixed(0) : y.toFixed(2)}`
}

// One friendly date style everywhere (docs/pwa-design.md): zh-CN "12月9日 周三 08:00", a range
// "12月9日 周三 08:00–09:00", the year only when it is not this year ("2025年12月9日 周二 08:00");
// English "Wed 9 Dec 08:00". Always Daqing's time, 24-hour clock, an en dash between times.
const WEEKDAYS_ZH = ['周日', '周一', '周二', '周三', '周四', '周五', '周六']
const WEEKDAYS_EN = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

interface Parts { y: number; m: number; d: number; hh: string; mm: string }

function daqingParts(instant: Date): Parts {
  const p = new Intl.DateTimeFormat('en-GB', {
    timeZone: TZ, year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false,
  }).formatToParts(instant)
  const get = (type: string) => p.find((x) => x.type === type)?.value ?? '0'
  return { y: Number(get('year')), m: Number(get('month')), d: Number(get('day')), hh: get('hour').replace(/^24$/, '00'), mm: get('minute') }
}

/** The language the app is shown in (i18n's setLocale writes it on <html lang>). */
function appLocale(): string {
  return (typeof document !== 'undefined' && document.documentElement.lang) || 'zh-CN'
}

function isEnglish(locale: string): boolean {
  return locale.toLowerCase().startsWith('en')
}

function dayLabel(y: number, m: number, d: number, locale: string, now: Date): string {
  const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay()
  const thisYear = daqingParts(now).y
  if (isEnglish(locale)) return `${WEEKDAYS_EN[weekday]} ${d} ${MONTHS_EN[m - 1]}${y === thisYear ? '' : ` ${y}`}`
  return `${y === thisYear ? '' : `${y}年`}${m}月${d}日 ${WEEKDAYS_ZH[weekday]}`
}

/** A day (YYYY-MM-DD, a calendar date in Daqing): "12月9日 周三". */
export function dayOnly(day: string | null | undefined, locale = appLocale(), now: Date = new Date()): string {
  if (!day) return '—'
  const [y, m, d] = day.slice(0, 10).split('-').map(Number)
  return dayLabel(y, m, d, locale, now)
}

/** An instant: "12月9日 周三 08:00". */
export function dateTime(iso: string | null | undefined, locale = appLocale(), now: Date = new Date()): string {
  if (!iso) return '—'
  const p = daqingParts(new Date(iso))
  return `${dayLabel(p.y, p.m, p.d, locale, now)} ${p.hh}:${p.mm}`
}

/** An instant's time of day in Daqing: "08:00". */
export function timeOnly(iso: string): string {
  const p = daqingParts(new Date(iso))
  return `${p.hh}:${p.mm}`
}

/** A span of time: "12月9日 周三 08:00–09:00" (both days written out when it crosses midnight). */
export function timeRange(startIso: string, endIso: string, locale = appLocale(), now: Date = new Date()): string {
  const a = daqingParts(new Date(startIso))
  const b = daqingParts(new Date(endIso))
  if (a.y === b.y && a.m === b.m && a.d === b.d) return `${dateTime(startIso, locale, now)}–${b.hh}:${b.mm}`
  return `${dateTime(startIso, locale, now)} – ${dateTime(endIso, locale, now)}`
}

/** A slot on a day, with local "HH:MM" times: "12月9日 周三 08:00–09:00". */
export function daySlot(day: string, start: string, end: string, locale = appLocale(), now: Date = new Date()): string {
  return `${dayOnly(day, locale, now)} ${start.slice(0, 5)}–${end.slice(0, 5)}`
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
