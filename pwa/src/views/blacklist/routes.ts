import type { RouteRecordRaw } from 'vue-router'

export default [
  // Public: the institutions on the blacklist.
  { path: '/blacklist', component: () => import('./BlacklistPublic.vue'), meta: { tab: 'complaints' } },
  // Health and police officers, the city admin.
  { path: '/officer/blacklist', component: () => import('./BlacklistManage.vue'), meta: { role: 'officer' } },
  { path: '/officer/blacklist/new', component: () => import('./BlacklistEntryForm.vue'), meta: { role: 'officer' } },
  { path: '/officer/blacklist/check', component: () => import('./BlacklistCheck.vue'), meta: { role: 'officer' } },
  // An institution's admins.
  {
    path: '/staff/:institutionId([0-9a-fA-F-]{36})/roster',
    component: () => import('./StaffRoster.vue'),
    meta: { role: 'staff' },
  },
] satisfies RouteRecordRaw[]
