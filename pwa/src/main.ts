import { createApp } from 'vue'
import { createPinia } from 'pinia'
// Styles of Vant's function-call components (templates' components get theirs automatically).
import 'vant/es/toast/style'
import 'vant/es/dialog/style'
import 'vant/es/notify/style'
import 'vant/es/image-preview/style'
import App from './App.vue'
import { i18n } from './i18n'
import { router } from './router'
import { registerServiceWorker } from './pwa'

createApp(App).use(createPinia()).use(router).use(i18n).mount('#app')
// The service worker waits for the first screen (src/pwa.ts).
void registerServiceWorker(router.isReady())
