import type { RouteRecordRaw } from 'vue-router'

export default [
  { path: '/officer', component: () => import('./OfficerHome.vue'), meta: { role: 'officer' } },
  { path: '/officer/complaints/:id', component: () => import('./OfficerComplaint.vue'), meta: { role: 'officer' } },
] satisfies RouteRecordRaw[]
