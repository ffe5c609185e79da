import type { RouteRecordRaw } from 'vue-router'

export default [
  { path: '/complaints', component: () => import('./ComplaintsHome.vue'), meta: { tab: 'complaints' } },
] satisfies RouteRecordRaw[]
