import { describe, expect, it } from 'vitest'
import { ackRequest, notificationFor } from '@/utils/notification'

describe('push acknowledgement', () => {
  it('posts the payload token without credentials, and only a well-formed one', () => {
    const token = `42.${'a'.repeat(32)}.${'b'.repeat(32)}`
    const req = ackRequest({ ack: token })
    expect(req?.url).toBe('/api/notify/ack')
    expect(req?.init.method).toBe('POST')
    expect(req?.init.credentials).toBe('omit')
    expect(JSON.parse(String(req?.init.body))).toEqual({ token })
    expect(ackRequest({})).toBeNull()
    expect(ackRequest({ ack: 'https://evil.example/' })).toBeNull()
  })

  it('keeps critical notifications on screen until the person acts', () => {
    expect(notificationFor({ urgency: 'critical' }).options.requireInteraction).toBe(true)
    expect(notificationFor({ urgency: 'normal' }).options.requireInteraction).toBe(false)
  })
})
