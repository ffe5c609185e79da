import type { RouteRecordRaw } from 'vue-router'
import officer from './officer/routes'
import staff from './staff/routes'

const UUID = '([0-9a-fA-F-]{36})'

export default [
  // The guardian's growth chart (the link of the growth.follow_up message: /children/{id}/growth).
  { path: `/children/:id${UUID}/growth`, component: () => import('./GrowthChart.vue'), meta: { role: 'parent' } },
  ...staff,
  ...officer,
] satisfies RouteRecordRaw[]
