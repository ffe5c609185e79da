// useLoad for lists read a page at a time (limit/offset): the rows shown so far, whether there are
// more, progress for the first page and for "load more", the error, and a stale copy's time.
//   const { items, hasMore, loading, loadingMore, error, staleAt, load, loadMore } =
//     usePagedLoad((limit, offset) => data(http.GET('/api/notices', { params: { query: { limit, offset } } })), { page: 30 })
// The loader answers rows (`T[]`), rows kept on the device (`Cached<T[]>`, see utils/offline: a stale
// copy ends the paging) or a page with its total (`{ items, total }`).
// `load()` reads the first page again; `load({ keep: true })` asks for as many rows as are shown (up to
// `max`), so a refresh after a live event does not shrink the list; `load({ quiet: true })` shows no
// spinner and keeps what is shown on failure. `loadMore()` appends the next page, dropping rows
// already shown (by `key`); an answer overtaken by a newer load is dropped.
import { ref, type Ref } from 'vue'
import { errorText } from '@/api/client'
import { dateTime } from '@/utils/format'
import type { Cached } from '@/utils/offline'

export type PageAnswer<T> = T[] | Cached<T[]> | { items: T[]; total: number }

export interface PagedOptions<T> {
  /** Rows per page. */
  page: number
  /** The most rows one request may ask for (the API's limit). */
  max?: number
  /** A row's identity, to drop rows a later page repeats (the list moved between pages). */
  key?: (row: T) => unknown
  /** Where a failed "load more" is said (default: the error state, as a failed first page). */
  onMoreError?: (message: string) => void
}

interface Normal<T> {
  rows: T[]
  total: number | null
  stale: boolean
  savedAt: string | null
}

function normal<T>(answer: PageAnswer<T>): Normal<T> {
  if (Array.isArray(answer)) return { rows: answer, total: null, stale: false, savedAt: null }
  if ('total' in answer) return { rows: answer.items, total: answer.total, stale: false, savedAt: null }
  return { rows: answer.data, total: null, stale: answer.stale, savedAt: answer.savedAt }
}

export function usePagedLoad<T>(loader: (limit: number, offset: number) => Promise<PageAnswer<T>>, options: PagedOptions<T>) {
  const max = options.max ?? 100
  const items = ref<T[] | null>(null) as Ref<T[] | null>
  const total = ref<number | null>(null)
  const hasMore = ref(false)
  const loading = ref(false)
  const loadingMore = ref(false)
  const error = ref<string | null>(null)
  const staleAt = ref<string | null>(null)
  let latest = 0

  function more(shown: number, got: number, asked: number, answer: Normal<T>): boolean {
    if (answer.stale) return false
    if (answer.total !== null) return shown < answer.total
    return got >= asked
  }

  async function load(how: { keep?: boolean; quiet?: boolean } = {}): Promise<void> {
    const ticket = ++latest
    const limit = how.keep ? Math.min(max, Math.max(options.page, items.value?.length ?? 0)) : options.page
    if (!how.quiet) loading.value = true
    error.value = null
    try {
      const answer = normal(await loader(limit, 0))
      if (ticket !== latest) return
      items.value = answer.rows
      total.value = answer.total
      staleAt.value = answer.stale && answer.savedAt ? dateTime(answer.savedAt) : null
      hasMore.value = more(answer.rows.length, answer.rows.length, limit, answer)
    } catch (err) {
      if (ticket === latest && !how.quiet) error.value = errorText(err)
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  async function loadMore(): Promise<void> {
    const ticket = latest
    const shown = items.value ?? []
    loadingMore.value = true
    try {
      const answer = normal(await loader(options.page, shown.length))
      if (ticket !== latest) return
      const key = options.key
      const seen = key ? new Set(shown.map(key)) : null
      const rows = seen && key ? answer.rows.filter((r) => !seen.has(key(r))) : answer.rows
      items.value = [...shown, ...rows]
      total.value = answer.total
      hasMore.value = more(items.value.length, answer.rows.length, options.page, answer)
    } catch (err) {
      if (ticket !== latest) return
      if (options.onMoreError) options.onMoreError(errorText(err))
      else error.value = errorText(err)
    } finally {
      loadingMore.value = false
    }
  }

  return { items, total, hasMore, loading, loadingMore, error, staleAt, load, loadMore }
}
