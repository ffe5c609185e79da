import type { RouteRecordRaw } from 'vue-router'

const UUID = '([0-9a-fA-F-]{36})'

// Cluster alerts (counts; the link of the health_cluster event, for the institution's staff and health
// officers alike) and the officers' reason-based access to the checks behind one.
export default [
  { path: '/health/clusters', component: () => import('./Clusters.vue'), meta: { auth: true } },
  { path: `/health/clusters/:id${UUID}`, component: () => import('./ClusterAccess.vue'), meta: { role: 'officer' } },
] satisfies RouteRecordRaw[]
