import type { RouteRecordRaw } from 'vue-router'

// Importing the city's registers (city admins and city-wide health officers; the API answers 403 to others).
export default [
  { path: '/officer/imports', component: () => import('./ImportsHome.vue'), meta: { role: 'officer' } },
] satisfies RouteRecordRaw[]
