import { describe, expect, it } from 'vitest'
import messages from '@/views/account/messages'
import { CHILD_DATA_POLICY_VERSION, newChildBody } from '@/views/account/children'

const draft = { name: ' 甜甜 ', birth_date: '2025-06-01', relation: 'father' as const, consent: true }

describe('newChildBody', () => {
  it('sends the guardian consent with the current notice version', () => {
    expect(newChildBody(draft)).toEqual({
      name: '甜甜',
      birth_date: '2025-06-01',
      relation: 'father',
      consent: { policy_version: CHILD_DATA_POLICY_VERSION, accepted: true },
    })
  })
  it('refuses to build a request without consent', () => {
    expect(newChildBody({ ...draft, consent: false })).toBeNull()
  })
  it('refuses an incomplete form', () => {
    expect(newChildBody({ ...draft, name: '  ' })).toBeNull()
    expect(newChildBody({ ...draft, relation: '' })).toBeNull()
    expect(newChildBody({ ...draft, birth_date: '' })).toBeNull()
  })
})

describe('consent notice', () => {
  it('is written in Chinese and English, naming the same notice version', () => {
    const zh = messages['zh-CN'].account.children
    const en = messages.en.account.children
    for (const key of ['consentLabel', 'consentRequired', 'consentDetailsTitle', 'consentDetails'] as const) {
      expect(zh[key]).toBeTruthy()
      expect(en[key]).toBeTruthy()
    }
    expect(zh.consentDetailsTitle).toContain(CHILD_DATA_POLICY_VERSION)
    expect(en.consentDetailsTitle).toContain(CHILD_DATA_POLICY_VERSION)
  })
})
