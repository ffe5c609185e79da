import type { RouteRecordRaw } from 'vue-router'

// The staff console's own screens. A feature's screens for staff live in its folder's staff/ subfolder
// and its routes.ts (docs/pwa.md, "Where things live"). Institution ids are UUIDs; the pattern keeps
// /staff/complaints/:id apart from /staff/:institutionId/...
const INST = ':institutionId([0-9a-fA-F-]{36})'

export default [
  { path: '/staff', component: () => import('./StaffHome.vue'), meta: { role: 'staff' } },
  { path: `/staff/${INST}`, component: () => import('./StaffDesk.vue'), meta: { role: 'staff' } },
] satisfies RouteRecordRaw[]
