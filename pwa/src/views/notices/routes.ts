import type { RouteRecordRaw } from 'vue-router'

const INST = ':institutionId([0-9a-fA-F-]{36})'

export default [
  { path: '/notices', component: () => import('./NoticeList.vue'), meta: { tab: 'notices', auth: true } },
  { path: '/notices/:id', component: () => import('./NoticeDetail.vue'), meta: { tab: 'notices', auth: true } },
  // Institution staff: post notices, read receipts and results.
  { path: `/staff/${INST}/notices`, component: () => import('./staff/StaffNotices.vue'), meta: { role: 'staff' } },
  { path: `/staff/${INST}/notices/new`, component: () => import('./staff/StaffNoticeNew.vue'), meta: { role: 'staff' } },
  {
    path: `/staff/${INST}/notices/:noticeId([0-9a-fA-F-]{36})`,
    component: () => import('./staff/StaffNotice.vue'),
    meta: { role: 'staff' },
  },
] satisfies RouteRecordRaw[]
