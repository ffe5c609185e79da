import { describe, expect, it } from 'vitest'
import { acceptedKinds, inWeChat, wechatSignInUrl } from '@/utils/wechat'

const kinds = [
  { kind: 'bookings' as const, label_zh: '托育预约提醒', template_id: 'T1' },
  { kind: 'notices' as const, label_zh: '通知公告', template_id: 'T2' },
]

describe('inWeChat', () => {
  it("recognises WeChat's browser by MicroMessenger", () => {
    expect(inWeChat('Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c)')).toBe(true)
    expect(inWeChat('Mozilla/5.0 (Linux; Android 13) Chrome/120.0 Mobile Safari/537.36')).toBe(false)
  })
})

describe('wechatSignInUrl', () => {
  it('keeps only paths of the app as next', () => {
    expect(wechatSignInUrl('base', '/care?x=1')).toBe('/api/wechat/authorize?scope=base&next=%2Fcare%3Fx%3D1')
    expect(wechatSignInUrl('userinfo', '//evil.example')).toBe('/api/wechat/authorize?scope=userinfo&next=%2F')
  })
})

describe('acceptedKinds', () => {
  it('reads the kinds whose template was accepted from subscribeDetails', () => {
    const details = JSON.stringify({ T1: JSON.stringify({ status: 'accept' }), T2: JSON.stringify({ status: 'reject' }) })
    expect(acceptedKinds(details, kinds)).toEqual(['bookings'])
  })
  it('ignores malformed details', () => {
    expect(acceptedKinds('not json', kinds)).toEqual([])
    expect(acceptedKinds(JSON.stringify({ T1: '{' }), kinds)).toEqual([])
  })
})
