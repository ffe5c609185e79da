// Shapes shared across screens. Screen-specific shapes live beside their screens.

export type Role = 'parent' | 'institution_staff' | 'institution_admin' | 'officer' | 'city_admin'

export interface Grant {
  role: Role
  role_zh: string
  institution_id: string | null
  department_code: string | null
  unit_code: number | null
}

export interface Account {
  id: string
  phone: string | null
  email: string | null
  display_name: string | null
  roles: Grant[]
}

export interface Session {
  token: string
  expires_at: string
  csrf_token: string
  account: Account
}

/** A live message from /ws (and, trimmed, the data of a push notification). */
export interface LiveEvent {
  type: 'event'
  id: number
  event: string
  category: string
  urgency: string
  at: string
  subject: { type: string; id: string }
  title_zh: string
  title: string
  url: string
  data: Record<string, unknown>
}
