// Import screen logic: the upload with progress (fetch cannot report upload progress: XMLHttpRequest),
// and labels for the report.
import { ApiError, readCookie } from '@/api/client'
import type { components } from '@/api/schema'

export type ImportRun = components['schemas']['ImportRunOut']
export type Kind = ImportRun['kind']
export type Crs = ImportRun['crs']

export const KINDS: Kind[] = ['institutions', 'rooms', 'population']
export const CRS_LIST: Crs[] = ['gcj02', 'bd09', 'wgs84']
export const MAX_BYTES = 20 * 1024 * 1024

export function reportUrl(id: string): string {
  return `/api/imports/${encodeURIComponent(id)}/report`
}

export function exportUrl(kind: Kind, format: 'xlsx' | 'csv', crs: Crs): string {
  return `/api/exports/${kind}?format=${format}&crs=${crs}`
}

/** POST the file for a dry run, reporting upload progress (0-100). */
export function uploadForDryRun(kind: Kind, crs: Crs, file: File, onProgress: (percent: number) => void): Promise<ImportRun> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', `/api/imports/${kind}?crs=${crs}`)
    xhr.setRequestHeader('Accept', 'application/json')
    const csrf = readCookie('dq_csrf')
    if (csrf) xhr.setRequestHeader('X-CSRF-Token', csrf)
    xhr.withCredentials = true
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(Math.round((e.loaded / e.total) * 100))
    }
    xhr.onerror = () => reject(new ApiError(0, 'network', 'The network is unreachable', '网络不可用，请检查网络连接'))
    xhr.onload = () => {
      let data: Record<string, unknown> = {}
      try {
        data = JSON.parse(xhr.responseText || '{}')
      } catch {
        data = {}
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data as unknown as ImportRun)
      else
        reject(
          new ApiError(
            xhr.status,
            String(data.code ?? 'error'),
            String(data.detail ?? xhr.statusText),
            String(data.detail_zh ?? '请求失败，请稍后再试'),
            data.extra as Record<string, unknown> | undefined,
          ),
        )
    }
    const form = new FormData()
    form.append('file', file, file.name)
    xhr.send(form)
  })
}
