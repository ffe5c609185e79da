// What the apply and book forms share: the institution and my children, read together (kept on the
// device, so a stale copy says its time), a hook to pick defaults once both are in, and the options
// of the child and care-mode choices.
import { computed, ref, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { errorText } from '@/api/client'
import { dateTime, yuan } from '@/utils/format'
import { getChildren, getInstitution } from './api'
import type { Child, InstitutionDetail, ModeOut } from './types'

export function useCareForm(id: string, loaded: (inst: InstitutionDetail, children: Child[]) => void) {
  const { t } = useI18n()
  const inst = ref<InstitutionDetail | null>(null)
  const children = ref<Child[] | null>(null)
  const loading = ref(false)
  const error = ref<string | null>(null)
  const staleAt = ref<string | null>(null)

  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      const [i, c] = await Promise.all([getInstitution(id), getChildren()])
      inst.value = i.data
      children.value = c.data
      staleAt.value = i.stale || c.stale ? dateTime(i.stale ? i.savedAt : c.savedAt) : null
      loaded(i.data, c.data)
    } catch (err) {
      error.value = errorText(err)
    } finally {
      loading.value = false
    }
  }

  const childOptions = computed(() =>
    (children.value ?? []).map((c) => ({ value: c.id, text: t('care.myChild', { name: c.name, n: c.age_months }) })),
  )
  const modeOptions = (modes: Ref<ModeOut[]>) =>
    computed(() =>
      modes.value.map((m) => ({
        value: m.mode,
        text: `${t(`care.modes.${m.mode}`)} ${yuan(m.price_fen)}${t(`care.units.${m.price_unit}`)}`,
      })),
    )

  return { inst, children, loading, error, staleAt, load, childOptions, modeOptions }
}
