import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/client'
import { usePagedLoad } from '@/composables/usePagedLoad'

function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}

const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: from + i }))

describe('usePagedLoad', () => {
  it('loads a page, then the next; a short page ends the list', async () => {
    const asked: Array<[number, number]> = []
    const s = usePagedLoad(async (limit, offset) => (asked.push([limit, offset]), rows(offset, offset ? 1 : limit)), { page: 2 })
    const p = s.load()
    expect(s.loading.value).toBe(true)
    await p
    expect(s.loading.value).toBe(false)
    expect(s.items.value).toEqual(rows(0, 2))
    expect(s.hasMore.value).toBe(true)
    const m = s.loadMore()
    expect(s.loadingMore.value).toBe(true)
    await m
    expect(s.loadingMore.value).toBe(false)
    expect(s.items.value).toEqual(rows(0, 3))
    expect(s.hasMore.value).toBe(false)
    expect(asked).toEqual([[2, 0], [2, 2]])
  })

  it('a refresh that keeps the list asks for as many rows as are shown, up to the maximum', async () => {
    const asked: number[] = []
    const s = usePagedLoad(async (limit, offset) => (asked.push(limit), rows(offset, limit)), { page: 2, max: 3 })
    await s.load()
    await s.loadMore()
    await s.loadMore()
    expect(s.items.value).toHaveLength(6)
    await s.load({ keep: true })
    await s.load()
    expect(asked.slice(3)).toEqual([3, 2])
  })

  it('drops rows a later page repeats', async () => {
    const s = usePagedLoad(async (_limit, offset) => (offset ? [{ id: 1 }, { id: 2 }] : [{ id: 0 }, { id: 1 }]), {
      page: 2,
      key: (r) => r.id,
    })
    await s.load()
    await s.loadMore()
    expect(s.items.value).toEqual([{ id: 0 }, { id: 1 }, { id: 2 }])
  })

  it('a page with a total says whether more remain', async () => {
    const s = usePagedLoad(async (_l, offset) => ({ items: rows(offset, 2), total: 3 }), { page: 2 })
    await s.load()
    expect(s.total.value).toBe(3)
    expect(s.hasMore.value).toBe(true)
    await s.loadMore()
    expect(s.hasMore.value).toBe(false)
  })

  it('a stale copy carries its time and ends the paging', async () => {
    const s = usePagedLoad(async () => ({ data: rows(0, 2), savedAt: '2026-11-28T04:00:00Z', stale: true }), { page: 2 })
    await s.load()
    expect(s.staleAt.value).toContain('12:00')
    expect(s.hasMore.value).toBe(false)
  })

  it('shows the error; a quiet refresh keeps what is shown; a failed "load more" goes where it is told', async () => {
    let fail = false
    const said: string[] = []
    const s = usePagedLoad(
      async (limit) => {
        if (fail) throw new ApiError(503, 'unavailable', 'Service unavailable', '服务暂不可用')
        return rows(0, limit)
      },
      { page: 2, onMoreError: (m) => said.push(m) },
    )
    await s.load()
    fail = true
    await s.load({ quiet: true })
    expect(s.items.value).toEqual(rows(0, 2))
    expect(s.error.value).toBeNull()
    await s.loadMore()
    expect(said).toEqual(['服务暂不可用\n错误代码：unavailable'])
    expect(s.error.value).toBeNull()
    await s.load()
    expect(s.error.value).toBe('服务暂不可用\n错误代码：unavailable')
  })

  it('never lets an older answer, first page or next page, overwrite a newer load', async () => {
    const answers: Array<ReturnType<typeof deferred<{ id: number }[]>>> = []
    const s = usePagedLoad(() => {
      const d = deferred<{ id: number }[]>()
      answers.push(d)
      return d.promise
    }, { page: 1 })
    const first = s.load()
    const second = s.load()
    answers[1].resolve([{ id: 2 }])
    await second
    answers[0].resolve([{ id: 1 }])
    await first
    expect(s.items.value).toEqual([{ id: 2 }])
    const more = s.loadMore()
    const third = s.load()
    answers[3].resolve([{ id: 3 }])
    await third
    answers[2].resolve([{ id: 9 }])
    await more
    expect(s.items.value).toEqual([{ id: 3 }])
    expect(s.loadingMore.value).toBe(false)
  })
})
