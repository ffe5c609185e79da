import type { ApplicationStatus, BookingStatus } from './types'

type TagType = 'primary' | 'success' | 'danger' | 'warning' | 'default'

export function bookingTagType(s: BookingStatus): TagType {
  return s === 'booked' ? 'primary' : s === 'attended' ? 'success' : s === 'no_show' ? 'danger' : 'default'
}

export function applicationTagType(s: ApplicationStatus): TagType {
  if (s === 'offered') return 'warning'
  if (s === 'accepted' || s === 'enrolled') return 'success'
  if (s === 'submitted' || s === 'waitlisted') return 'primary'
  if (s === 'rejected' || s === 'expired') return 'danger'
  return 'default'
}
