import type { RouteRecordRaw } from 'vue-router'

export default [
  { path: '/staff', component: () => import('./StaffHome.vue'), meta: { role: 'staff' } },
] satisfies RouteRecordRaw[]
