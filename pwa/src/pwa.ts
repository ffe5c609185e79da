// Registers the service worker (built from src/sw.ts). It updates itself; the page keeps working.
//
// Installing the worker downloads the whole precached shell (every screen's JavaScript and CSS). On a
// first visit over a slow link that would compete with the first screen for bandwidth, so the worker is
// registered only once the first screen is interactive (issue 26 §6): after the router has shown its
// first route and the page's load event, when the browser is idle (at most a few seconds later).
import { registerSW } from 'virtual:pwa-register'

const IDLE_TIMEOUT_MS = 3000

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

/** Register once ``firstScreen`` (the router's first navigation) has settled, the page has loaded and
 * the browser is idle. A page already controlled by a worker (a returning visit) registers at once:
 * there is nothing left to precache for the first screen to compete with. */
export async function registerServiceWorker(firstScreen: Promise<unknown>): Promise<void> {
  if (!('serviceWorker' in navigator)) return
  if (!navigator.serviceWorker.controller) {
    await firstScreen.catch(() => undefined)
    await loaded()
    await idle()
  }
  registerSW({ immediate: true })
}
