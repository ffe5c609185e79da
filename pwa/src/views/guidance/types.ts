import type { Schema } from '@/api/types'

export type GuidanceEvent = Schema<'GuidanceEventOut'>
export type GuidanceEventDetail = Schema<'GuidanceEventDetail'>
export type GuidancePage = Schema<'GuidanceEventPage'>
export type Registration = Schema<'GuidanceRegistrationOut'>
export type HostedEvent = Schema<'GuidanceHostedEvent'>
export type HostedEventDetail = Schema<'GuidanceHostedEventDetail'>
export type HostedRegistration = Schema<'GuidanceHostedRegistration'>
export type EventIn = Schema<'GuidanceEventIn'>
export type Kind = GuidanceEvent['kind']
export const KINDS: Kind[] = ['parent_class', 'parent_child_activity', 'home_visit']
