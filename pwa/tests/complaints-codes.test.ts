import { beforeEach, describe, expect, it } from 'vitest'
import { deviceId, forgetCode, normaliseCode, saveCode, savedCodes, validCode } from '@/views/complaints/codes'

beforeEach(() => localStorage.clear())

describe('tracking codes on the device', () => {
  it('accepts codes as people type them', () => {
    expect(normaliseCode('abcde fghij klmno pqrst')).toBe('ABCDE-FGHIJ-KLMNO-PQRST')
    expect(normaliseCode('ABCDEFGHIJKLMNOPQRST')).toBe('ABCDE-FGHIJ-KLMNO-PQRST')
    expect(validCode('demoa-aaaaa-aaaaa-aaaaa')).toBe(true)
    expect(validCode('ABCDE-FGHIJ-KLMNO-PQRS1')).toBe(false) // 1 is not base32
    expect(validCode('short')).toBe(false)
  })
  it('keeps the newest first, without repeats, and forgets on request', () => {
    saveCode({ code: 'AAAAA-AAAAA-AAAAA-AAAAA', reference: 'DQ-1', summary: 'a', savedAt: '2026-01-01T00:00:00Z' })
    saveCode({ code: 'BBBBB-BBBBB-BBBBB-BBBBB', reference: 'DQ-2', summary: 'b', savedAt: '2026-01-02T00:00:00Z' })
    saveCode({ code: 'AAAAA-AAAAA-AAAAA-AAAAA', reference: 'DQ-1', summary: 'a', savedAt: '2026-01-03T00:00:00Z' })
    expect(savedCodes().map((c) => c.reference)).toEqual(['DQ-1', 'DQ-2'])
    forgetCode('AAAAA-AAAAA-AAAAA-AAAAA')
    expect(savedCodes().map((c) => c.reference)).toEqual(['DQ-2'])
  })
  it('keeps one random device id', () => {
    const id = deviceId()
    expect(id).toMatch(/^[0-9a-f]{32}$/)
    expect(deviceId()).toBe(id)
  })
})
