// Inside WeChat's built-in browser (UA "MicroMessenger"): WeChat sign-in, subscription messages
// instead of Web Push, and the JS-SDK (bundled from the weixin-js-sdk package: the CSP allows
// scripts from 'self' only) for the location. Outside WeChat none of this runs.
import { data, http } from '@/api/http'
import type { Schema } from '@/api/types'
import { fromDisplay, type LatLng } from './geo'

export type WeChatStatus = Schema<'WeChatStatusOut'>

export function inWeChat(ua: string = navigator.userAgent): boolean {
  return /MicroMessenger/i.test(ua)
}

let status: Promise<WeChatStatus> | null = null

/** Whether the city switched WeChat on (cached for the page's life; off when unreachable). */
export function wechatStatus(): Promise<WeChatStatus> {
  status ??= data(http.GET('/api/wechat/status')).catch(() => {
    status = null
    return { enabled: false, app_id: null, event_kinds: [] }
  })
  return status
}

/** Where to send the browser to sign in with WeChat ('base': silent; 'userinfo': WeChat asks). */
export function wechatSignInUrl(scope: 'base' | 'userinfo', next: string): string {
  const q = new URLSearchParams({ scope, next: next.startsWith('/') && !next.startsWith('//') ? next : '/' })
  return `/api/wechat/authorize?${q}`
}

const BOUND_KEY = 'dq.wechat.bound'
/** This browser has signed in with WeChat before: opening the app signs in silently. */
export const wechatRemembered = {
  get: () => localStorage.getItem(BOUND_KEY) === '1',
  set: (on: boolean) => (on ? localStorage.setItem(BOUND_KEY, '1') : localStorage.removeItem(BOUND_KEY)),
}

type Wx = typeof import('weixin-js-sdk').default
let configured: Promise<Wx> | null = null

/** wx.config for this page (signed by the server), once per page. */
export function wxReady(): Promise<Wx> {
  configured ??= (async () => {
    const wx = (await import('weixin-js-sdk')).default
    const url = location.href.split('#')[0]
    const cfg = await data(http.GET('/api/wechat/jssdk-config', { params: { query: { url } } }))
    return new Promise<Wx>((resolve, reject) => {
      wx.config({
        debug: false,
        appId: cfg.app_id,
        timestamp: cfg.timestamp,
        nonceStr: cfg.nonce_str,
        signature: cfg.signature,
        jsApiList: ['getLocation', 'updateAppMessageShareData'],
        openTagList: ['wx-open-subscribe'],
      } as Parameters<Wx['config']>[0])
      wx.ready(() => resolve(wx))
      wx.error((err) => reject(new Error(err.errMsg)))
    })
  })().catch((err) => {
    configured = null
    throw err
  })
  return configured
}

/** The card WeChat shows when this page is sent to a chat from WeChat's own menu (「…」→「发送给朋友」):
 * the page can only describe the card, WeChat alone can share. Silently nothing when the JS-SDK is not
 * available (WeChat off, a domain not listed in the WeChat console). */
export async function wechatShareCard(card: { title: string; desc: string; path: string }): Promise<void> {
  try {
    const wx = await wxReady()
    wx.updateAppMessageShareData({
      title: card.title,
      desc: card.desc,
      link: new URL(card.path, location.origin).toString(),
      imgUrl: new URL('/icons/icon-192.png', location.origin).toString(),
    } as Parameters<Wx['updateAppMessageShareData']>[0])
  } catch {
    /* no card: WeChat shares the page with its default title */
  }
}

/** The position from WeChat (GCJ-02), converted to WGS-84 as the API expects. */
export async function wechatLocate(timeoutMs = 10_000): Promise<LatLng> {
  const wx = await wxReady()
  return new Promise<LatLng>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('location timeout')), timeoutMs)
    wx.getLocation({
      type: 'gcj02',
      success: (res) => {
        clearTimeout(timer)
        resolve(fromDisplay({ lat: res.latitude, lng: res.longitude }, 'gcj02'))
      },
      fail: (err: { errMsg?: string }) => {
        clearTimeout(timer)
        reject(new Error(err?.errMsg ?? 'location failed'))
      },
      cancel: () => {
        clearTimeout(timer)
        reject(new Error('location cancelled'))
      },
    } as Parameters<Wx['getLocation']>[0])
  })
}

/** From wx-open-subscribe's success event: the event kinds whose template the person accepted. */
export function acceptedKinds(subscribeDetails: string, kinds: WeChatStatus['event_kinds']): string[] {
  let details: Record<string, string> = {}
  try {
    details = JSON.parse(subscribeDetails) as Record<string, string>
  } catch {
    return []
  }
  return kinds
    .filter((k) => {
      const raw = details[k.template_id]
      if (!raw) return false
      try {
        return (JSON.parse(raw) as { status?: string }).status === 'accept'
      } catch {
        return false
      }
    })
    .map((k) => k.kind)
}

const TRIED_KEY = 'dq.wechat.tried'
/** Opening the app in WeChat signs a person in silently (snsapi_base) once this browser has signed
 * in with WeChat before; tried once per browsing session. True when the page is navigating away. */
export async function silentSignIn(next: string): Promise<boolean> {
  if (!inWeChat() || !wechatRemembered.get() || sessionStorage.getItem(TRIED_KEY)) return false
  if (!(await wechatStatus()).enabled) return false
  sessionStorage.setItem(TRIED_KEY, '1')
  location.assign(wechatSignInUrl('base', next))
  return true
}
