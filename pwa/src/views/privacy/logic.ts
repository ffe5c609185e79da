// 我的数据: the pure parts (file name, the erasure request) and the two calls.
import { data as answer, http } from '@/api/http'
import type { Schema } from '@/api/types'

export type ConfirmMode = 'password' | 'code'
export type EraseBody = Schema<'EraseIn'>
export type Erasure = Schema<'ErasureOut'>
export type FamilyExport = Schema<'FamilyExport'>

/** The downloaded file's name: daqing-my-data-YYYYMMDD.json (the local day). */
export function exportFileName(now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `daqing-my-data-${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}.json`
}

/** The erasure request, or the i18n key of what is missing. */
export function eraseBody(mode: ConfirmMode, value: string): { body: EraseBody } | { error: string } {
  const v = value.trim()
  if (mode === 'password') return v ? { body: { password: value } } : { error: 'privacy.passwordRequired' }
  return /^\d{6}$/.test(v) ? { body: { code: v } } : { error: 'privacy.codeInvalid' }
}

/** Fetch the export and hand it to the browser as a file download. */
export async function downloadExport(): Promise<FamilyExport> {
  const data = await answer(http.GET('/api/me/export'))
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' })
  const url = URL.createObjectURL(blob)
  try {
    const a = document.createElement('a')
    a.href = url
    a.download = exportFileName()
    document.body.appendChild(a)
    a.click()
    a.remove()
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 10_000)
  }
  return data
}

export function erase(body: EraseBody): Promise<Erasure> {
  return answer(http.POST('/api/me/erase', { body }))
}
