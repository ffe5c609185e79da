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
      requireInteraction: body.urgency === 'high',
    },
  }
}
