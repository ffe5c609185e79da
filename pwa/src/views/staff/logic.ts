// Pure rules of the staff console (unit-tested in tests/staff.test.ts).
import type { ApplicationStatus, DeskClass, SlotUse } from './types'

/** Children per carer by class type (《托育机构设置标准（试行）》; mixed: the strictest band it holds). */
export const CHILDREN_PER_CARER: Record<string, number> = { infant: 3, toddler: 5, older_toddler: 7, mixed: 5 }
/** A home-based point (家庭托育点): one carer per three children whatever the class. */
export const HOME_BASED_CHILDREN_PER_CARER = 3

export interface RatioCheck {
  perCarer: number
  /** carers needed for the children enrolled now */
  requiredNow: number
  /** carers needed when the class is full */
  requiredFull: number
  /** too few carers for the children enrolled now */
  breach: boolean
  /** enough now, but not once the class fills up */
  atCapacityBreach: boolean
}

export function ratioCheck(cls: Pick<DeskClass, 'class_type' | 'capacity' | 'carers' | 'enrolled'>, homeBased = false): RatioCheck {
  const perCarer = homeBased ? HOME_BASED_CHILDREN_PER_CARER : (CHILDREN_PER_CARER[cls.class_type] ?? 3)
  const requiredNow = Math.ceil(cls.enrolled / perCarer)
  const requiredFull = Math.ceil(cls.capacity / perCarer)
  const breach = cls.carers < requiredNow
  return { perCarer, requiredNow, requiredFull, breach, atCapacityBreach: !breach && cls.carers < requiredFull }
}

/** Share of a capacity in use, 0-100 (for progress bars); 0 when there is no capacity. */
export function percent(used: number, capacity: number): number {
  if (capacity <= 0) return used > 0 ? 100 : 0
  return Math.min(100, Math.round((used / capacity) * 100))
}

export type QueueAction = 'offer' | 'waitlist' | 'reject' | 'enrol' | 'end' | 'priority'

/** What staff may do with an application in each status (backend/enrolment/service.py `_require`). */
const ACTIONS: Partial<Record<ApplicationStatus, QueueAction[]>> = {
  submitted: ['offer', 'waitlist', 'reject', 'priority'],
  waitlisted: ['offer', 'reject', 'priority'],
  accepted: ['enrol'],
  enrolled: ['end'],
}

export function actionsFor(status: ApplicationStatus): QueueAction[] {
  return ACTIONS[status] ?? []
}

/** Which actions ask for a reason: required (reject, priority) or optional (end). */
export function reasonRule(action: QueueAction): 'required' | 'optional' | 'none' {
  if (action === 'reject' || action === 'priority') return 'required'
  if (action === 'end') return 'optional'
  return 'none'
}

/** The request body an action sends. */
export function actionBody(action: QueueAction, reason: string, priority: number): Record<string, unknown> | undefined {
  const text = reason.trim()
  if (action === 'reject') return { reason: text }
  if (action === 'end') return text ? { reason: text } : {}
  if (action === 'priority') return { priority, reason: text }
  return undefined
}

/** Slots of a day grouped by age band, each band's slots in time order. */
export function slotsByBand(slots: SlotUse[]): Array<{ band: string; slots: SlotUse[]; booked: number; capacity: number }> {
  const bands = new Map<string, SlotUse[]>()
  for (const s of slots) {
    const list = bands.get(s.band) ?? []
    list.push(s)
    bands.set(s.band, list)
  }
  const order = ['infant', 'toddler', 'older_toddler']
  return [...bands.entries()]
    .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
    .map(([band, list]) => {
      const sorted = [...list].sort((x, y) => x.start.localeCompare(y.start))
      return {
        band,
        slots: sorted,
        booked: sorted.reduce((n, s) => n + s.booked, 0),
        capacity: sorted.reduce((n, s) => n + s.capacity, 0),
      }
    })
}

export interface Debounced<T> {
  push(item: T): void
  flush(): void
  cancel(): void
}

/** Collect items and call `fn` once with all of them, `wait` ms after the last one arrived. */
export function debounceBatch<T>(fn: (items: T[]) => void, wait = 300): Debounced<T> {
  let items: T[] = []
  let timer: ReturnType<typeof setTimeout> | null = null
  function flush() {
    if (timer) clearTimeout(timer)
    timer = null
    if (!items.length) return
    const batch = items
    items = []
    fn(batch)
  }
  return {
    push(item: T) {
      items.push(item)
      if (timer) clearTimeout(timer)
      timer = setTimeout(flush, wait)
    },
    flush,
    cancel() {
      if (timer) clearTimeout(timer)
      timer = null
      items = []
    },
  }
}

/** An Idempotency-Key for a create request (one per form, reused when the same form is retried). */
export function newIdempotencyKey(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto) return crypto.randomUUID()
  return `k-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
}

/** A datetime-local value (YYYY-MM-DDTHH:mm, the device's time) as RFC 3339 with offset. */
export function localInputToIso(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value)) return null
  const d = new Date(value)
  return Number.isNaN(d.getTime()) ? null : d.toISOString()
}

/** A Date as a datetime-local value in the device's time. */
export function toLocalInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** Options of a consultation as the API wants them: trimmed, blanks dropped. Null when they are not
 * 2-10 distinct ones (the API's rule for single and multiple choice). */
export function cleanOptions(options: string[]): string[] | null {
  const out = options.map((o) => o.trim()).filter(Boolean)
  if (out.length < 2 || out.length > 10 || new Set(out).size !== out.length) return null
  return out
}
