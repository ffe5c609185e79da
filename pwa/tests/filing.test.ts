import { describe, expect, it } from 'vitest'
import messages from '@/views/filing/messages'
import {
  KINDS,
  daysLeft,
  documentsPayload,
  fileProblem,
  isRequired,
  listsOf,
  missingKinds,
  openPath,
  statusTag,
} from '@/views/filing/logic'

describe('filing rules', () => {
  it('needs one registration document and every always-required kind', () => {
    expect(missingKinds({}, false)).toEqual([
      'business_licence',
      'legal_person_certificate',
      'site_proof',
      'staff_qualifications',
      'health_certificates',
      'health_evaluation',
      'fire_safety',
    ])
    const complete = { legal_person_certificate: 1, site_proof: 2, staff_qualifications: 1, health_certificates: 1, health_evaluation: 1, fire_safety: 1 }
    expect(missingKinds(complete, false)).toEqual([])
    expect(missingKinds({ ...complete, business_licence: 1, legal_person_certificate: 0 }, false)).toEqual([])
    expect(missingKinds({ ...complete, fire_safety: 0 }, false)).toEqual(['fire_safety'])
  })

  it('asks for the food licence only when meals are served', () => {
    const complete = { business_licence: 1, site_proof: 1, staff_qualifications: 1, health_certificates: 1, health_evaluation: 1, fire_safety: 1 }
    expect(missingKinds(complete, true)).toEqual(['food_licence'])
    expect(missingKinds({ ...complete, food_licence: 1 }, true)).toEqual([])
    expect(isRequired('food_licence', false)).toBe(false)
    expect(isRequired('food_licence', true)).toBe(true)
    expect(isRequired('site_proof', false)).toBe(true)
  })

  it('sends every kind in order and leaves empty ones out', () => {
    const lists = listsOf([
      { kind: 'site_proof', kind_zh: '场地证明', required: true, files: [{ id: 'a' }, { id: 'b' }] },
      { kind: 'fire_safety', kind_zh: '消防安全证明', required: true, files: [] },
    ] as never)
    expect(documentsPayload(lists)).toEqual({ site_proof: ['a', 'b'] })
    expect(documentsPayload({ food_licence: ['x'], business_licence: ['y'] })).toEqual({ business_licence: ['y'], food_licence: ['x'] })
  })

  it('refuses files the API would refuse, before uploading', () => {
    expect(fileProblem({ type: 'application/pdf', size: 1000 })).toBeNull()
    expect(fileProblem({ type: 'image/webp', size: 1000 })).toBeNull()
    expect(fileProblem({ type: 'application/msword', size: 1000 })).toBe('type')
    expect(fileProblem({ type: 'application/pdf', size: 20 * 1024 * 1024 + 1 })).toBe('size')
    expect(fileProblem({ type: '', size: 10 })).toBeNull() // unknown to the browser: the server decides by content
  })

  it('counts days to the due date and colours statuses', () => {
    const now = new Date('2026-12-02T00:00:00Z')
    expect(daysLeft('2026-12-05T00:00:00Z', now)).toBe(3)
    expect(daysLeft('2026-11-30T12:00:00Z', now)).toBe(-2)
    expect(statusTag('filed')).toBe('success')
    expect(statusTag('returned')).toBe('danger')
    expect(statusTag('submitted')).toBe('primary')
    expect(statusTag('unfiled')).toBe('warning')
  })

  it('sends event links to the review or the staff screen', () => {
    expect(openPath('f1', true, ['i1'])).toBe('/officer/filings/f1')
    expect(openPath('f1', false, ['i1'])).toBe('/staff/i1/filing')
    expect(openPath('f1', false, ['i1', 'i2'])).toBe('/staff?pick=1')
  })

  it('names every kind and status in both languages', () => {
    for (const lang of ['zh-CN', 'en'] as const) {
      const m = messages[lang].filing
      for (const k of KINDS) expect(m.kinds[k]).toBeTruthy()
      for (const s of ['unfiled', 'submitted', 'filed', 'returned'] as const) expect(m.status[s]).toBeTruthy()
      expect(Object.keys(m).sort()).toEqual(Object.keys(messages['zh-CN'].filing).sort())
    }
  })
})
