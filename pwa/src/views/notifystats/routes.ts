import type { RouteRecordRaw } from 'vue-router'

// Delivery counts per channel and day: city admins only (the API answers 403 to others).
export default [
  { path: '/officer/notification-stats', component: () => import('./NotificationStats.vue'), meta: { role: 'officer' } },
] satisfies RouteRecordRaw[]
