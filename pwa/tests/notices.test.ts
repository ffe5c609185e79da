import { describe, expect, it } from 'vitest'
import {
  answerBody, groupByInstitution, loadReceipt, percent, saveReceipt, sortNotices, type NoticeOut,
} from '@/views/notices/model'

function notice(id: string, over: Partial<NoticeOut> = {}): NoticeOut {
  return {
    id, institution_id: 'i1', institution_name: '甲园', audience: 'institution', audience_zh: '全体家长',
    class_id: null, posted_as: 'staff', title: id, pinned: false, urgent: false, status: 'published',
    publish_at: '2026-01-01T00:00:00Z', published_at: '2026-01-01T00:00:00Z', expires_at: null, version: 1,
    updated_at: '2026-01-01T00:00:00Z', has_consultation: false, read_at: null, ...over,
  }
}

describe('sortNotices', () => {
  it('puts urgent, then pinned, then the newest first', () => {
    const list = [
      notice('old', { published_at: '2026-01-01T00:00:00Z' }),
      notice('new', { published_at: '2026-02-01T00:00:00Z' }),
      notice('pinned', { pinned: true, published_at: '2025-01-01T00:00:00Z' }),
      notice('urgent', { urgent: true, published_at: '2025-01-01T00:00:00Z' }),
    ]
    expect(sortNotices(list).map((n) => n.id)).toEqual(['urgent', 'pinned', 'new', 'old'])
  })
})

describe('groupByInstitution', () => {
  it('groups and counts unread', () => {
    const groups = groupByInstitution([
      notice('a'),
      notice('b', { institution_id: 'i2', institution_name: '乙园', read_at: '2026-01-02T00:00:00Z' }),
      notice('c', { read_at: '2026-01-02T00:00:00Z', urgent: true }),
    ])
    expect(groups.map((g) => [g.institutionName, g.unread, g.notices.map((n) => n.id)])).toEqual([
      ['甲园', 1, ['c', 'a']],
      ['乙园', 0, ['b']],
    ])
  })
})

describe('receipts', () => {
  it('keeps a receipt per notice and ignores garbage', () => {
    const good = 'A'.repeat(40) + '_-9'
    saveReceipt('n1', good)
    expect(loadReceipt('n1')).toBe(good)
    expect(loadReceipt('n2')).toBeNull()
    localStorage.setItem('dq.noticeReceipt.n3', 'not-a-receipt')
    expect(loadReceipt('n3')).toBeNull()
  })
})

describe('answerBody', () => {
  const multiple = { choice_mode: 'multiple' as const, allow_text: true, anonymous: false }
  it('sorts and dedupes multiple choices, trims text', () => {
    expect(answerBody(multiple, [2, 0, 2], '  多一些粥 ', null)).toEqual({ choices: [0, 2], text: '多一些粥' })
  })
  it('keeps one choice for single questions and drops text when not allowed', () => {
    expect(answerBody({ choice_mode: 'single', allow_text: false, anonymous: false }, [3, 1], 'x', null)).toEqual({
      choices: [3],
      text: null,
    })
  })
  it('sends the receipt only for anonymous consultations', () => {
    const r = 'B'.repeat(43)
    expect(answerBody({ ...multiple, anonymous: true }, [1], '', r)).toEqual({ choices: [1], text: null, receipt: r })
    expect(answerBody(multiple, [1], '', r)).toEqual({ choices: [1], text: null })
  })
})

describe('percent', () => {
  it('is a whole percentage, 0 with no answers', () => {
    expect(percent(1, 3)).toBe(33)
    expect(percent(0, 0)).toBe(0)
  })
})
