import type { RouteRecordRaw } from 'vue-router'

// Institution ids are UUIDs; the pattern keeps /staff/complaints/:id apart from /staff/:institutionId/...
const INST = ':institutionId([0-9a-fA-F-]{36})'

export default [
  { path: '/staff', component: () => import('./StaffHome.vue'), meta: { role: 'staff' } },
  { path: `/staff/${INST}`, component: () => import('./StaffDesk.vue'), meta: { role: 'staff' } },
  { path: `/staff/${INST}/applications`, component: () => import('./StaffApplications.vue'), meta: { role: 'staff' } },
  { path: `/staff/${INST}/bookings`, component: () => import('./StaffBookings.vue'), meta: { role: 'staff' } },
  { path: `/staff/${INST}/notices`, component: () => import('./StaffNotices.vue'), meta: { role: 'staff' } },
  { path: `/staff/${INST}/notices/new`, component: () => import('./StaffNoticeNew.vue'), meta: { role: 'staff' } },
  {
    path: `/staff/${INST}/notices/:noticeId([0-9a-fA-F-]{36})`,
    component: () => import('./StaffNotice.vue'),
    meta: { role: 'staff' },
  },
  { path: `/staff/${INST}/complaints`, component: () => import('./StaffComplaints.vue'), meta: { role: 'staff' } },
  { path: '/staff/complaints/:id', component: () => import('./StaffComplaint.vue'), meta: { role: 'staff' } },
] satisfies RouteRecordRaw[]
