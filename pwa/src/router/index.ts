// Routes come from each screen area's views/<area>/routes.ts. Paths are real paths (the API's push and
// live messages carry them: /bookings/{id}, /notices/{id}, /complaints/{id}, /applications/{id}).
// Route meta: `tab` names the bottom tab to highlight (and shows the tab bar), `auth` requires sign-in,
// `role` requires 'parent' | 'staff' | 'officer'.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useAuth } from '@/stores/auth'
import { inWeChat, silentSignIn } from '@/utils/wechat'

declare module 'vue-router' {
  interface RouteMeta {
    tab?: 'care' | 'rooms' | 'notices' | 'complaints' | 'me'
    auth?: boolean
    role?: 'parent' | 'staff' | 'officer'
    title?: string
  }
}

const areas = import.meta.glob<{ default: RouteRecordRaw[] }>('../views/*/routes.ts', { eager: true })
const routes: RouteRecordRaw[] = Object.values(areas).flatMap((m) => m.default)
routes.push({ path: '/:pathMatch(.*)*', component: () => import('@/components/NotFound.vue') })

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
})

router.beforeEach(async (to) => {
  const auth = useAuth()
  if (!auth.checked && navigator.onLine) {
    // A public screen renders at once with the remembered account (issue 19: no render blocked on
    // /api/me); a screen that needs sign-in or a role waits for the answer to decide, and so does
    // WeChat's browser, where a browser that signed in with WeChat before signs in again without a word.
    const asking = auth.refresh().catch(() => undefined)
    if (to.meta.auth || to.meta.role || inWeChat()) await asking
    if (!auth.signedIn && (await silentSignIn(to.fullPath))) return false
  }
  if ((to.meta.auth || to.meta.role) && !auth.signedIn) return { path: '/login', query: { next: to.fullPath } }
  // Routes with their own beforeEnter decide where other roles go (e.g. staff following a booking link).
  if (to.meta.role === 'parent' && !auth.isParent && !to.matched.some((r) => r.beforeEnter)) return '/me'
  if (to.meta.role === 'staff' && !auth.isStaff) return '/me'
  if (to.meta.role === 'officer' && !auth.isOfficer) return '/me'
  return true
})
