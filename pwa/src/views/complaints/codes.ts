// Tracking codes kept on this device (localStorage), so a reporter without an account can find their
// complaints again. Codes are sent only in request bodies (POST /api/complaints/track), never in URLs.
export interface SavedCode {
  code: string
  reference: string
  summary: string
  savedAt: string
}

const CODES_KEY = 'dq.complaintCodes'
const DEVICE_KEY = 'dq.deviceId'

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage
  } catch {
    return null
  }
}

export function savedCodes(): SavedCode[] {
  try {
    const raw = storage()?.getItem(CODES_KEY)
    const list = raw ? (JSON.parse(raw) as SavedCode[]) : []
    return Array.isArray(list) ? list : []
  } catch {
    return []
  }
}

export function saveCode(entry: SavedCode): void {
  const list = savedCodes().filter((c) => c.code !== entry.code)
  list.unshift(entry)
  storage()?.setItem(CODES_KEY, JSON.stringify(list.slice(0, 100)))
}

export function forgetCode(code: string): void {
  storage()?.setItem(CODES_KEY, JSON.stringify(savedCodes().filter((c) => c.code !== code)))
}

/** Codes as people type them: upper case, spaces dropped, the four groups joined by dashes. */
export function normaliseCode(input: string): string {
  const raw = input.toUpperCase().replace(/[^A-Z2-7]/g, '')
  if (raw.length !== 20) return input.trim().toUpperCase()
  return raw.match(/.{5}/g)!.join('-')
}

export function validCode(input: string): boolean {
  return /^[A-Z2-7]{5}(-[A-Z2-7]{5}){3}$/.test(normaliseCode(input))
}

/** A random id for this device (X-Device-Id: rate limits tell devices behind one address apart). */
export function deviceId(): string {
  const s = storage()
  let id = s?.getItem(DEVICE_KEY) ?? null
  if (!id) {
    const bytes = new Uint8Array(16)
    crypto.getRandomValues(bytes)
    id = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
    s?.setItem(DEVICE_KEY, id)
  }
  return id
}
