import type { RouteRecordRaw } from 'vue-router'

// The supply gap by unit and street (officers and city admins; the API scopes it to their units).
export default [
  { path: '/stats/supply', component: () => import('./SupplyGap.vue'), meta: { role: 'officer' } },
] satisfies RouteRecordRaw[]
