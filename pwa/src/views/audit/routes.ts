import type { RouteRecordRaw } from 'vue-router'

// The audit log of officer and city-admin changes: city admins only (the API answers 403 to others).
export default [
  { path: '/officer/audit', component: () => import('./AuditLog.vue'), meta: { role: 'officer' } },
] satisfies RouteRecordRaw[]
