import type { RouteRecordRaw } from 'vue-router'
import { useAuth } from '@/stores/auth'

const UUID = '([0-9a-fA-F-]{36})'

/** Hosting screens: institution staff and officers (the API decides which events each may host). */
function hostsOnly(): true | string {
  const auth = useAuth()
  return auth.isStaff || auth.isOfficer ? true : '/guidance'
}

export default [
  { path: '/guidance', component: () => import('./GuidanceList.vue') },
  { path: `/guidance/:id${UUID}`, component: () => import('./GuidanceEvent.vue') },
  { path: '/guidance/registrations', component: () => import('./MyGuidance.vue'), meta: { role: 'parent', tab: 'me' } },
  { path: `/guidance/registrations/:id${UUID}`, component: () => import('./MyGuidance.vue'), meta: { role: 'parent' } },
  { path: '/guidance/host', component: () => import('./staff/GuidanceHost.vue'), meta: { auth: true }, beforeEnter: hostsOnly },
  { path: '/guidance/host/new', component: () => import('./staff/GuidancePublish.vue'), meta: { auth: true }, beforeEnter: hostsOnly },
  { path: `/guidance/host/:id${UUID}`, component: () => import('./staff/GuidanceAttendance.vue'), meta: { auth: true }, beforeEnter: hostsOnly },
  {
    path: `/staff/:institutionId${UUID}/guidance`,
    component: () => import('./staff/GuidanceHost.vue'),
    meta: { role: 'staff' },
  },
] satisfies RouteRecordRaw[]
