// The blacklist screens' pure rules: resident ID numbers checked exactly as the API does (GB 11643),
// masking, the decision form's dates, and who sees the management and roster links.
import { describe, expect, it } from 'vitest'
import { canKeepRoster, canManageBlacklist, checkChar, dateProblem, maskId, validateIdNumber } from '@/views/blacklist/logic'

const TODAY = new Date(2026, 11, 2)

describe('resident ID numbers', () => {
  it('computes the GB 11643 check character', () => {
    expect(checkChar('11010519491231002')).toBe('X') // the standard's worked example
    expect(checkChar('23060219850317201')).toBe('0') // a demo number
  })
  it('accepts valid numbers and normalises x to X', () => {
    expect(validateIdNumber('11010519491231002x', TODAY)).toEqual({ ok: true, value: '11010519491231002X' })
    expect(validateIdNumber(' 230602198503172010 ', TODAY)).toEqual({ ok: true, value: '230602198503172010' })
  })
  it('names what is wrong', () => {
    const problem = (raw: string) => {
      const r = validateIdNumber(raw, TODAY)
      return r.ok ? null : r.problem
    }
    expect(problem('23060219850317201')).toBe('shape') // 17 characters
    expect(problem('2306021985031720100')).toBe('shape') // 19
    expect(problem('23060219850317201Y')).toBe('shape')
    expect(problem('030602198503172010')).toBe('shape') // address code starts with 0
    expect(problem('230602198502302016')).toBe('birth') // 30 February
    expect(problem('230602203001012011')).toBe('birth') // born in the future
    expect(problem('230602185001012014')).toBe('birth') // before 1900
    expect(problem('230602198503172011')).toBe('check')
  })
  it('masks all but the last four characters', () => {
    expect(maskId('123X')).toBe('**************123X')
    expect(maskId('123X')).toHaveLength(18)
  })
})

describe('decision dates', () => {
  const today = '2026-12-02'
  it('refuses a future decision and an end not after the start', () => {
    expect(dateProblem({ decided_on: '' }, today)).toBe('decidedMissing')
    expect(dateProblem({ decided_on: '2026-12-03' }, today)).toBe('decidedFuture')
    expect(dateProblem({ decided_on: '2026-12-01', effective_until: '2026-12-01' }, today)).toBe('untilBeforeFrom')
    expect(
      dateProblem({ decided_on: '2026-11-01', effective_from: '2026-12-10', effective_until: '2026-12-05' }, today),
    ).toBe('untilBeforeFrom')
  })
  it('accepts the usual cases', () => {
    expect(dateProblem({ decided_on: today }, today)).toBeNull()
    expect(dateProblem({ decided_on: '2026-11-01', effective_until: '2027-11-01' }, today)).toBeNull()
    expect(dateProblem({ decided_on: '2026-11-01', effective_from: '2027-01-01' }, today)).toBeNull()
  })
})

describe('who sees the links', () => {
  it('health and police officers and the city admin manage the blacklist', () => {
    expect(canManageBlacklist([{ role: 'officer', department_code: 'health' }])).toBe(true)
    expect(canManageBlacklist([{ role: 'officer', department_code: 'police' }])).toBe(true)
    expect(canManageBlacklist([{ role: 'city_admin', department_code: null }])).toBe(true)
    expect(canManageBlacklist([{ role: 'officer', department_code: 'market' }])).toBe(false)
    expect(canManageBlacklist([{ role: 'parent' }])).toBe(false)
  })
  it("only the institution's admins keep its roster", () => {
    const inst = '11111111-1111-1111-1111-111111111111'
    expect(canKeepRoster([{ role: 'institution_admin', institution_id: inst }], inst)).toBe(true)
    expect(canKeepRoster([{ role: 'institution_admin', institution_id: 'other' }], inst)).toBe(false)
    expect(canKeepRoster([{ role: 'institution_staff', institution_id: inst }], inst)).toBe(false)
    expect(canKeepRoster([{ role: 'city_admin' }], inst)).toBe(true)
    expect(canKeepRoster([{ role: 'institution_admin', institution_id: inst }], undefined)).toBe(false)
  })
})
