import { describe, expect, it } from 'vitest'
import { auditQuery, grantLabel, noteText } from '@/views/audit/logic'

describe('audit log', () => {
  it('sends only well-formed filters', () => {
    expect(auditQuery(' Filing. ', '2026-12-01', null)).toEqual({ action: 'filing.', since: '2026-12-01', before: undefined, limit: 50 })
    expect(auditQuery('drop table', 'yesterday', 42)).toEqual({ action: undefined, since: undefined, before: 42, limit: 50 })
  })
  it('shows the noted facts', () => {
    expect(noteText({ note: { decision: 'returned', submission: 1 } })).toBe('decision: returned，submission: 1')
    expect(noteText({ note: {} })).toBe('')
  })
  it('labels grants with role, department and unit', () => {
    const role = (r: string) => (r === 'officer' ? '部门工作人员' : r)
    expect(grantLabel({ role: 'officer', department: 'health', unit: 230621 }, role)).toBe('部门工作人员 · health · 230621')
    expect(grantLabel({ role: 'city_admin', department: null, unit: null }, role)).toBe('city_admin')
  })
})
