// Names (and the few facts the console needs) of the staff's institutions, fetched once per session.
import { reactive } from 'vue'
import { data, http } from '@/api/http'
import type { InstitutionBrief } from './types'

const known = reactive<Record<string, InstitutionBrief>>({})
const pending = new Map<string, Promise<InstitutionBrief>>()

export function institutionOf(id: string): InstitutionBrief | undefined {
  return known[id]
}

export async function loadInstitution(id: string): Promise<InstitutionBrief> {
  if (known[id]) return known[id]
  let p = pending.get(id)
  if (!p) {
    p = data(http.GET('/api/institutions/{institution_id}', { params: { path: { institution_id: id } } })).then((inst) => {
      known[id] = inst
      return inst
    })
    p.finally(() => pending.delete(id)).catch(() => undefined)
    pending.set(id, p)
  }
  return p
}
