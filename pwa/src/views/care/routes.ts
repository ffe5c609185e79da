import type { RouteLocationNormalized, RouteRecordRaw } from 'vue-router'
import { useAuth } from '@/stores/auth'

/** Live and push messages link every guardian's and staff member's device to /bookings/{id} and
 * /applications/{id}; staff who are not parents have their own screens for those. */
function staffElsewhere(): true | string {
  const auth = useAuth()
  if (auth.signedIn && !auth.isParent) return auth.isStaff ? '/staff' : '/me'
  return true
}

/** Parent-only screens: another role signed in goes back to the institution or to 我的. */
function parentsOnly(to: RouteLocationNormalized): true | string {
  const auth = useAuth()
  if (auth.signedIn && !auth.isParent) return to.params.id ? `/institutions/${String(to.params.id)}` : '/me'
  return true
}

export default [
  { path: '/', component: () => import('./FindCare.vue'), meta: { tab: 'care' } },
  { path: '/favourites', component: () => import('./MyFavourites.vue'), meta: { auth: true, tab: 'me' } },
  { path: '/institutions/:id', component: () => import('./InstitutionDetail.vue') },
  {
    path: '/institutions/:id/apply',
    component: () => import('./ApplyPlace.vue'),
    meta: { role: 'parent' },
    beforeEnter: parentsOnly,
  },
  {
    path: '/institutions/:id/book',
    component: () => import('./BookCare.vue'),
    meta: { role: 'parent' },
    beforeEnter: parentsOnly,
  },
  { path: '/bookings', component: () => import('./MyBookings.vue'), meta: { role: 'parent', tab: 'me' }, beforeEnter: staffElsewhere },
  { path: '/bookings/:id', component: () => import('./BookingDetail.vue'), meta: { role: 'parent' }, beforeEnter: staffElsewhere },
  {
    path: '/applications',
    component: () => import('./MyApplications.vue'),
    meta: { role: 'parent', tab: 'me' },
    beforeEnter: staffElsewhere,
  },
  {
    path: '/applications/:id',
    component: () => import('./ApplicationDetail.vue'),
    meta: { role: 'parent' },
    beforeEnter: staffElsewhere,
  },
  // Institution staff: the enrolment queue, the day's bookings and attendance.
  {
    path: '/staff/:institutionId([0-9a-fA-F-]{36})/applications',
    component: () => import('./staff/StaffApplications.vue'),
    meta: { role: 'staff' },
  },
  {
    path: '/staff/:institutionId([0-9a-fA-F-]{36})/bookings',
    component: () => import('./staff/StaffBookings.vue'),
    meta: { role: 'staff' },
  },
] satisfies RouteRecordRaw[]
