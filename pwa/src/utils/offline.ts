// Keeping the last good answer of a GET on the device (IndexedDB via idb-keyval), so search results
// and my bookings stay readable offline. `kept` answers fresh data when the network works and
// the saved copy, marked stale with its time, when it does not.
import { clear, createStore, del, get, set } from 'idb-keyval'
import { ApiError, type Query } from '@/api/client'

const store = () => createStore('dq-cache', 'responses')

export interface Cached<T> {
  data: T
  savedAt: string
  stale: boolean
}

export function cacheKey(path: string, query?: Query): string {
  return query ? `${path}?${JSON.stringify(query, Object.keys(query).sort())}` : path
}

/** Any read kept on the device under `key` (a typed call: `kept(cacheKey(path), () => data(http.GET(...)))`):
 *  fresh when the network works, the saved copy marked stale when it does not. */
export async function kept<T>(key: string, read: () => Promise<T>): Promise<Cached<T>> {
  try {
    const data = await read()
    const savedAt = new Date().toISOString()
    await set(key, { data, savedAt }, store()).catch(() => undefined)
    return { data, savedAt, stale: false }
  } catch (err) {
    if (err instanceof ApiError && err.offline) {
      const saved = await get<{ data: T; savedAt: string }>(key, store()).catch(() => undefined)
      if (saved) return { ...saved, stale: true }
    }
    throw err
  }
}

export async function readCached<T>(key: string): Promise<{ data: T; savedAt: string } | undefined> {
  return get(key, store())
}

export async function writeCached<T>(key: string, data: T): Promise<void> {
  await set(key, { data, savedAt: new Date().toISOString() }, store())
}

export async function forget(key: string): Promise<void> {
  await del(key, store())
}

/** Remove everything saved on this device (at sign-out: the next person must not read it). */
export async function clearCache(): Promise<void> {
  await clear(store())
}
