// Live refresh for the consoles: listen to the app's one socket (useLiveEvents) while the screen is shown,
// keep the events a screen cares about and refresh once per burst (debounced).
import { onBeforeUnmount } from 'vue'
import type { LiveEvent } from '@/api/types'
import { useLiveEvents } from '@/composables/useLiveEvents'
import { debounceBatch } from './logic'

export function useLiveRefresh(
  wanted: (e: LiveEvent) => boolean,
  refresh: (events: LiveEvent[]) => void,
  wait = 300,
): void {
  const batch = debounceBatch<LiveEvent>(refresh, wait)
  useLiveEvents((e) => {
    if (wanted(e)) batch.push(e)
  })
  onBeforeUnmount(() => batch.cancel())
}

/** The event concerns this institution (the payload names it, or it is addressed to its staff). */
export function aboutInstitution(e: LiveEvent, institutionId: string): boolean {
  const id = e.data?.institution_id
  return typeof id !== 'string' || id === institutionId
}
