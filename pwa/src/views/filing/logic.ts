// Filing (备案) rules the screens need: which kinds are required, what is missing, the payload of a
// draft, status colours, and the review time limit. The server checks everything again.
import type { DocumentKind, FilingKindDocuments, FilingStatus } from './types'

export const KINDS: DocumentKind[] = [
  'business_licence',
  'legal_person_certificate',
  'site_proof',
  'staff_qualifications',
  'health_certificates',
  'health_evaluation',
  'fire_safety',
  'food_licence',
]
/** One of these two is required (the registration document). */
export const REGISTRATION: DocumentKind[] = ['business_licence', 'legal_person_certificate']
export const ALWAYS: DocumentKind[] = ['site_proof', 'staff_qualifications', 'health_certificates', 'health_evaluation', 'fire_safety']
export const MAX_FILES_PER_KIND = 10
export const MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
export const ACCEPT = 'application/pdf,image/jpeg,image/png,image/webp'

/** The required kinds without a document (both registration kinds when neither has one) — the
 *  same rule as the API's `missing_kinds`. */
export function missingKinds(counts: Partial<Record<DocumentKind, number>>, servesMeals: boolean): DocumentKind[] {
  const missing: DocumentKind[] = []
  if (!REGISTRATION.some((k) => (counts[k] ?? 0) > 0)) missing.push(...REGISTRATION)
  missing.push(...ALWAYS.filter((k) => !(counts[k] ?? 0)))
  if (servesMeals && !(counts.food_licence ?? 0)) missing.push('food_licence')
  return missing
}

export function isRequired(kind: DocumentKind, servesMeals: boolean): boolean {
  return REGISTRATION.includes(kind) || ALWAYS.includes(kind) || (kind === 'food_licence' && servesMeals)
}

/** The PUT body: per kind the upload ids in order (empty kinds left out). */
export function documentsPayload(lists: Partial<Record<DocumentKind, string[]>>): Partial<Record<DocumentKind, string[]>> {
  const out: Partial<Record<DocumentKind, string[]>> = {}
  for (const kind of KINDS) {
    const ids = lists[kind] ?? []
    if (ids.length) out[kind] = [...ids]
  }
  return out
}

export function listsOf(documents: FilingKindDocuments[]): Partial<Record<DocumentKind, string[]>> {
  return Object.fromEntries(documents.map((d) => [d.kind, d.files.map((f) => f.id)]))
}

export function statusTag(status: FilingStatus): 'success' | 'warning' | 'danger' | 'primary' {
  return status === 'filed' ? 'success' : status === 'returned' ? 'danger' : status === 'submitted' ? 'primary' : 'warning'
}

/** A file the API will refuse anyway, checked before uploading (type by the browser's guess, size). */
export function fileProblem(file: { type: string; size: number }): 'type' | 'size' | null {
  if (file.size > MAX_DOCUMENT_BYTES) return 'size'
  if (file.type && !ACCEPT.split(',').includes(file.type)) return 'type'
  return null
}

/** Whole days from `now` to the due date (negative: overdue by that many days). */
export function daysLeft(dueIso: string, now: Date = new Date()): number {
  return Math.floor((new Date(dueIso).getTime() - now.getTime()) / 86_400_000)
}

export function fileLabel(contentType: string, n: number): string {
  return `${contentType === 'application/pdf' ? 'PDF' : 'IMG'} ${n + 1}`
}

/** Where a filing event's link (/filing/:id) leads: the review for officers, the staff's filing screen
 *  (of their only institution, or the institution picker) otherwise. */
export function openPath(filingId: string, isOfficer: boolean, staffInstitutionIds: readonly string[]): string {
  if (isOfficer) return `/officer/filings/${filingId}`
  if (staffInstitutionIds.length === 1) return `/staff/${staffInstitutionIds[0]}/filing`
  return '/staff?pick=1'
}
