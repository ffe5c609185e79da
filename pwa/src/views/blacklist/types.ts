import type { Schema } from '@/api/types'

export type PublicEntry = Schema<'PublicEntry'>
export type EntryOut = Schema<'EntryOut'>
export type EntryCreated = Schema<'EntryCreated'>
export type CheckOut = Schema<'CheckOut'>
export type StaffMemberOut = Schema<'StaffMemberOut'>
export type StaffMemberIn = Schema<'StaffMemberIn'>
export type InstitutionEntryIn = Schema<'InstitutionEntryIn'>
export type PersonEntryIn = Schema<'PersonEntryIn'>
