// The typed client keeps the rules of the old helper: JSON answers, CSRF echoed on writes, same-origin
// cookies, empty query values left out, errors as ApiError (Chinese message + code), offline as status 0,
// a 401 outside /api/auth/ told to the account store, and requests counted for apiQuiet.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, apiQuiet, errorText, onUnauthorized } from '@/api/client'
import { data, http } from '@/api/http'
import { kept } from '@/utils/offline'

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

afterEach(() => {
  vi.unstubAllGlobals()
  document.cookie = 'dq_csrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT'
})

describe('http', () => {
  it('reads typed paths with their query, same-origin, JSON', async () => {
    const seen: Request[] = []
    vi.stubGlobal('fetch', vi.fn(async (r: Request) => (seen.push(r), json(200, [{ id: 'n1' }]))))
    const out = await data(http.GET('/api/notices', { params: { query: { limit: 30, offset: 0 } } }))
    expect(out).toEqual([{ id: 'n1' }])
    const url = new URL(seen[0].url)
    expect(url.pathname).toBe('/api/notices')
    expect(url.search).toBe('?limit=30&offset=0')
    expect(seen[0].credentials).toBe('same-origin')
    expect(seen[0].headers.get('Accept')).toBe('application/json')
    expect(seen[0].headers.get('X-CSRF-Token')).toBeNull()
  })

  it('leaves empty query values out and repeats arrays, as the old helper', async () => {
    const seen: Request[] = []
    vi.stubGlobal('fetch', vi.fn(async (r: Request) => (seen.push(r), json(200, []))))
    await data(
      http.GET('/api/complaints/desk', {
        params: { query: { status: ['received', 'accepted'] as never, category: '' as never, unit: undefined } },
      }),
    )
    expect(new URL(seen[0].url).search).toBe('?status=received&status=accepted')
  })

  it('echoes the CSRF cookie on writes, sends JSON bodies and the Idempotency-Key', async () => {
    document.cookie = 'dq_csrf=tok%3D1'
    const seen: Request[] = []
    vi.stubGlobal('fetch', vi.fn(async (r: Request) => (seen.push(r), json(201, { id: 'a1' }))))
    const out = await data(
      http.POST('/api/applications', {
        params: { header: { 'Idempotency-Key': 'k-1' } },
        body: { child_id: 'c', institution_id: 'i', mode: 'full_day', start_date: '2027-01-01' },
      }),
    )
    expect(out).toEqual({ id: 'a1' })
    expect(seen[0].method).toBe('POST')
    expect(seen[0].headers.get('X-CSRF-Token')).toBe('tok=1')
    expect(seen[0].headers.get('Idempotency-Key')).toBe('k-1')
    expect(seen[0].headers.get('Content-Type')).toBe('application/json')
    expect(await seen[0].json()).toMatchObject({ child_id: 'c', mode: 'full_day' })
  })

  it('throws the API error in Chinese with its code on a details line', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(409, { status_code: 409, code: 'no_vacancy', detail: 'Full', detail_zh: '名额已满' })))
    const err = await data(http.POST('/api/applications/{application_id}/accept', { params: { path: { application_id: 'a' } } })).catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(409)
    expect(errorText(err)).toBe('名额已满\n错误代码：no_vacancy')
  })

  it('an answer without a JSON body still fails with a Chinese sentence', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' })))
    const err = await data(http.GET('/api/bookings')).catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.detailZh).toBe('请求失败，请稍后再试')
  })

  it('no network is status 0 (offline); an abort stays an abort', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => {
      throw new TypeError('Failed to fetch')
    }))
    const err = await data(http.GET('/api/bookings')).catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.offline).toBe(true)
    expect(errorText(err)).toBe('网络不可用，请检查网络连接')
    vi.stubGlobal('fetch', vi.fn(async () => {
      throw new DOMException('aborted', 'AbortError')
    }))
    const aborted = await data(http.GET('/api/bookings')).catch((e) => e)
    expect(aborted.name).toBe('AbortError')
  })

  it('a 401 tells the listeners, except from /api/auth/', async () => {
    const told = vi.fn()
    const stop = onUnauthorized(told)
    vi.stubGlobal('fetch', vi.fn(async () => json(401, { code: 'unauthorized', detail: 'Sign in', detail_zh: '请先登录' })))
    await data(http.GET('/api/bookings')).catch(() => undefined)
    expect(told).toHaveBeenCalledTimes(1)
    await data(http.POST('/api/auth/code/verify', { body: { phone: '13800000000', code: '000000' } })).catch(() => undefined)
    expect(told).toHaveBeenCalledTimes(1)
    stop()
  })

  it('a 204 answers undefined; requests are counted until they settle', async () => {
    let answer!: (r: Response) => void
    vi.stubGlobal('fetch', vi.fn(() => new Promise<Response>((res) => (answer = res))))
    const pending = data(http.POST('/api/auth/logout'))
    let quiet = false
    const waiting = apiQuiet().then(() => (quiet = true))
    await Promise.resolve()
    expect(quiet).toBe(false)
    answer(new Response(null, { status: 204 }))
    expect(await pending).toBeUndefined()
    await waiting
    expect(quiet).toBe(true)
  })

  it('a kept read answers the saved copy, marked stale, when offline', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(200, [{ id: 'b1' }])))
    const fresh = await kept('test:/api/bookings', () => data(http.GET('/api/bookings')))
    expect(fresh).toMatchObject({ data: [{ id: 'b1' }], stale: false })
    vi.stubGlobal('fetch', vi.fn(async () => {
      throw new TypeError('Failed to fetch')
    }))
    const stale = await kept('test:/api/bookings', () => data(http.GET('/api/bookings')))
    expect(stale).toMatchObject({ data: [{ id: 'b1' }], stale: true })
  })
})
