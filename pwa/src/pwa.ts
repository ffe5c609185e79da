// Registers the service worker (built from src/sw.ts). It updates itself; the page keeps working.
//
// Installing the worker downloads the whole precached shell (every screen's JavaScript and CSS). On a
// first visit over a slow link that would compete with the first screen for bandwidth, so the worker is
// registered only once the first screen is interactive (issue 26 §6): after the router has shown its
// first route, the page's load event and the first screen's API requests, when the browser is idle.
// bench/first_load.py measures it (the registration comes after the first screen is usable).
import { registerSW } from 'virtual:pwa-register'
import { apiQuiet } from '@/api/client'
import { inWeChat } from './utils/wechat'

const IDLE_TIMEOUT_MS = 3000
const QUIET_TIMEOUT_MS = 10_000

function loaded(): Promise<void> {
  if (document.readyState === 'complete') return Promise.resolve()
  return new Promise((resolve) => window.addEventListener('load', () => resolve(), { once: true }))
}

function idle(): Promise<void> {
  return new Promise((resolve) => {
    if ('requestIdleCallback' in window) window.requestIdleCallback(() => resolve(), { timeout: IDLE_TIMEOUT_MS })
    else setTimeout(resolve, 200)
  })
}

function quiet(): Promise<void> {
  return Promise.race([apiQuiet(), new Promise<void>((resolve) => setTimeout(resolve, QUIET_TIMEOUT_MS))])
}

/** Register once ``firstScreen`` (the router's first navigation) has settled, the page has loaded, the
 * first screen's data has arrived (at most 10 s) and the browser is idle. A page already controlled by a
 * worker (a returning visit) registers at once: nothing is left to precache that could compete. */
export async function registerServiceWorker(firstScreen: Promise<unknown>): Promise<void> {
  // Not inside WeChat: its browser's service-worker support is unreliable and it has no Web Push, so
  // there the app runs as a plain web page (its offline cache of API answers lives in IndexedDB).
  if (!('serviceWorker' in navigator) || inWeChat()) return
  if (!navigator.serviceWorker.controller) {
    await firstScreen.catch(() => undefined)
    await loaded()
    await idle()
    await quiet()
    await idle()
  }
  registerSW({ immediate: true })
}
