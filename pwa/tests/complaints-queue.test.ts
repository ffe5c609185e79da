// @vitest-environment node
// (Node's Blob, FormData and structuredClone: jsdom's Blob does not survive fake-indexeddb's clone.)
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
// The typed client (src/api/http.ts) builds Requests against the page's origin: give it one.
vi.hoisted(() => {
  ;(globalThis as { location?: { origin: string } }).location ??= { origin: 'http://localhost' }
})
import { clear, createStore } from 'idb-keyval'
import {
  enqueue,
  flushQueue,
  loadQueue,
  MAX_ATTEMPTS,
  queueItems,
  removeQueued,
  resetQueueForTests,
  retry,
  retryQueuedPhotos,
} from '@/views/complaints/queue'
import type { ComplaintFields, Filed } from '@/views/complaints/types'

const fields: ComplaintFields = {
  category: 'food_safety',
  description: '午餐的米饭是生的',
  target_type: 'place',
  place_name: '某托育点',
  lat: '46.63',
  lng: '125.11',
}
const filed: Filed = {
  id: '0b7f5c2e-1111-4222-8333-444455556666',
  reference: 'DQ-42',
  tracking_code: 'ABCDE-FGHIJ-KLMNO-PQRST',
  status: 'received',
  urgent: false,
  departments: ['market'],
  photos: 0,
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const memory = new Map<string, string>()
const localStorageStub = {
  getItem: (k: string) => memory.get(k) ?? null,
  setItem: (k: string, v: string) => void memory.set(k, v),
  removeItem: (k: string) => void memory.delete(k),
  clear: () => memory.clear(),
}

beforeEach(async () => {
  resetQueueForTests()
  memory.clear()
  vi.stubGlobal('localStorage', localStorageStub)
  await clear(createStore('dq-complaint-queue', 'items'))
})
afterEach(() => {
  vi.unstubAllGlobals()
})

describe('the offline complaint queue', () => {
  it('keeps a complaint with its photos as pending', async () => {
    const photo = new Blob([new Uint8Array([137, 80, 78, 71])], { type: 'image/png' })
    const item = await enqueue(fields, [photo], { anonymous: true, summary: '食品安全 · 午餐' })
    expect(item.state).toBe('pending')
    const stored = await loadQueue()
    expect(stored).toHaveLength(1)
    expect(stored[0].fields).toEqual(fields)
    expect(stored[0].photos[0].blob).toBeInstanceOf(Blob)
    expect(stored[0].photos[0].blob.size).toBe(4)
    expect(stored[0].photos[0].type).toBe('image/png')
    expect(queueItems.value.map((i) => i.state)).toEqual(['pending'])
  })

  it('sends pending complaints as multipart and keeps the tracking code', async () => {
    const fetchMock = vi.fn(async (_request: Request) => json(201, filed))
    vi.stubGlobal('fetch', fetchMock)
    const photo = new Blob([new Uint8Array([1, 2, 3])], { type: 'image/jpeg' })
    await enqueue(fields, [photo], { anonymous: true, summary: '食品安全 · 午餐' })

    const result = await flushQueue()
    expect(result).toMatchObject({ sent: 1, failed: 0, pending: 0 })
    expect(fetchMock).toHaveBeenCalledTimes(1)
    const [request] = fetchMock.mock.calls[0]
    const url = new URL(request.url)
    expect(url.pathname).toBe('/api/complaints')
    expect(url.search).toBe('') // the code never goes in a URL; nothing but the path here
    expect(request.method).toBe('POST')
    expect(request.credentials).toBe('omit') // anonymous: no session cookie
    expect(request.headers.get('Content-Type')).toMatch(/^multipart\/form-data; boundary=/)
    const body = await request.formData()
    expect(body.get('category')).toBe('food_safety')
    expect(body.get('description')).toBe('午餐的米饭是生的')
    expect(body.get('lat')).toBe('46.63')
    expect(body.getAll('photos')).toHaveLength(1)
    expect((body.get('photos') as File).size).toBe(3)
    expect(request.headers.get('X-Device-Id')).toMatch(/^[0-9a-f]{32}$/)

    const [item] = await loadQueue()
    expect(item.state).toBe('sent')
    expect(item.filed?.tracking_code).toBe('ABCDE-FGHIJ-KLMNO-PQRST')
    expect(item.photos).toEqual([]) // not kept once filed
    // The code is saved on the device for the track screen.
    expect(JSON.parse(memory.get('dq.complaintCodes')!)[0]).toMatchObject({ code: filed.tracking_code, reference: 'DQ-42' })
    // Sent items are not sent again.
    await flushQueue()
    expect(fetchMock).toHaveBeenCalledTimes(1)
  })

  it('keeps the photos when storage was down, for 补传照片 from the queue', async () => {
    const answers = [json(201, { ...filed, photos: 0, photos_not_stored: 1 }), json(200, { photos: 1 })]
    const fetchMock = vi.fn(async (_request: Request) => answers.shift()!)
    vi.stubGlobal('fetch', fetchMock)
    const photo = new Blob([new Uint8Array([1, 2, 3])], { type: 'image/jpeg' })
    const queued = await enqueue(fields, [photo], { anonymous: true, summary: '食品安全 · 午餐' })
    await flushQueue()
    let [item] = await loadQueue()
    expect(item.state).toBe('sent')
    expect(item.photos).toHaveLength(1) // kept: the server stored none

    expect(await retryQueuedPhotos(queued.id)).toBe(1)
    const [request] = fetchMock.mock.calls[1]
    expect(new URL(request.url).pathname).toBe('/api/complaints/track/photos')
    expect(request.credentials).toBe('omit') // the code is the key, not a session
    const body = await request.formData()
    expect(body.get('tracking_code')).toBe(filed.tracking_code)
    expect((body.get('photos') as File).size).toBe(3)
    ;[item] = await loadQueue()
    expect(item.photos).toEqual([]) // stored now: forgotten
    expect(await retryQueuedPhotos(queued.id)).toBe(0) // nothing left to send
    expect(fetchMock).toHaveBeenCalledTimes(2)
  })

  it('keeps complaints pending while the network is down', async () => {
    const fetchMock = vi.fn(async () => {
      throw new TypeError('Failed to fetch')
    })
    vi.stubGlobal('fetch', fetchMock)
    await enqueue(fields, [], { anonymous: false, summary: 'a' })
    await enqueue({ ...fields, description: '第二条' }, [], { anonymous: false, summary: 'b' })

    const result = await flushQueue()
    expect(result).toMatchObject({ sent: 0, failed: 0, pending: 2 })
    expect(fetchMock).toHaveBeenCalledTimes(1) // the second waits too: the network is down
    const items = await loadQueue()
    expect(items.map((i) => i.state)).toEqual(['pending', 'pending'])
    expect(items.every((i) => i.attempts === 0 && !i.error)).toBe(true)

    // Back online: both go, oldest first.
    const sent: string[] = []
    vi.stubGlobal('fetch', vi.fn(async (request: Request) => {
      sent.push(String((await request.formData()).get('description')))
      return json(201, { ...filed, reference: `DQ-${sent.length}` })
    }))
    expect(await flushQueue()).toMatchObject({ sent: 2, pending: 0 })
    expect(sent).toEqual(['午餐的米饭是生的', '第二条'])
  })

  it('sends every attempt of one item with the same Idempotency-Key (its id)', async () => {
    const keys: string[] = []
    // The first attempt reaches the server but its answer is lost (a 503 here); the retry must be
    // recognisable as the same filing.
    vi.stubGlobal('fetch', vi.fn(async (request: Request) => {
      keys.push(request.headers.get('Idempotency-Key')!)
      return keys.length === 1 ? json(503, { code: 'unavailable', detail: 'Down', detail_zh: '服务暂不可用' }) : json(201, filed)
    }))
    const item = await enqueue(fields, [], { anonymous: true, summary: 'k' })
    await flushQueue()
    await flushQueue()
    expect(keys).toHaveLength(2)
    expect(keys[0]).toBe(item.id)
    expect(keys[1]).toBe(item.id)
    expect(item.id).toMatch(/^[A-Za-z0-9_-]{16,200}$/) // what the server accepts
    // A filing first tried online keeps its key when it has to wait in the queue.
    const kept = await enqueue(fields, [], { anonymous: true, summary: 'k2', key: 'b1c2d3e4-0000-4000-8000-000000000001' })
    expect(kept.id).toBe('b1c2d3e4-0000-4000-8000-000000000001')
    // Two items never share a key.
    expect((await enqueue(fields, [], { anonymous: true, summary: 'k3' })).id).not.toBe(item.id)
  })

  it('marks a refused complaint failed with the message and does not retry it by itself', async () => {
    const fetchMock = vi.fn(async () =>
      json(422, { status_code: 422, code: 'location_required', detail: 'Give a location', detail_zh: '请在地图上选择位置或填写地址' }),
    )
    vi.stubGlobal('fetch', fetchMock)
    await enqueue(fields, [], { anonymous: true, summary: 'x' })

    expect(await flushQueue()).toMatchObject({ sent: 0, failed: 1, pending: 0 })
    let [item] = await loadQueue()
    expect(item.state).toBe('failed')
    expect(item.error).toBe('请在地图上选择位置或填写地址')

    await flushQueue()
    await flushQueue()
    expect(fetchMock).toHaveBeenCalledTimes(1) // never again on its own

    // The user may try again (here it is accepted), or remove it.
    vi.stubGlobal('fetch', vi.fn(async () => json(201, filed)))
    expect(await retry(item.id)).toMatchObject({ sent: 1 })
    ;[item] = await loadQueue()
    expect(item.state).toBe('sent')
    await removeQueued(item.id)
    expect(await loadQueue()).toEqual([])
  })

  it('gives up after a few server errors', async () => {
    const fetchMock = vi.fn(async () => json(503, { code: 'unavailable', detail: 'Down', detail_zh: '服务暂不可用' }))
    vi.stubGlobal('fetch', fetchMock)
    await enqueue(fields, [], { anonymous: true, summary: 'x' })
    for (let i = 1; i < MAX_ATTEMPTS; i++) {
      await flushQueue()
      const [item] = await loadQueue()
      expect(item.state).toBe('pending')
      expect(item.attempts).toBe(i)
    }
    await flushQueue()
    const [item] = await loadQueue()
    expect(item.state).toBe('failed')
    expect(item.error).toBe('服务暂不可用')
    await flushQueue()
    expect(fetchMock).toHaveBeenCalledTimes(MAX_ATTEMPTS)
  })

  it('sends the session (and CSRF token) only when not anonymous', async () => {
    vi.stubGlobal('document', { cookie: 'dq_csrf=tok%3D1' })
    const fetchMock = vi.fn(async (_request: Request) => json(201, filed))
    vi.stubGlobal('fetch', fetchMock)
    await enqueue(fields, [], { anonymous: false, summary: 'x' })
    await flushQueue()
    expect(fetchMock.mock.calls[0][0].credentials).toBe('same-origin')
    expect(fetchMock.mock.calls[0][0].headers.get('X-CSRF-Token')).toBe('tok=1')

    await enqueue(fields, [], { anonymous: true, summary: 'y' })
    await flushQueue()
    expect(fetchMock.mock.calls[1][0].credentials).toBe('omit')
    expect(fetchMock.mock.calls[1][0].headers.get('X-CSRF-Token')).toBeNull() // no session: nothing to echo
  })
})
