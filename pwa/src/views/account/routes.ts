import type { RouteRecordRaw } from 'vue-router'

export default [
  { path: '/me', component: () => import('./MeHome.vue'), meta: { tab: 'me' } },
  { path: '/login', component: () => import('./SignIn.vue'), meta: {  } },
] satisfies RouteRecordRaw[]
