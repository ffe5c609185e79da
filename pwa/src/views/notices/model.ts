// Shapes of the notices API (backend/notices/schemas.py) and the pure logic of the notices screens.

import type { Schema } from '@/api/types'

export type NoticeOut = Schema<'NoticeOut'>
export type NoticeStatus = NoticeOut['status']
export type NoticeAudience = NoticeOut['audience']
export type AttachmentOut = Schema<'AttachmentOut'>
export type ConsultationOut = Schema<'ConsultationOut'>
/** `body_html` is sanitised on the server (nh3 allow-list); documented safe to insert as HTML. */
export type NoticeDetail = Schema<'NoticeDetail'>
export type AnswerIn = Schema<'AnswerIn'>
export type AnswerOut = Schema<'AnswerOut'>
export type ResultsOut = Schema<'ResultsOut'>
export type OptionCount = Schema<'OptionCount'>
export type UnreadOut = Schema<'UnreadOut'>
export type InstitutionUnread = Schema<'InstitutionUnread'>

export interface NoticeGroup {
  institutionId: string
  institutionName: string
  unread: number
  notices: NoticeOut[]
}

function when(n: NoticeOut): number {
  return Date.parse(n.published_at ?? n.publish_at) || 0
}

/** Pinned or urgent first (urgent before pinned), then newest. */
export function sortNotices(list: NoticeOut[]): NoticeOut[] {
  const rank = (n: NoticeOut) => (n.urgent ? 0 : n.pinned ? 1 : 2)
  return [...list].sort((a, b) => rank(a) - rank(b) || when(b) - when(a) || a.id.localeCompare(b.id))
}

/** One group per institution (in order of each one's first notice after sorting), unread counted. */
export function groupByInstitution(list: NoticeOut[]): NoticeGroup[] {
  const groups = new Map<string, NoticeGroup>()
  for (const n of sortNotices(list)) {
    let g = groups.get(n.institution_id)
    if (!g) {
      g = { institutionId: n.institution_id, institutionName: n.institution_name, unread: 0, notices: [] }
      groups.set(n.institution_id, g)
    }
    g.notices.push(n)
    if (!n.read_at) g.unread += 1
  }
  return [...groups.values()]
}

// Anonymous consultations answer with a receipt once; kept on this device to change the answer later.
const RECEIPT_PREFIX = 'dq.noticeReceipt.'

export function saveReceipt(noticeId: string, receipt: string, storage: Storage = localStorage): void {
  storage.setItem(RECEIPT_PREFIX + noticeId, receipt)
}

export function loadReceipt(noticeId: string, storage: Storage = localStorage): string | null {
  const value = storage.getItem(RECEIPT_PREFIX + noticeId)
  return value && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : null
}

/** The body of PUT /api/notices/{id}/answer from what the form holds. */
export function answerBody(
  c: Pick<ConsultationOut, 'choice_mode' | 'allow_text' | 'anonymous'>,
  choices: number[],
  text: string,
  receipt: string | null,
): AnswerIn {
  const picked = c.choice_mode === 'none' ? [] : c.choice_mode === 'single' ? choices.slice(0, 1) : [...new Set(choices)].sort((a, b) => a - b)
  const body: AnswerIn = {
    choices: picked,
    text: c.allow_text && text.trim() ? text.trim() : null,
  }
  if (c.anonymous && receipt) body.receipt = receipt
  return body
}

/** Share of the answers per option, as a whole percentage (0 when nobody answered). */
export function percent(count: number, answered: number): number {
  return answered > 0 ? Math.round((count / answered) * 100) : 0
}
