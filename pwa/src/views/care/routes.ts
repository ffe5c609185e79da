import type { RouteRecordRaw } from 'vue-router'

export default [
  { path: '/', component: () => import('./FindCare.vue'), meta: { tab: 'care' } },
] satisfies RouteRecordRaw[]
