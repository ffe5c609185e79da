// The state every screen that loads something keeps: the data, a loading flag (visible progress), the
// error text (with retry), and — for answers kept on the device — the time of a stale copy shown
// offline. Pair with components/PageState.vue:
//   const { data, loading, error, staleAt, load } = useLoad(() => kept(cacheKey('/api/bookings'), () => data(http.GET('/api/bookings'))))
//   <PageState :loading="loading" :error="error" :has-data="data !== null" :stale-at="staleAt" @retry="load()">
// `load(true)` refreshes quietly (after a live event): no spinner, and a failure keeps what is shown.
import { ref, type Ref } from 'vue'
import { errorText } from '@/api/client'
import { dateTime } from '@/utils/format'
import type { Cached } from '@/utils/offline'

function isCached<T>(value: T | Cached<T>): value is Cached<T> {
  return typeof value === 'object' && value !== null && 'stale' in value && 'savedAt' in value && 'data' in value
}

export function useLoad<T>(loader: () => Promise<T | Cached<T>>) {
  const data = ref<T | null>(null) as Ref<T | null>
  const loading = ref(false)
  const error = ref<string | null>(null)
  const staleAt = ref<string | null>(null)
  let latest = 0

  async function load(quiet = false): Promise<void> {
    const ticket = ++latest // an older, slower answer never overwrites a newer one
    if (!quiet) loading.value = true
    error.value = null
    try {
      const result = await loader()
      if (ticket !== latest) return
      if (isCached(result)) {
        data.value = result.data
        staleAt.value = result.stale ? dateTime(result.savedAt) : null
      } else {
        data.value = result
        staleAt.value = null
      }
    } catch (err) {
      if (ticket === latest && !quiet) error.value = errorText(err)
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  return { data, loading, error, staleAt, load }
}
