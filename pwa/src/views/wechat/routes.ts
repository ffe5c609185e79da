import type { RouteRecordRaw } from 'vue-router'

export default [{ path: '/wechat/bind', component: () => import('./WeChatBind.vue'), meta: {} }] satisfies RouteRecordRaw[]
