import type { RouteRecordRaw } from 'vue-router'

export default [
  // Public: the institutions on the blacklist.
  { path: '/blacklist', component: () => import('./BlacklistPublic.vue'), meta: { tab: 'complaints' } },
  // Health and police officers, the city admin.
  { path: '/officer/blacklist', component: () => import('./officer/BlacklistManage.vue'), meta: { role: 'officer' } },
  { path: '/officer/blacklist/new', component: () => import('./officer/BlacklistEntryForm.vue'), meta: { role: 'officer' } },
  { path: '/officer/blacklist/check', component: () => import('./officer/BlacklistCheck.vue'), meta: { role: 'officer' } },
  // An institution's admins.
  {
    path: '/staff/:institutionId([0-9a-fA-F-]{36})/roster',
    component: () => import('./staff/StaffRoster.vue'),
    meta: { role: 'staff' },
  },
] satisfies RouteRecordRaw[]
