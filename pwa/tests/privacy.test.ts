import { describe, expect, it } from 'vitest'
import { eraseBody, exportFileName } from '@/views/privacy/logic'
import messages from '@/views/privacy/messages'

describe('exportFileName', () => {
  it('names the file after the local day', () => {
    expect(exportFileName(new Date(2026, 0, 5, 23, 59))).toBe('daqing-my-data-20260105.json')
    expect(exportFileName(new Date(2026, 11, 31))).toBe('daqing-my-data-20261231.json')
  })
})

describe('eraseBody', () => {
  it('sends the password as typed', () => {
    expect(eraseBody('password', ' pw with spaces ')).toEqual({ body: { password: ' pw with spaces ' } })
  })
  it('refuses an empty password', () => {
    expect(eraseBody('password', '   ')).toEqual({ error: 'privacy.passwordRequired' })
  })
  it('sends a six-digit code, trimmed', () => {
    expect(eraseBody('code', ' 123456 ')).toEqual({ body: { code: '123456' } })
  })
  it('refuses anything but six digits', () => {
    for (const bad of ['', '12345', '1234567', '12a456']) {
      expect(eraseBody('code', bad)).toEqual({ error: 'privacy.codeInvalid' })
    }
  })
})

describe('messages', () => {
  it('has every Chinese key in English too', () => {
    expect(Object.keys(messages.en.privacy).sort()).toEqual(Object.keys(messages['zh-CN'].privacy).sort())
    expect(messages['zh-CN'].privacy.title).toBe('我的数据')
    expect(messages.en.privacy.title).toBe('My data')
  })
})
