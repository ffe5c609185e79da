import type { RouteRecordRaw } from 'vue-router'
import officer from './officer/routes'
import staff from './staff/routes'

const UUID = '([0-9a-fA-F-]{36})'

export default [
  // The guardian's growth chart (the link of the growth.follow_up message: /children/{id}/growth).
  { path: `/children/:id${UUID}/growth`, component: () => import('./GrowthChart.vue'), meta: { role: 'parent' } },
  // The staff's daily health check (晨午检) of one class, from the desk's class card.
  { path: `/health/classes/:id${UUID}/checks`, component: () => import('./ClassChecks.vue'), meta: { role: 'staff' } },
  ...staff,
  ...officer,
] satisfies RouteRecordRaw[]
