import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import type { RouteLocationNormalized } from 'vue-router'
import { newIdempotencyKey } from '@/views/care/api'
import routes from '@/views/care/routes'
import { savedSearch, saveSearch } from '@/views/care/savedSearch'
import { useAuth } from '@/stores/auth'
import type { Account } from '@/api/types'

describe('the saved search', () => {
  beforeEach(() => sessionStorage.clear())
  it('keeps the last filters for the session', () => {
    expect(savedSearch()).toBeNull()
    saveSearch({ mode: 'hourly', age: '26' })
    expect(savedSearch()).toEqual({ mode: 'hourly', age: '26' })
    saveSearch({})
    expect(savedSearch()).toBeNull()
  })
  it('ignores anything malformed', () => {
    sessionStorage.setItem('dq.care.search', '[1,2]')
    expect(savedSearch()).toBeNull()
    sessionStorage.setItem('dq.care.search', '{"mode": 3, "age": "4"}')
    expect(savedSearch()).toEqual({ age: '4' })
    sessionStorage.setItem('dq.care.search', '{nope')
    expect(savedSearch()).toBeNull()
  })
})

describe('idempotency keys', () => {
  it('are fresh UUIDs', () => {
    const a = newIdempotencyKey()
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(newIdempotencyKey()).not.toBe(a)
  })
})

describe('who may open the parent screens', () => {
  const account = (roles: Account['roles']): Account => ({ id: 'a', phone: null, email: null, display_name: null, roles })
  const grant = (role: Account['roles'][number]['role']) => ({ role, role_zh: '', institution_id: role.startsWith('institution') ? 'i1' : null, department_code: null, unit_code: null })
  const guard = (path: string) => {
    const r = routes.find((x) => x.path === path) as { beforeEnter: (to: RouteLocationNormalized) => unknown }
    return (params: Record<string, string> = {}) => r.beforeEnter({ params } as unknown as RouteLocationNormalized)
  }
  beforeEach(() => {
    localStorage.clear()
    setActivePinia(createPinia())
  })

  it('sends staff who are not parents from booking and application links to their desk', () => {
    useAuth().set(account([grant('institution_staff')]))
    expect(guard('/bookings/:id')({ id: 'b' })).toBe('/staff')
    expect(guard('/applications/:id')({ id: 'a' })).toBe('/staff')
    expect(guard('/institutions/:id/book')({ id: 'i' })).toBe('/institutions/i')
  })
  it('lets parents (also parents who are staff) and signed-out visitors through', () => {
    useAuth().set(account([grant('parent'), grant('institution_staff')]))
    expect(guard('/bookings/:id')({ id: 'b' })).toBe(true)
    useAuth().set(null)
    expect(guard('/bookings/:id')({ id: 'b' })).toBe(true) // the router's own guard asks to sign in
  })
  it('sends officers elsewhere too', () => {
    useAuth().set(account([grant('officer')]))
    expect(guard('/applications/:id')({ id: 'a' })).toBe('/me')
  })
})
