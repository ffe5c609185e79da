import type { RouteRecordRaw } from 'vue-router'

const UUID = '([0-9a-fA-F-]{36})'

// The staff's health screens: a child's health record (from the class's 晨午检 list), the follow-up
// items and the institution's entry-check rule (both from the staff desk). No name in any URL.
export default [
  // The daily health check (晨午检) of one class, from the desk's class card.
  { path: `/health/classes/:id${UUID}/checks`, component: () => import('./ClassChecks.vue'), meta: { role: 'staff' } },
  { path: `/health/children/:id${UUID}`, component: () => import('./ChildHealth.vue'), meta: { role: 'staff' } },
  { path: '/health/follow-ups', component: () => import('./FollowUps.vue'), meta: { role: 'staff' } },
  { path: `/health/institutions/:id${UUID}/settings`, component: () => import('./HealthSetting.vue'), meta: { role: 'staff' } },
] satisfies RouteRecordRaw[]
