// Small pure helpers of the account screens (unit-tested).
import { safePath } from '@/utils/paths'

/** 13800000002 → 138****0002 (the full number is never shown on screen). */
export function maskPhone(phone: string | null | undefined): string {
  if (!phone) return ''
  const digits = phone.replace(/\D/g, '').replace(/^86(?=1\d{10}$)/, '')
  if (digits.length < 7) return phone
  return `${digits.slice(0, 3)}****${digits.slice(-4)}`
}

/** Where to go after signing in: `?next=` only when it is one of our own paths, else 我的. */
export function afterSignIn(next: unknown): string {
  const raw = Array.isArray(next) ? next[0] : next
  if (typeof raw !== 'string' || !raw) return '/me'
  const path = safePath(raw)
  if (path !== raw || path.startsWith('/login')) return '/me'
  return path
}

/** A phone number the API accepts (mainland mobile, optional +86 prefix and separators). */
export function validPhone(raw: string): boolean {
  return /^(?:(?:\+|00)?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]){8}$/.test(raw.trim())
}
