// The assessment screens' requests. The standard rarely changes: it is kept on the device.
import { api } from '@/api/client'
import { cachedGet } from '@/utils/offline'
import type { AssessmentListItem, AssessmentOut, PublicAssessment, StandardOut } from './types'

export const getStandard = () => cachedGet<StandardOut>('/api/assessments/dimensions')
export const getAssessment = (id: string) => api.get<AssessmentOut>(`/api/assessments/${id}`)
export const listAssessments = (query: Record<string, string | number | boolean | undefined>) =>
  api.get<AssessmentListItem[]>('/api/assessments', query)
export const publicHistory = (institutionId: string) =>
  cachedGet<PublicAssessment[]>(`/api/institutions/${institutionId}/assessments`)
