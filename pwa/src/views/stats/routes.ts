import type { RouteRecordRaw } from 'vue-router'

// Loaded on demand: the dashboard (and ECharts) never weigh on the first visit.
export default [
  { path: '/stats', component: () => import('./StatsDashboard.vue'), meta: { role: 'officer' } },
] satisfies RouteRecordRaw[]
