import type { RouteRecordRaw } from 'vue-router'

export default [
  { path: '/officer/assessments', component: () => import('./officer/AssessmentList.vue'), meta: { role: 'officer' } },
  { path: '/officer/assessments/new', component: () => import('./officer/AssessmentForm.vue'), meta: { role: 'officer' } },
  { path: '/officer/assessments/:id/edit', component: () => import('./officer/AssessmentForm.vue'), meta: { role: 'officer' } },
  // Officers and the institution's staff (the scope decides; others get 404). Live events link here.
  { path: '/assessments/:id', component: () => import('./AssessmentDetail.vue'), meta: { auth: true } },
  // Public: the published history of an institution.
  { path: '/institutions/:id/assessments', component: () => import('./InstitutionAssessments.vue') },
] satisfies RouteRecordRaw[]
