import type { RouteRecordRaw } from 'vue-router'

const UUID = '([0-9a-fA-F-]{36})'

// Health officers: cluster alerts (counts) and the reason-based access to the checks behind one.
export default [
  { path: '/officer/health/clusters', component: () => import('./Clusters.vue'), meta: { role: 'officer' } },
  { path: `/officer/health/clusters/:id${UUID}`, component: () => import('./ClusterAccess.vue'), meta: { role: 'officer' } },
] satisfies RouteRecordRaw[]
