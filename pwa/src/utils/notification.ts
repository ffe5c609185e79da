// What the service worker shows for a Web Push message. The API's push payload carries ids, the event
// name, a short bilingual title and the path of the screen to open — never a child's name.
import { safePath } from './paths'

export interface PushBody {
  id?: number
  event?: string
  title?: string
  body?: string
  url?: string
  subject?: { type: string; id: string }
  urgency?: string
  /** Token for POST /api/notify/ack: the service worker reports it showed the notification. */
  ack?: string
}

export interface NotificationSpec {
  title: string
  options: NotificationOptions & { requireInteraction?: boolean }
}

export function parsePush(read: { json(): unknown; text(): string } | null | undefined): PushBody {
  if (!read) return {}
  try {
    const data = read.json()
    return data && typeof data === 'object' ? (data as PushBody) : {}
  } catch {
    return { title: read.text().slice(0, 80) }
  }
}

export function notificationFor(body: PushBody): NotificationSpec {
  return {
    title: body.title || '大庆托育有新消息',
    options: {
      body: body.body || 'You have a new update',
      icon: '/icons/icon-192.png',
      badge: '/icons/icon-192.png',
      // one notification per subject: a newer status replaces the older one
      tag: body.subject ? `${body.subject.type}:${body.subject.id}` : undefined,
      data: { url: safePath(body.url) },
      requireInteraction: body.urgency === 'high' || body.urgency === 'critical',
    },
  }
}

/** The acknowledgement the service worker sends once it has shown a notification (null: nothing to send).
 * It stops a critical event's SMS fallback; the token is the session-free proof it came from this push. */
export function ackRequest(body: PushBody): { url: string; init: RequestInit } | null {
  if (!body.ack || !/^[0-9]+\.[0-9a-f]{32}\.[0-9a-f]{32}$/.test(body.ack)) return null
  return {
    url: '/api/notify/ack',
    init: {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: body.ack }),
      credentials: 'omit',
    },
  }
}
