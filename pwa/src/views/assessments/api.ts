// The assessment screens' requests (typed: src/api/http.ts). The standard rarely changes: it is kept
// on the device, and so is an institution's published history.
import { data, http, type QueryOf } from '@/api/http'
import { cacheKey, kept } from '@/utils/offline'

export const getStandard = () =>
  kept(cacheKey('/api/assessments/dimensions'), () => data(http.GET('/api/assessments/dimensions')))
export const getAssessment = (id: string) =>
  data(http.GET('/api/assessments/{assessment_id}', { params: { path: { assessment_id: id } } }))
export const listAssessments = (query: QueryOf<'/api/assessments'>) => data(http.GET('/api/assessments', { params: { query } }))
export const publicHistory = (institutionId: string) =>
  kept(cacheKey(`/api/institutions/${institutionId}/assessments`), () =>
    data(http.GET('/api/institutions/{institution_id}/assessments', { params: { path: { institution_id: institutionId } } })),
  )
