import type { QueryOf } from '@/api/http'
import type { Schema } from '@/api/types'

export type AuditEntry = Schema<'AuditEntryOut'>
export type AuditPage = Schema<'AuditPage'>

/** The query for GET /api/audit: an action ends in '.' to mean "every action of this domain". */
export function auditQuery(action: string, since: string, before: number | null): QueryOf<'/api/audit'> {
  const a = action.trim().toLowerCase()
  return {
    action: /^[a-z_.]+$/.test(a) ? a : undefined,
    since: /^\d{4}-\d{2}-\d{2}$/.test(since) ? since : undefined,
    before: before ?? undefined,
    limit: 50,
  }
}

/** "卫健委 · 230621" style labels for the grants an entry was made under. */
export function grantLabel(g: AuditEntry['grants'][number], roleName: (role: string) => string): string {
  return [roleName(g.role), g.department, g.unit].filter((x) => x !== null && x !== undefined && x !== '').join(' · ')
}

/** The name-free facts a domain noted on the entry (e.g. "decision: returned"). */
export function noteText(e: Pick<AuditEntry, 'note'>): string {
  return Object.entries(e.note ?? {})
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join('，')
}
