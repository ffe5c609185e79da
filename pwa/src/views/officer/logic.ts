// Pure rules of the officer console (unit-tested in tests/officer.test.ts).
import type { ComplaintStatus, DeskItem } from './types'
import type { QueryOf } from '@/api/http'

export const OPEN: ComplaintStatus[] = ['received', 'accepted', 'investigating']
export const CLOSED: ComplaintStatus[] = ['resolved', 'rejected', 'duplicate', 'referred']
export const ALL_STATUSES: ComplaintStatus[] = [...OPEN, ...CLOSED]

/** status -> the statuses it may move to (backend/complaints/models.py TRANSITIONS). */
const TRANSITIONS: Partial<Record<ComplaintStatus, ComplaintStatus[]>> = {
  received: ['accepted', 'rejected', 'duplicate', 'referred'],
  accepted: ['investigating', 'resolved', 'rejected', 'duplicate', 'referred'],
  investigating: ['resolved', 'rejected', 'duplicate', 'referred'],
}

/** The statuses an officer can pick for a transition: `duplicate` is set by merging, not here. */
export function nextStatuses(current: ComplaintStatus): ComplaintStatus[] {
  return (TRANSITIONS[current] ?? []).filter((s) => s !== 'duplicate')
}

/** Whether the complaint can still be merged into another (open statuses only). */
export function canMerge(current: ComplaintStatus): boolean {
  return (TRANSITIONS[current] ?? []).includes('duplicate')
}

export function isOpen(status: ComplaintStatus): boolean {
  return OPEN.includes(status)
}

export type TagType = 'primary' | 'success' | 'warning' | 'danger' | 'default'

export function statusTag(status: ComplaintStatus): TagType {
  if (status === 'received') return 'warning'
  if (status === 'accepted' || status === 'investigating') return 'primary'
  if (status === 'resolved') return 'success'
  return 'default'
}

/** Which time limit a complaint has passed, if any (the API flags them: ack first, then resolve). */
export function overdueKind(item: Pick<DeskItem, 'ack_overdue' | 'resolve_overdue'>): 'ack' | 'resolve' | null {
  if (item.ack_overdue) return 'ack'
  if (item.resolve_overdue) return 'resolve'
  return null
}

/** The next deadline that matters for a complaint in its status, or null once it is closed. */
export function dueOf(item: Pick<DeskItem, 'status' | 'ack_due_at' | 'resolve_due_at'>): { kind: 'ack' | 'resolve'; at: string } | null {
  if (item.status === 'received') return { kind: 'ack', at: item.ack_due_at }
  if (isOpen(item.status)) return { kind: 'resolve', at: item.resolve_due_at }
  return null
}

export interface QueueFilters {
  status: string // '' open (the API's default) | 'all' | one status
  category: string
  unit: string
  overdue: boolean
  urgent: string // '' | 'true' | 'false'
}

/** The query string of GET /api/complaints/desk for the filters. */
export function queueQuery(f: QueueFilters, limit: number, offset: number): QueryOf<'/api/complaints/desk'> {
  return {
    status: f.status === 'all' ? ALL_STATUSES : f.status ? [f.status] : undefined,
    // the filter comes from the address bar: the API refuses an unknown category with its 400
    category: (f.category || undefined) as QueryOf<'/api/complaints/desk'>['category'],
    unit: f.unit ? Number(f.unit) : undefined,
    overdue: f.overdue || undefined,
    urgent: f.urgent ? f.urgent === 'true' : undefined,
    limit,
    offset,
  }
}

/** Working days (Mon-Fri, Daqing dates) after `from`'s day up to and including `to`'s day; negative
 * when `to` is before `from`. The API's limits are counted the same way (deadlines.py). */
export function workingDaysBetween(fromIso: string, toIso: string): number {
  const day = (iso: string) =>
    new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso))
  let a = day(fromIso)
  let b = day(toIso)
  let sign = 1
  if (b < a) {
    ;[a, b] = [b, a]
    sign = -1
  }
  let n = 0
  const d = new Date(`${a}T00:00:00Z`)
  const end = new Date(`${b}T00:00:00Z`)
  while (d < end) {
    d.setUTCDate(d.getUTCDate() + 1)
    const wd = d.getUTCDay()
    if (wd >= 1 && wd <= 5) n++
  }
  return sign * n
}
