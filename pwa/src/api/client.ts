// The rules every request follows, held once: `http` (./http.ts, typed from the OpenAPI document) is
// how screens call the API, built from the pieces here (only the import upload, which reports its
// progress, goes through XMLHttpRequest: views/imports/logic.ts). The session is the HttpOnly cookie set at sign-in; writes echo
// the readable dq_csrf cookie in X-CSRF-Token (the API's signed double-submit). Every failure becomes
// an ApiError carrying the API's bilingual message, or status 0 when the network is unreachable.

export interface ErrorBody {
  status_code: number
  code: string
  detail: string
  detail_zh: string
  extra?: unknown
}

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly detailZh: string
  readonly extra: unknown

  constructor(status: number, code: string, detail: string, detailZh: string, extra?: unknown) {
    super(detail)
    this.status = status
    this.code = code
    this.detailZh = detailZh
    this.extra = extra
  }

  /** True when the request never reached the server (offline, DNS, connection refused). */
  get offline(): boolean {
    return this.status === 0
  }
}

export type Query = Record<string, string | number | boolean | null | undefined | Array<string | number>>

export function readCookie(name: string): string | null {
  if (typeof document === 'undefined') return null // outside a page (a worker, tests): no cookies
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === name) return decodeURIComponent(v.join('='))
  }
  return null
}

export function buildUrl(path: string, query?: Query): string {
  if (!query) return path
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value === null || value === undefined || value === '') continue
    if (Array.isArray(value)) value.forEach((v) => params.append(key, String(v)))
    else params.append(key, String(value))
  }
  const qs = params.toString()
  return qs ? `${path}?${qs}` : path
}

/** Listeners told when the server says the session is gone (401), e.g. to clear the account. */
const unauthorizedListeners = new Set<() => void>()
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener)
  return () => unauthorizedListeners.delete(listener)
}

/** Requests under way, and who waits for none to be (the service worker's registration waits for the
 * first screen's data: src/pwa.ts). */
let inFlight = 0
const quietWaiters: Array<() => void> = []
export function apiQuiet(): Promise<void> {
  if (inFlight === 0) return Promise.resolve()
  return new Promise((resolve) => quietWaiters.push(resolve))
}

export function requestStarted(): void {
  inFlight += 1
}

export function requestEnded(): undefined {
  inFlight -= 1
  if (inFlight === 0) quietWaiters.splice(0).forEach((resolve) => resolve())
  return undefined
}

/** The session header a request carries besides the cookie: on writes, the CSRF cookie echoed. */
export function csrfHeaders(method: string): Record<string, string> {
  const csrf = method !== 'GET' ? readCookie('dq_csrf') : null
  return csrf ? { 'X-CSRF-Token': csrf } : {}
}

/** What a failed fetch (no answer at all) becomes: status 0, "offline". Aborts stay aborts. */
export function networkError(err: unknown): Error {
  if ((err as Error)?.name === 'AbortError') return err as Error
  return new ApiError(0, 'network', 'The network is unreachable', '网络不可用，请检查网络连接')
}

/** The ApiError for an answer that is not 2xx (its parsed JSON body, if any); a 401 outside
 *  /api/auth/ tells the listeners the session is gone. */
export function answerError(response: Response, data: unknown, path: string): ApiError {
  const e = (data ?? {}) as Partial<ErrorBody>
  if (response.status === 401 && !path.startsWith('/api/auth/')) unauthorizedListeners.forEach((l) => l())
  return new ApiError(
    response.status,
    e.code ?? 'error',
    e.detail ?? response.statusText,
    e.detail_zh ?? '请求失败，请稍后再试',
    e.extra,
  )
}

/** A body's JSON, or undefined when it is empty or not JSON. */
export function parseJson(text: string): unknown {
  if (!text) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** The language the app is shown in (set on <html lang> by i18n's setLocale); zh-CN unless English. */
function english(): boolean {
  return typeof document !== 'undefined' && document.documentElement.lang === 'en'
}

/** The message to show for an error, in the app's language only: the sentence, then the machine code
 *  for support on a details line ("错误代码：complaint_not_found"); nothing English inside zh-CN text. */
export function errorText(err: unknown): string {
  const en = english()
  if (err instanceof ApiError) {
    const sentence = en ? err.message : err.detailZh
    if (err.offline || !err.code || err.code === 'error') return sentence
    return `${sentence}\n${en ? 'Code: ' : '错误代码：'}${err.code}`
  }
  return en ? 'Something went wrong, please try again later' : '出错了，请稍后再试'
}
