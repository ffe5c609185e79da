// Registers the service worker (built from src/sw.ts). It updates itself; the page keeps working.
// Not inside WeChat: its browser's service-worker support is unreliable and it has no Web Push, so
// there the app runs as a plain web page (its offline cache of API answers lives in IndexedDB and
// does not need the worker).
import { registerSW } from 'virtual:pwa-register'
import { inWeChat } from './utils/wechat'

export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator) || inWeChat()) return
  registerSW({ immediate: true })
}
