// Registers the service worker (built from src/sw.ts). It updates itself; the page keeps working.
import { registerSW } from 'virtual:pwa-register'

export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return
  registerSW({ immediate: true })
}
