// The last search's filters, kept for the browser session so coming back to 找托育 from another tab
// (whose link is a plain "/") reopens the same search. The URL stays the source of truth.
const KEY = 'dq.care.search'

export function saveSearch(query: Record<string, string>): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(query))
  } catch {
    /* storage full or unavailable: the URL still holds the filters */
  }
}

export function savedSearch(): Record<string, string> | null {
  try {
    const raw = sessionStorage.getItem(KEY)
    const parsed = raw ? (JSON.parse(raw) as unknown) : null
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return null
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v
    return Object.keys(out).length ? out : null
  } catch {
    return null
  }
}
