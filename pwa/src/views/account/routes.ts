import type { RouteRecordRaw } from 'vue-router'

export default [
  { path: '/me', component: () => import('./MeHome.vue'), meta: { tab: 'me' } },
  { path: '/login', component: () => import('./SignIn.vue'), meta: {} },
  { path: '/me/children', component: () => import('./MyChildren.vue'), meta: { role: 'parent' } },
  { path: '/me/notifications', component: () => import('./NotificationSettings.vue'), meta: { auth: true } },
  // the short link an SMS carries (/n/<random token>): opens the right screen after sign-in
  { path: '/n/:token', component: () => import('./SmsLink.vue'), meta: { auth: true } },
] satisfies RouteRecordRaw[]
