// The blacklist screens' pure rules: resident ID numbers (GB 11643, the same check as the API's
// backend/blacklist/idnumber.py), masking, the decision form's date rules and who may manage.
import type { Grant } from '@/api/types'

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const CHECK_CHARS = '10X98765432'

export type IdProblem = 'shape' | 'birth' | 'check'

export function checkChar(first17: string): string {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]
  return CHECK_CHARS[sum % 11]
}

/** The normalised number ('x' → 'X', trimmed), or the problem with it. */
export function validateIdNumber(raw: string, today: Date = new Date()): { ok: true; value: string } | { ok: false; problem: IdProblem } {
  const value = raw.trim().toUpperCase()
  if (!/^[1-9][0-9]{16}[0-9X]$/.test(value)) return { ok: false, problem: 'shape' }
  const y = Number(value.slice(6, 10))
  const m = Number(value.slice(10, 12))
  const d = Number(value.slice(12, 14))
  const born = new Date(Date.UTC(y, m - 1, d))
  const real = born.getUTCFullYear() === y && born.getUTCMonth() === m - 1 && born.getUTCDate() === d
  const todayUtc = Date.UTC(today.getFullYear(), today.getMonth(), today.getDate())
  if (!real || y < 1900 || born.getTime() > todayUtc) return { ok: false, problem: 'birth' }
  if (checkChar(value.slice(0, 17)) !== value[17]) return { ok: false, problem: 'check' }
  return { ok: true, value }
}

/** How officers and admins see a number: only its last four characters. */
export function maskId(last4: string): string {
  return '*'.repeat(14) + last4
}

export interface DecisionDates {
  decided_on: string // YYYY-MM-DD
  effective_from?: string
  effective_until?: string
}

export type DateProblem = 'decidedMissing' | 'decidedFuture' | 'untilBeforeFrom'

/** The same date rules as the API (dates as local YYYY-MM-DD strings compare as text). */
export function dateProblem(d: DecisionDates, today: string): DateProblem | null {
  if (!d.decided_on) return 'decidedMissing'
  if (d.decided_on > today) return 'decidedFuture'
  const from = d.effective_from || d.decided_on
  if (d.effective_until && d.effective_until <= from) return 'untilBeforeFrom'
  return null
}

export const MANAGING_DEPARTMENTS = ['health', 'police']

/** Health and police officers and the city admin manage the blacklist (the API decides in the end). */
export function canManageBlacklist(roles: readonly Pick<Grant, 'role' | 'department_code'>[]): boolean {
  return roles.some(
    (g) => g.role === 'city_admin' || (g.role === 'officer' && MANAGING_DEPARTMENTS.includes(g.department_code ?? '')),
  )
}

/** Admins of the institution (and the city admin) keep its staff roster. */
export function canKeepRoster(
  roles: readonly Pick<Grant, 'role' | 'institution_id'>[],
  institutionId: string | undefined,
): boolean {
  return roles.some(
    (g) => g.role === 'city_admin' || (g.role === 'institution_admin' && !!institutionId && g.institution_id === institutionId),
  )
}

export const STAFF_ROLES = ['head', 'carer', 'health_worker', 'guard', 'cook', 'other'] as const
export type StaffRole = (typeof STAFF_ROLES)[number]
