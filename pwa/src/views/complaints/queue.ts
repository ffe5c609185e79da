// Complaints written while offline wait here (IndexedDB, photos as Blobs) until the network returns.
// States: pending 待发送 → sending 发送中 → sent 已发送 (with its tracking code) or failed 发送失败.
// The queue is flushed at app start and on every 'online' event; a network failure leaves an item
// pending, a refusal (4xx) marks it failed with the API's message and it is not retried unless the
// user asks, and a server error (5xx) is retried at most MAX_ATTEMPTS times.
//
// Every item carries a random id that is sent as the filing's Idempotency-Key: an item whose sending
// was cut off (the app closed mid-request, the answer lost) is sent again at the next start, and the
// server answers the first filing again (with its tracking code) instead of filing it twice.
import { shallowRef } from 'vue'
import { createStore, del, get, set, values } from 'idb-keyval'
import { ApiError } from '@/api/client'
import { data, http } from '@/api/http'
import { deviceId, saveCode } from './codes'
import type { ComplaintFields, Filed } from './types'

export type QueueState = 'pending' | 'sending' | 'sent' | 'failed'

export interface QueuedPhoto {
  name: string
  type: string
  blob: Blob
}

export interface QueuedComplaint {
  id: string
  /** Order of writing (milliseconds × 1000 + a counter: two written in one millisecond keep their order). */
  seq: number
  createdAt: string
  updatedAt: string
  fields: ComplaintFields
  anonymous: boolean
  photos: QueuedPhoto[]
  /** What the list shows: the category and the start of the description. */
  summary: string
  state: QueueState
  /** Server errors so far (network failures do not count). */
  attempts: number
  error?: string
  filed?: Filed
}

export const MAX_ATTEMPTS = 5
const LOCK = 'dq-complaint-queue'
let idb: ReturnType<typeof createStore> | null = null
const store = () => (idb ??= createStore('dq-complaint-queue', 'items'))

/** The queue as the screens show it (a new array after every change). */
export const queueItems = shallowRef<QueuedComplaint[]>([])

export async function loadQueue(): Promise<QueuedComplaint[]> {
  const all = ((await values<QueuedComplaint>(store()).catch(() => [])) ?? []).filter(Boolean)
  all.sort((a, b) => (b.seq ?? 0) - (a.seq ?? 0) || b.createdAt.localeCompare(a.createdAt))
  queueItems.value = all
  return all
}

async function save(item: QueuedComplaint): Promise<void> {
  await set(item.id, { ...item, updatedAt: new Date().toISOString() }, store())
  await loadQueue()
}

let counter = 0
function nextSeq(): number {
  counter = (counter + 1) % 1000
  return Date.now() * 1000 + counter
}

/** A random key (a UUID): the item's id and its filing's Idempotency-Key. */
export function newId(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto) return crypto.randomUUID()
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
}

/** Keep a complaint to send later. Photos are copied into plain Blobs (Files need not survive). */
export async function enqueue(
  fields: ComplaintFields,
  photos: Array<Blob | File>,
  options: { anonymous: boolean; summary: string; key?: string },
): Promise<QueuedComplaint> {
  const now = new Date().toISOString()
  const item: QueuedComplaint = {
    // a filing already attempted online keeps its key, so the server can recognise it
    id: options.key ?? newId(),
    seq: nextSeq(),
    createdAt: now,
    updatedAt: now,
    fields: { ...fields },
    anonymous: options.anonymous,
    photos: photos.map((p, i) => ({
      name: p instanceof File && p.name ? p.name : `photo-${i + 1}.${(p.type.split('/')[1] || 'jpg').replace('jpeg', 'jpg')}`,
      type: p.type,
      blob: new Blob([p], { type: p.type }),
    })),
    summary: options.summary,
    state: 'pending',
    attempts: 0,
  }
  await save(item)
  return item
}

/** POST /api/complaints as multipart/form-data. Anonymous filings are sent without the session cookie
 * (and so without the CSRF echo: src/api/http.ts), so that no account is linked to them even when
 * someone is signed in on this device. The same `idempotencyKey` with the same complaint is filed
 * once: a retry gets the first answer again. */
export async function sendComplaint(
  fields: ComplaintFields,
  photos: QueuedPhoto[] | Array<Blob | File>,
  anonymous: boolean,
  idempotencyKey?: string,
): Promise<Filed> {
  const form = new FormData()
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null && value !== '') form.append(key, String(value))
  }
  photos.forEach((p, i) => {
    if ('blob' in p) form.append('photos', p.blob, p.name)
    else form.append('photos', p, p instanceof File && p.name ? p.name : `photo-${i + 1}`)
  })
  return data(
    http.POST('/api/complaints', {
      params: { header: { 'X-Device-Id': deviceId(), 'Idempotency-Key': idempotencyKey } },
      body: form as never, // multipart: the FormData goes as it is
      credentials: anonymous ? 'omit' : 'same-origin',
    }),
  )
}

