// The live store against a stand-in for the browser's WebSocket: it resumes from the last event it
// delivered, never delivers an event twice, backs off between attempts, and stops on 4401.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useLive } from '@/stores/live'
import type { LiveEvent } from '@/api/types'

class FakeSocket {
  static all: FakeSocket[] = []
  onopen: (() => void) | null = null
  onmessage: ((ev: { data: string }) => void) | null = null
  onclose: ((ev: { code: number }) => void) | null = null
  closed = false
  constructor(public url: string) {
    FakeSocket.all.push(this)
  }
  open() {
    this.onopen?.()
  }
  send(message: object) {
    this.onmessage?.({ data: JSON.stringify(message) })
  }
  drop(code = 1006) {
    this.onclose?.({ code })
  }
  close() {
    this.closed = true
  }
}

const event = (id: number): Partial<LiveEvent> => ({
  type: 'event', id, event: 'booking.confirmed', subject: { type: 'booking', id: String(id) },
})

describe('live store', () => {
  beforeEach(() => {
    localStorage.clear()
    FakeSocket.all = []
    vi.useFakeTimers()
    vi.stubGlobal('WebSocket', FakeSocket)
    setActivePinia(createPinia())
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  it('delivers each event once and resumes after a drop from the last one delivered', () => {
    const live = useLive()
    const seen: number[] = []
    live.on((e) => seen.push(e.id))
    live.start()
    const first = FakeSocket.all[0]
    expect(first.url).toMatch(/\/ws$/) // nothing to resume yet
    first.open()
    first.send(event(5))
    first.send(event(6))
    first.send(event(6)) // a duplicate (e.g. replay overlap) is dropped
    first.send({ type: 'heartbeat' })
    expect(seen).toEqual([5, 6])
    expect(live.status).toBe('open')

    first.drop()
    expect(live.status).toBe('waiting')
    expect(FakeSocket.all).toHaveLength(1) // not before the backoff delay
    vi.advanceTimersByTime(600)
    const second = FakeSocket.all[1]
    expect(second.url).toMatch(/\/ws\?last_event_id=6$/)
    second.open()
    second.send(event(7))
    expect(seen).toEqual([5, 6, 7])
    expect(localStorage.getItem('dq.lastEventId')).toBe('7')
  })

  it('waits longer after each failed attempt', () => {
    const live = useLive()
    live.start()
    FakeSocket.all[0].drop() // attempt 0 failed: ~0.5 s
    vi.advanceTimersByTime(600)
    expect(FakeSocket.all).toHaveLength(2)
    FakeSocket.all[1].drop() // attempt 1 failed: ~1 s
    vi.advanceTimersByTime(700)
    expect(FakeSocket.all).toHaveLength(2)
    vi.advanceTimersByTime(600)
    expect(FakeSocket.all).toHaveLength(3)
  })

  it('stops reconnecting when the session is revoked (4401) and forgets the position on reset', () => {
    const live = useLive()
    live.start()
    FakeSocket.all[0].open()
    FakeSocket.all[0].send(event(3))
    FakeSocket.all[0].drop(4401)
    vi.advanceTimersByTime(60_000)
    expect(FakeSocket.all).toHaveLength(1)
    expect(live.status).toBe('closed')
    live.reset()
    live.start()
    expect(FakeSocket.all[1].url).toMatch(/\/ws$/)
  })

  it('closes the socket on stop and does not reconnect', () => {
    const live = useLive()
    live.start()
    const s = FakeSocket.all[0]
    s.open()
    live.stop()
    expect(s.closed).toBe(true)
    s.drop(1000)
    vi.advanceTimersByTime(60_000)
    expect(FakeSocket.all).toHaveLength(1)
  })

  it('a late close of an old socket does not disturb the new connection', () => {
    const live = useLive()
    live.start()
    const old = FakeSocket.all[0]
    live.stop()
    live.start() // e.g. sign-out then sign-in as someone else
    const current = FakeSocket.all[1]
    current.open()
    old.drop(1000) // the old socket's close event arrives only now
    expect(live.status).toBe('open')
    vi.advanceTimersByTime(60_000)
    expect(FakeSocket.all).toHaveLength(2)
  })
})
