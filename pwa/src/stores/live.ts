// One WebSocket per device (the API's /ws), opened while signed in. It resumes after a drop with
// ?last_event_id= so no event is missed, reconnects with capped exponential backoff and jitter, and
// hands every event to the screens that listen. Screens subscribe with `useLive().on(handler)`.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { LiveEvent } from '@/api/types'
import { backoffDelay } from '@/utils/backoff'
import { data, http } from '@/api/http'

const LAST_ID_KEY = 'dq.lastEventId'
export type LiveStatus = 'idle' | 'connecting' | 'open' | 'waiting' | 'closed'

export const useLive = defineStore('live', () => {
  const status = ref<LiveStatus>('idle')
  const lastEventId = ref<number | null>(Number(localStorage.getItem(LAST_ID_KEY)) || null)
  const listeners = new Set<(e: LiveEvent) => void>()
  let socket: WebSocket | null = null
  let attempts = 0
  let timer: ReturnType<typeof setTimeout> | null = null
  let wanted = false

  function url(): string {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:'
    const resume = lastEventId.value ? `?last_event_id=${lastEventId.value}` : ''
    return `${proto}//${location.host}/ws${resume}`
  }

  function deliver(message: LiveEvent) {
    if (lastEventId.value !== null && message.id <= lastEventId.value) return // already seen
    lastEventId.value = message.id
    localStorage.setItem(LAST_ID_KEY, String(message.id))
    // Critical news seen in the open app: no SMS fallback needed (best effort; the server decides).
    if (message.critical) data(http.POST('/api/me/notifications/seen', { body: { event: message.id } })).catch(() => undefined)
    listeners.forEach((l) => {
      try {
        l(message)
      } catch (err) {
        console.error('live listener failed', err)
      }
    })
  }

  function schedule() {
    if (!wanted) return
    status.value = 'waiting'
    const delay = backoffDelay(attempts++)
    timer = setTimeout(open, delay)
  }

  function open() {
    timer = null
    if (!wanted || socket) return
    if (!navigator.onLine) {
      status.value = 'waiting'
      return // the 'online' listener below reconnects
    }
    status.value = 'connecting'
    const ws = new WebSocket(url())
    socket = ws
    ws.onopen = () => {
      attempts = 0
      status.value = 'open'
    }
    ws.onmessage = (ev) => {
      let msg: { type?: string } & Partial<LiveEvent>
      try {
        msg = JSON.parse(String(ev.data))
      } catch {
        return
      }
      if (msg.type === 'event') deliver(msg as LiveEvent)
    }
    ws.onclose = (ev) => {
      if (socket !== ws) return // an old socket closing after stop() or a newer connection
      socket = null
      if (ev.code === 4401 || ev.code === 4403 || ev.code === 4429) {
        // the session is gone (or the account has newer sockets elsewhere): stop until the next sign-in
        wanted = false
        status.value = 'closed'
        return
      }
      schedule()
    }
  }

  function start() {
    wanted = true
    if (!socket && !timer) open()
  }

  function stop() {
    wanted = false
    if (timer) clearTimeout(timer)
    timer = null
    socket?.close(1000, 'signed out')
    socket = null
    status.value = 'idle'
  }

  /** Forget the resume position (on sign-out: the next account must not resume the last one's). */
  function reset() {
    lastEventId.value = null
    localStorage.removeItem(LAST_ID_KEY)
  }

  function on(listener: (e: LiveEvent) => void): () => void {
    listeners.add(listener)
    return () => listeners.delete(listener)
  }

  window.addEventListener('online', () => {
    if (wanted && !socket) {
      attempts = 0
      if (timer) clearTimeout(timer)
      open()
    }
  })

  return { status, lastEventId, start, stop, reset, on, deliver }
})
