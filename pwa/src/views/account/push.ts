// Web Push for this device: the browser's PushManager subscription, registered with the API so it can
// send notifications when the app is closed. The pure parts (key decoding, the request body, the
// state) are exported for the unit tests; the rest talks to the browser and the API.
import { data, http } from '@/api/http'
import type { Schema } from '@/api/types'

export type PushState = 'unsupported' | 'denied' | 'on' | 'off'

/** The VAPID public key (base64url, as the API gives it) as the bytes PushManager expects. */
export function base64UrlToUint8Array(value: string): Uint8Array<ArrayBuffer> {
  const padded = value.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '')
  const base64 = padded + '='.repeat((4 - (padded.length % 4)) % 4)
  const raw = atob(base64)
  const out = new Uint8Array(new ArrayBuffer(raw.length))
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i)
  return out
}

export type SubscriptionBody = Schema<'SubscriptionIn'>

/** The body of POST /api/push/subscriptions from `subscription.toJSON()` (only the fields it accepts). */
export function subscriptionBody(json: PushSubscriptionJSON): SubscriptionBody {
  const p256dh = json.keys?.p256dh
  const auth = json.keys?.auth
  if (!json.endpoint || !p256dh || !auth) throw new Error('incomplete push subscription')
  return { endpoint: json.endpoint, keys: { p256dh, auth }, expirationTime: json.expirationTime ?? null }
}

/** What the settings screen shows, from what the browser supports and allows. */
export function pushState(supported: boolean, permission: NotificationPermission | null, subscribed: boolean): PushState {
  if (!supported) return 'unsupported'
  if (permission === 'denied') return 'denied'
  return subscribed && permission === 'granted' ? 'on' : 'off'
}

export function pushSupported(): boolean {
  return (
    typeof window !== 'undefined' &&
    'serviceWorker' in navigator &&
    'PushManager' in window &&
    'Notification' in window &&
    window.isSecureContext
  )
}

async function registration(timeoutMs = 10_000): Promise<ServiceWorkerRegistration> {
  return Promise.race([
    navigator.serviceWorker.ready,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('the service worker is not ready')), timeoutMs),
    ),
  ])
}

export async function currentSubscription(): Promise<PushSubscription | null> {
  if (!pushSupported()) return null
  const reg = await navigator.serviceWorker.getRegistration()
  return reg ? reg.pushManager.getSubscription() : null
}

export async function currentPushState(): Promise<PushState> {
  if (!pushSupported()) return 'unsupported'
  const sub = await currentSubscription().catch(() => null)
  return pushState(true, Notification.permission, sub !== null)
}

/** Ask permission, subscribe this browser and tell the API. */
export async function enablePush(): Promise<PushState> {
  if (!pushSupported()) return 'unsupported'
  const permission = await Notification.requestPermission()
  if (permission !== 'granted') return pushState(true, permission, false)
  const { public_key } = await data(http.GET('/api/push/vapid-public-key'))
  const reg = await registration()
  let sub = await reg.pushManager.getSubscription()
  if (!sub) {
    sub = await reg.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: base64UrlToUint8Array(public_key),
    })
  }
  await data(http.POST('/api/push/subscriptions', { body: subscriptionBody(sub.toJSON()) }))
  return 'on'
}

/** Tell the API to stop, then drop the browser's subscription. */
export async function disablePush(): Promise<PushState> {
  const sub = await currentSubscription()
  if (sub) {
    try {
      const body: Schema<'UnsubscribeIn'> = { endpoint: sub.endpoint }
      await data(http.POST('/api/push/unsubscribe', { body }))
    } catch (err) {
      // 404: the server had already forgotten it; unsubscribe locally anyway
      if (!(err instanceof Error && 'status' in err && (err as { status: number }).status === 404)) throw err
    }
    await sub.unsubscribe()
  }
  return pushState(pushSupported(), pushSupported() ? Notification.permission : null, false)
}
