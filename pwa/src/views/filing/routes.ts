import type { RouteRecordRaw } from 'vue-router'

const INST = ':institutionId([0-9a-fA-F-]{36})'

export default [
  // The institution's admins keep the filing; its staff read it.
  { path: `/staff/${INST}/filing`, component: () => import('./staff/StaffFiling.vue'), meta: { role: 'staff' } },
  // Health officers (their units) and city admins review.
  { path: '/officer/filings', component: () => import('./officer/FilingQueue.vue'), meta: { role: 'officer' } },
  { path: '/officer/filings/:id', component: () => import('./officer/FilingReview.vue'), meta: { role: 'officer' } },
  // Live events (filing.submitted/approved/returned) link here: officers to the review, staff to their filing.
  { path: '/filing/:id', component: () => import('./FilingOpen.vue'), meta: { auth: true } },
] satisfies RouteRecordRaw[]
