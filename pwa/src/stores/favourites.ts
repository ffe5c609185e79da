// 收藏: the signed-in account's favourite institutions. The list is kept on the device (per account, in
// the offline cache that sign-out clears), so it shows offline; adding and removing need the network
// (PUT/DELETE /api/me/favourites/{id}, idempotent: a double tap is harmless).
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { data, http } from '@/api/http'
import type { Schema } from '@/api/types'
import { kept, writeCached } from '@/utils/offline'

export type Favourite = Schema<'FavouriteOut'>

export interface FavouriteTarget {
  id: string
  name: string
  unit_name_zh: string
  address: string
}

const key = (accountId: string) => `favourites:${accountId}`

export const useFavourites = defineStore('favourites', () => {
  const items = ref<Favourite[]>([])
  const owner = ref<string | null>(null)
  const savedAt = ref<string | null>(null)
  const stale = ref(false)
  const ids = computed(() => new Set(items.value.map((i) => i.institution_id)))
  let loading: Promise<void> | null = null

  /** Load the account's list once (again when the account changes); offline, the saved copy. */
  function ensure(accountId: string): Promise<void> {
    if (owner.value === accountId && loading) return loading
    owner.value = accountId
    loading = kept(key(accountId), () => data(http.GET('/api/me/favourites')))
      .then((r) => {
        if (owner.value !== accountId) return
        items.value = r.data.items
        savedAt.value = r.savedAt
        stale.value = r.stale
      })
      .catch((err) => {
        loading = null
        throw err
      })
    return loading
  }

  async function save(): Promise<void> {
    if (owner.value) await writeCached(key(owner.value), { items: items.value }).catch(() => undefined)
  }

  async function toggle(target: FavouriteTarget): Promise<boolean> {
    if (ids.value.has(target.id)) {
      await data(http.DELETE('/api/me/favourites/{institution_id}', { params: { path: { institution_id: target.id } } }))
      items.value = items.value.filter((i) => i.institution_id !== target.id)
      await save()
      return false
    }
    await data(http.PUT('/api/me/favourites/{institution_id}', { params: { path: { institution_id: target.id } } }))
    const added: Favourite = {
      institution_id: target.id, name: target.name, unit_name_zh: target.unit_name_zh, address: target.address,
      added_at: new Date().toISOString(),
    }
    items.value = [added, ...items.value.filter((i) => i.institution_id !== target.id)]
    await save()
    return true
  }

  function reset(): void {
    items.value = []
    owner.value = null
    loading = null
  }

  return { items, ids, savedAt, stale, ensure, toggle, reset }
})
