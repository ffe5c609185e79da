import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useAuth } from '@/stores/auth'
import { useUnread } from '@/stores/unread'
import type { Account } from '@/api/types'

const account = (role: Account['roles'][number]['role']): Account => ({
  id: 'a',
  phone: null,
  email: null,
  display_name: null,
  roles: [{ role, role_zh: '', institution_id: role.startsWith('institution') ? 'i1' : null, department_code: null, unit_code: null }],
})

describe('the unread badge', () => {
  let fetched: string[]
  beforeEach(() => {
    localStorage.clear()
    setActivePinia(createPinia())
    fetched = []
    vi.stubGlobal('fetch', async (input: string | Request) => {
      fetched.push(input instanceof Request ? input.url : String(input)) // the typed client sends a Request
      return new Response(JSON.stringify({ total: 3, urgent: 1, institutions: [] }), {
        status: 200,
        headers: { 'Content-Type': 'application/json' },
      })
    })
  })
  afterEach(() => vi.unstubAllGlobals())

  it('is not asked for by staff (the API answers them 403)', async () => {
    useAuth().set(account('institution_staff'))
    await useUnread().refresh()
    expect(fetched.filter((u) => u.includes('/api/notices/unread'))).toEqual([])
    expect(useUnread().total).toBe(0)
  })

  it('is asked for by parents', async () => {
    useAuth().set(account('parent'))
    await useUnread().refresh()
    expect(fetched.some((u) => u.includes('/api/notices/unread'))).toBe(true)
    expect(useUnread().total).toBe(3)
  })
})
