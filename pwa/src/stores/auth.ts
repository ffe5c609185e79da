// The signed-in account. Sign-in sets the HttpOnly session cookie; the account (ids and roles only,
// never a child's data) is remembered so the app can show the right tabs while offline.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { ApiError, onUnauthorized } from '@/api/client'
import { data, http } from '@/api/http'
import type { Account } from '@/api/types'
import { clearCache } from '@/utils/offline'

const KEY = 'dq.account'

function remembered(): Account | null {
  try {
    const raw = localStorage.getItem(KEY)
    return raw ? (JSON.parse(raw) as Account) : null
  } catch {
    return null
  }
}

export const useAuth = defineStore('auth', () => {
  const account = ref<Account | null>(remembered())
  const checked = ref(false)

  function set(next: Account | null) {
    account.value = next
    if (next) localStorage.setItem(KEY, JSON.stringify(next))
    else localStorage.removeItem(KEY)
  }

  /** Ask the server who we are; offline, keep what we remembered. */
  async function refresh(): Promise<void> {
    try {
      set(await data(http.GET('/api/me')))
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) set(null)
      else if (!(err instanceof ApiError && err.offline)) throw err
    } finally {
      checked.value = true
    }
  }

  async function loginWithPassword(login: string, password: string): Promise<void> {
    const session = await data(http.POST('/api/auth/login', { body: { login, password } }))
    set(session.account)
  }

  async function requestCode(phone: string) {
    return data(http.POST('/api/auth/code', { body: { phone } }))
  }

  async function verifyCode(phone: string, code: string): Promise<void> {
    const session = await data(http.POST('/api/auth/code/verify', { body: { phone, code } }))
    set(session.account)
  }

  async function logout(): Promise<void> {
    try {
      await data(http.POST('/api/auth/logout'))
    } finally {
      set(null)
      await clearCache().catch(() => undefined)
    }
  }

  const signedIn = computed(() => account.value !== null)
  const has = (role: string) => account.value?.roles.some((g) => g.role === role) ?? false
  const isParent = computed(() => has('parent'))
  /** Institutions where this account is staff or admin. */
  const staffInstitutionIds = computed(() =>
    (account.value?.roles ?? [])
      .filter((g) => g.role === 'institution_staff' || g.role === 'institution_admin')
      .map((g) => g.institution_id as string),
  )
  const isStaff = computed(() => staffInstitutionIds.value.length > 0)
  const isOfficer = computed(() => has('officer') || has('city_admin'))
  const isCityAdmin = computed(() => has('city_admin'))

  onUnauthorized(() => set(null))

  return {
    account, checked, signedIn, isParent, isStaff, isOfficer, isCityAdmin, staffInstitutionIds,
    refresh, loginWithPassword, requestCode, verifyCode, logout, set,
  }
})
