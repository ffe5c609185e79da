import type { RouteRecordRaw } from 'vue-router'

export default [
  { path: '/notices', component: () => import('./NoticeList.vue'), meta: { tab: 'notices', auth: true } },
] satisfies RouteRecordRaw[]
