import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/client'
import { useLoad } from '@/composables/useLoad'

function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}

describe('useLoad', () => {
  it('shows progress, then the data; a stale copy carries its time', async () => {
    const d = deferred<{ data: number[]; savedAt: string; stale: boolean }>()
    const s = useLoad(() => d.promise)
    const p = s.load()
    expect(s.loading.value).toBe(true)
    d.resolve({ data: [1, 2], savedAt: '2026-11-28T04:00:00Z', stale: true })
    await p
    expect(s.loading.value).toBe(false)
    expect(s.data.value).toEqual([1, 2])
    expect(s.staleAt.value).toContain('12:00') // Daqing time
  })

  it('shows the API error, but a quiet refresh keeps what is on screen', async () => {
    let fail = false
    const s = useLoad(async () => {
      if (fail) throw new ApiError(503, 'unavailable', 'Service unavailable', '服务暂不可用')
      return { n: 1 }
    })
    await s.load()
    fail = true
    await s.load(true)
    expect(s.data.value).toEqual({ n: 1 })
    expect(s.error.value).toBeNull()
    await s.load()
    expect(s.error.value).toBe('服务暂不可用\n错误代码：unavailable')
  })

  it('never lets an older, slower answer overwrite a newer one', async () => {
    const first = deferred<string>()
    const second = deferred<string>()
    const queue = [first.promise, second.promise]
    const s = useLoad(() => queue.shift()!)
    const a = s.load()
    const b = s.load()
    second.resolve('new')
    await b
    first.resolve('old')
    await a
    expect(s.data.value).toBe('new')
    expect(s.loading.value).toBe(false)
  })
})
