/// <reference lib="webworker" />
// The service worker: precaches the app shell (so it opens with no network), answers navigations with
// index.html, caches map tiles, shows Web Push notifications and opens the right screen on a tap.
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching'
import { NavigationRoute, registerRoute } from 'workbox-routing'
import { CacheFirst } from 'workbox-strategies'
import { ExpirationPlugin } from 'workbox-expiration'
import { ackRequest, notificationFor, parsePush } from './utils/notification'
import { safePath } from './utils/paths'

declare const self: ServiceWorkerGlobalScope

self.skipWaiting()
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()))

cleanupOutdatedCaches()
precacheAndRoute(self.__WB_MANIFEST)

// The API, the socket and the docs are never answered with the app's page.
registerRoute(
  new NavigationRoute(createHandlerBoundToURL('/index.html'), {
    denylist: [/^\/api\//, /^\/ws/, /^\/schema/, /^\/open311\//, /^\/health\/?$/],
  }),
)

// Map tiles: keep what was seen so a map viewed before still draws offline.
registerRoute(
  ({ url }) => url.hostname.endsWith('autonavi.com') || url.hostname.endsWith('openstreetmap.org'),
  new CacheFirst({
    cacheName: 'map-tiles',
    plugins: [new ExpirationPlugin({ maxEntries: 800, maxAgeSeconds: 14 * 24 * 3600 })],
  }),
)

self.addEventListener('push', (event) => {
  const body = parsePush(event.data)
  const { title, options } = notificationFor(body)
  const ack = ackRequest(body)
  event.waitUntil(
    (async () => {
      await self.registration.showNotification(title, options)
      // Shown: tell the server, so a critical event does not also go by SMS. A failed report only
      // means an SMS may follow; it never hides the notification.
      if (ack) {
        const sent = await fetch(ack.url, ack.init).then((r) => r.ok || r.status === 404, () => false)
        if (!sent) {
          await new Promise((resolve) => setTimeout(resolve, 2000)) // once more, after a pause
          await fetch(ack.url, ack.init).catch(() => undefined)
        }
      }
    })(),
  )
})

self.addEventListener('notificationclick', (event) => {
  event.notification.close()
  const path = safePath((event.notification.data as { url?: string } | null)?.url)
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true })
      for (const client of windows) {
        if (new URL(client.url).origin === self.location.origin) {
          await client.focus()
          client.postMessage({ type: 'navigate', url: path })
          return
        }
      }
      await self.clients.openWindow(path)
    })(),
  )
})