/** Add photos to a filed complaint by its tracking code: for photos the server could not store when it
 *  was filed (its answer had `photos_not_stored`: file storage was down). Resolves to the photo count.
 *  Sent without the session cookie: the code is the only key. */
export async function addPhotos(trackingCode: string, photos: Array<Blob | File>): Promise<number> {
  const form = new FormData()
  form.append('tracking_code', trackingCode)
  photos.forEach((p, i) => form.append('photos', p, p instanceof File && p.name ? p.name : `photo-${i + 1}`))
  const out = await data(
    http.POST('/api/complaints/track/photos', {
      params: { header: { 'X-Device-Id': deviceId() } },
      body: form as never, // multipart
      credentials: 'omit',
    }),
  )
  return Number(out?.photos ?? 0)
}

/** Remember a filed complaint's code on this device. */
export function rememberFiled(filed: Filed, summary: string): void {
  try {
    saveCode({ code: filed.tracking_code, reference: filed.reference, summary, savedAt: new Date().toISOString() })
  } catch {
    /* storage full or unavailable: the code is still shown */
  }
}

export interface FlushResult {
  sent: number
  failed: number
  pending: number
}

async function flushOnce(): Promise<FlushResult> {
  const result: FlushResult = { sent: 0, failed: 0, pending: 0 }
  const items = await loadQueue()
  // Oldest first, as they were written.
  for (const item of [...items].reverse()) {
    if (item.state !== 'pending') continue
    await save({ ...item, state: 'sending', error: undefined })
    try {
      const filed = await sendComplaint(item.fields, item.photos, item.anonymous, item.id)
      rememberFiled(filed, item.summary)
      // The photos are no longer needed once the complaint is filed — unless file storage was down
      // and the server kept none of them: then they stay here for 补传照片 (retryQueuedPhotos).
      const keep = filed.photos_not_stored ? item.photos : []
      await save({ ...item, state: 'sent', filed, photos: keep, error: undefined })
      result.sent++
    } catch (err) {
      if (err instanceof ApiError && err.offline) {
        await save({ ...item, state: 'pending', error: undefined })
        result.pending = (await loadQueue()).filter((i) => i.state === 'pending').length
        return result // the network is down: the rest waits too
      }
      const refused = err instanceof ApiError && err.status >= 400 && err.status < 500
      const attempts = refused ? item.attempts : item.attempts + 1
      const message = err instanceof ApiError ? err.detailZh : '发送失败'
      const failed = refused || attempts >= MAX_ATTEMPTS
      await save({ ...item, state: failed ? 'failed' : 'pending', attempts, error: message })
      if (failed) result.failed++
    }
  }
  result.pending = queueItems.value.filter((i) => i.state === 'pending').length
  return result
}

let running: Promise<FlushResult> | null = null

/** Send every pending complaint (one flush at a time, across tabs too where Web Locks exist). */
export function flushQueue(): Promise<FlushResult> {
  if (running) return running
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined
  const work: Promise<FlushResult> = locks
    ? (locks.request(LOCK, () => flushOnce()) as unknown as Promise<FlushResult>)
    : flushOnce()
  const promise = work.finally(() => {
    running = null
  })
  running = promise
  return promise
}

/** Try a failed complaint again (the user asked). */
export async function retry(id: string): Promise<FlushResult> {
  const item = await get<QueuedComplaint>(id, store())
  if (item && item.state === 'failed') await save({ ...item, state: 'pending', attempts: 0, error: undefined })
  return flushQueue()
}

/** 补传照片 for a complaint sent from the queue whose photos the server could not store. */
export async function retryQueuedPhotos(id: string): Promise<number> {
  const item = (await loadQueue()).find((i) => i.id === id)
  if (!item || item.state !== 'sent' || !item.filed || !item.photos.length) return 0
  const stored = await addPhotos(item.filed.tracking_code, item.photos.map((p) => new File([p.blob], p.name, { type: p.blob.type })))
  await save({ ...item, photos: [] })
  return stored
}

export async function removeQueued(id: string): Promise<void> {
  await del(id, store())
  await loadQueue()
}

let started = false

/** At app start: load the queue, send what waits, and send again whenever the network returns. */
export async function startQueue(): Promise<void> {
  if (started) return
  started = true
  const items = await loadQueue()
  // A sending cut off by closing the app: try it again.
  for (const item of items) if (item.state === 'sending') await save({ ...item, state: 'pending' })
  window.addEventListener('online', () => void flushQueue())
  if (navigator.onLine) await flushQueue()
}

/** Tests only: forget the module's state. */
export function resetQueueForTests(): void {
  started = false
  running = null
  idb = null
  queueItems.value = []
}
