import type { RouteRecordRaw } from 'vue-router'

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'

export default [
  { path: '/rooms', component: () => import('./RoomsMap.vue'), meta: { tab: 'rooms' } },
  { path: `/rooms/:id(${UUID})`, component: () => import('./RoomDetail.vue'), meta: { tab: 'rooms' } },
] satisfies RouteRecordRaw[]
