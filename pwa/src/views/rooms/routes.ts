import type { RouteRecordRaw } from 'vue-router'

export default [
  { path: '/rooms', component: () => import('./RoomsMap.vue'), meta: { tab: 'rooms' } },
] satisfies RouteRecordRaw[]
