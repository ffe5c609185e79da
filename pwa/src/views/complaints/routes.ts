import type { RouteRecordRaw } from 'vue-router'
import { useAuth } from '@/stores/auth'

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'

export default [
  { path: '/complaints', component: () => import('./ComplaintsHome.vue'), meta: { tab: 'complaints' } },
  { path: '/complaints/new', component: () => import('./ComplaintNew.vue'), meta: { tab: 'complaints' } },
  { path: '/complaints/track', component: () => import('./ComplaintTrack.vue'), meta: { tab: 'complaints' } },
  { path: '/complaints/mine', component: () => import('./ComplaintsMine.vue'), meta: { tab: 'complaints', auth: true } },
  {
    // Live and push messages link here. Officers and city admins work complaints at their desk.
    path: `/complaints/:id(${UUID})`,
    component: () => import('./ComplaintDetail.vue'),
    meta: { tab: 'complaints', auth: true },
    beforeEnter: (to) => {
      const auth = useAuth()
      if (auth.isOfficer) return `/officer/complaints/${to.params.id as string}`
      return true
    },
  },
  // Institution staff read their institution's complaints (the pattern keeps /staff/complaints/:id apart).
  { path: `/staff/:institutionId([0-9a-fA-F-]{36})/complaints`, component: () => import('./staff/StaffComplaints.vue'), meta: { role: 'staff' } },
  { path: '/staff/complaints/:id', component: () => import('./staff/StaffComplaint.vue'), meta: { role: 'staff' } },
  // Officers and city admins: the complaint desk.
  { path: '/officer', component: () => import('./officer/OfficerHome.vue'), meta: { role: 'officer' } },
  { path: '/officer/complaints/:id', component: () => import('./officer/OfficerComplaint.vue'), meta: { role: 'officer' } },
] satisfies RouteRecordRaw[]
