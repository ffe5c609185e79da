// The add-child request: a child is stored only with the guardian's explicit consent (PIPL art. 31:
// children under 14 are sensitive personal information), given to this version of the notice shown
// in the form (the API refuses any other version with consent_policy_outdated).
import type { Schema } from '@/api/types'

export const CHILD_DATA_POLICY_VERSION = '2026-12'

export type Relation = Schema<'ChildOut'>['relation']

export interface ChildDraft {
  name: string
  birth_date: string
  relation: Relation | ''
  consent: boolean
}

/** The POST body for a new child, or null while the form is incomplete or consent is not given. */
export function newChildBody(draft: ChildDraft): Schema<'ChildIn'> | null {
  const name = draft.name.trim()
  if (!name || !draft.birth_date || !draft.relation || draft.consent !== true) return null
  return {
    name,
    birth_date: draft.birth_date,
    relation: draft.relation,
    consent: { policy_version: CHILD_DATA_POLICY_VERSION, accepted: true },
  }
}
