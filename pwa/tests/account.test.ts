import { describe, expect, it } from 'vitest'
import { afterSignIn, maskPhone, validPhone } from '@/views/account/format'
import { base64UrlToUint8Array, pushState, subscriptionBody } from '@/views/account/push'

describe('base64UrlToUint8Array', () => {
  it('decodes base64url without padding', () => {
    // "hello?>" in base64 is aGVsbG8/Pg== ; base64url swaps / for _ and drops the padding
    expect(Array.from(base64UrlToUint8Array('aGVsbG8_Pg'))).toEqual([104, 101, 108, 108, 111, 63, 62])
  })
  it('decodes - and _ as + and /', () => {
    expect(Array.from(base64UrlToUint8Array('-_8'))).toEqual([0xfb, 0xff])
  })
  it('accepts padded input', () => {
    expect(Array.from(base64UrlToUint8Array('YQ=='))).toEqual([97])
  })
  it('decodes a 65-byte VAPID public key', () => {
    const bytes = new Uint8Array(65).map((_, i) => (i * 37) & 0xff)
    bytes[0] = 4
    const b64 = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
    const out = base64UrlToUint8Array(b64)
    expect(out.length).toBe(65)
    expect(out[0]).toBe(4)
    expect(Array.from(out)).toEqual(Array.from(bytes))
    expect(out.buffer).toBeInstanceOf(ArrayBuffer)
  })
})

describe('subscriptionBody', () => {
  it('keeps only what the API accepts', () => {
    const json = {
      endpoint: 'https://push.example.com/send/abc',
      expirationTime: null,
      keys: { p256dh: 'B'.repeat(87), auth: 'a'.repeat(22) },
    } as PushSubscriptionJSON
    expect(subscriptionBody(json)).toEqual({
      endpoint: 'https://push.example.com/send/abc',
      keys: { p256dh: 'B'.repeat(87), auth: 'a'.repeat(22) },
      expirationTime: null,
    })
  })
  it('refuses an incomplete subscription', () => {
    expect(() => subscriptionBody({ endpoint: 'https://x.example/1' })).toThrow()
  })
})

describe('pushState', () => {
  it('names the four states', () => {
    expect(pushState(false, null, false)).toBe('unsupported')
    expect(pushState(true, 'denied', false)).toBe('denied')
    expect(pushState(true, 'granted', true)).toBe('on')
    expect(pushState(true, 'granted', false)).toBe('off')
    expect(pushState(true, 'default', false)).toBe('off')
  })
})

describe('account helpers', () => {
  it('masks phone numbers', () => {
    expect(maskPhone('13800000002')).toBe('138****0002')
    expect(maskPhone('+86 138 0000 0001')).toBe('138****0001')
    expect(maskPhone(null)).toBe('')
  })
  it('goes back only to our own paths after sign-in', () => {
    expect(afterSignIn('/notices/abc')).toBe('/notices/abc')
    expect(afterSignIn(['/bookings'])).toBe('/bookings')
    expect(afterSignIn('https://evil.example/')).toBe('/me')
    expect(afterSignIn('//evil.example/')).toBe('/me')
    expect(afterSignIn('/\\evil.example')).toBe('/me')
    expect(afterSignIn('/login?next=/me')).toBe('/me')
    expect(afterSignIn(undefined)).toBe('/me')
    expect(afterSignIn('')).toBe('/me')
  })
  it('checks phone numbers as the API does', () => {
    expect(validPhone('13800000002')).toBe(true)
    expect(validPhone('+86 138-0000-0002')).toBe(true)
    expect(validPhone('12800000002')).toBe(false)
    expect(validPhone('1380000000')).toBe(false)
  })
})
