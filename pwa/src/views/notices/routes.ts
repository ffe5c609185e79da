import type { RouteRecordRaw } from 'vue-router'

export default [
  { path: '/notices', component: () => import('./NoticeList.vue'), meta: { tab: 'notices', auth: true } },
  { path: '/notices/:id', component: () => import('./NoticeDetail.vue'), meta: { tab: 'notices', auth: true } },
] satisfies RouteRecordRaw[]
