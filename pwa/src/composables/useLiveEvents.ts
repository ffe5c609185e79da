import { onBeforeUnmount } from 'vue'
import type { LiveEvent } from '@/api/types'
import { useLive } from '@/stores/live'

/** Listen to live events while the calling component is mounted. */
export function useLiveEvents(handler: (e: LiveEvent) => void): void {
  const off = useLive().on(handler)
  onBeforeUnmount(off)
}
