// Pure rules of the assessment screens (unit-tested in tests/assessments.test.ts): the running total
// and grade of a score sheet, what is wrong with a form before it is sent (the API checks the same
// and answers 422), the request body, and overdue rectification items. The dimensions and grade
// cut-offs come from GET /api/assessments/dimensions, so the PWA never hard-codes the standard.

export type Grade = 'A' | 'B' | 'C' | 'D'
export const GRADES: Grade[] = ['A', 'B', 'C', 'D']
export const MAX_ITEMS = 30
export const MAX_ASSESSORS = 10

export interface Dimension { key: string; name_zh: string; name: string; max_points: number }
export interface GradeBand { grade: Grade; name_zh: string; min_total: number }
export interface Standard { total_points: number; dimensions: Dimension[]; grades: GradeBand[] }

export interface ItemDraft { description: string; deadline: string }
export interface AssessmentForm {
  institutionId: string
  assessedOn: string // YYYY-MM-DD
  assessors: string // one per line, or separated by 、 , ，
  scores: Record<string, string> // as typed
  summary: string
  findings: string
  items: ItemDraft[]
}

/** A typed score in tenths of a point, or null when it is empty or not a number with at most one decimal. */
export function tenths(text: string | number | undefined | null): number | null {
  if (text === undefined || text === null) return null
  const s = String(text).trim()
  if (!/^\d{1,4}(\.\d)?$/.test(s)) return null
  return Math.round(Number(s) * 10)
}

/** The sum of the scores typed so far (empty or invalid ones count 0), exact to one decimal. */
export function runningTotal(scores: Record<string, string>, dims: Dimension[]): number {
  let sum = 0
  for (const d of dims) sum += tenths(scores[d.key]) ?? 0
  return sum / 10
}

/** The grade of a total under the standard's cut-offs (best first; below all of them: D). */
export function gradeFor(total: number, bands: GradeBand[]): Grade {
  const sorted = [...bands].sort((a, b) => b.min_total - a.min_total)
  for (const b of sorted) if (total >= b.min_total) return b.grade
  return 'D'
}

export function splitAssessors(text: string): string[] {
  return text
    .split(/[\n,，、;；]+/)
    .map((s) => s.trim())
    .filter(Boolean)
}

/** Problems keyed by field (message keys of assessments.err.*); empty when the form can be sent. */
export function formProblems(form: AssessmentForm, std: Standard, today: string, isNew: boolean): Record<string, string> {
  const p: Record<string, string> = {}
  if (isNew && !form.institutionId) p.institution = 'institution'
  if (!/^\d{4}-\d{2}-\d{2}$/.test(form.assessedOn)) p.assessedOn = 'date'
  else if (form.assessedOn > today) p.assessedOn = 'dateFuture'
  const names = splitAssessors(form.assessors)
  if (names.length < 1 || names.length > MAX_ASSESSORS) p.assessors = 'assessors'
  else if (names.some((n) => n.length > 50)) p.assessors = 'assessorLong'
  for (const d of std.dimensions) {
    const v = tenths(form.scores[d.key])
    if (v === null) p[`score.${d.key}`] = 'score'
    else if (v > d.max_points * 10) p[`score.${d.key}`] = 'scoreMax'
  }
  if (!form.summary.trim()) p.summary = 'summary'
  if (form.items.length > MAX_ITEMS) p.items = 'tooMany'
  form.items.forEach((it, n) => {
    if (!it.description.trim()) p[`item.${n}.description`] = 'itemDescription'
    if (!/^\d{4}-\d{2}-\d{2}$/.test(it.deadline)) p[`item.${n}.deadline`] = 'date'
    else if (form.assessedOn && it.deadline <= form.assessedOn) p[`item.${n}.deadline`] = 'deadlineBefore'
    else if (it.deadline < today) p[`item.${n}.deadline`] = 'deadlinePast'
  })
  return p
}

/** The PUT body (and, with the institution, the POST body); total and grade are sent as checks. */
export function toBody(form: AssessmentForm, std: Standard) {
  const scores: Record<string, number> = {}
  for (const d of std.dimensions) scores[d.key] = (tenths(form.scores[d.key]) ?? 0) / 10
  const total = runningTotal(form.scores, std.dimensions)
  return {
    assessed_on: form.assessedOn,
    assessors: splitAssessors(form.assessors),
    scores,
    total,
    grade: gradeFor(total, std.grades),
    summary: form.summary.trim(),
    findings: form.findings,
    items: form.items.map((i) => ({ description: i.description.trim(), deadline: i.deadline })),
  }
}

/** An open item past its deadline (the API computes the same as `overdue`). */
export function isOverdue(item: { status: string; deadline: string }, today: string): boolean {
  return item.status === 'open' && item.deadline < today
}

export function gradeTagType(grade: Grade): 'success' | 'primary' | 'warning' | 'danger' {
  return ({ A: 'success', B: 'primary', C: 'warning', D: 'danger' } as const)[grade]
}

/** Points with at most one decimal, without a trailing ".0". */
export function points(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1)
}
