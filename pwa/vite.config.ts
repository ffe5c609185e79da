// Vite build of the PWA. Vant components are imported on demand (unplugin-vue-components), the service
// worker is our own src/sw.ts (precache + push + notification taps) injected with the precache manifest.
import { fileURLToPath, URL } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { VantResolver } from '@vant/auto-import-resolver'
import Components from 'unplugin-vue-components/vite'
import { defineConfig, type Plugin } from 'vite'
import { VitePWA } from 'vite-plugin-pwa'

// Nothing is loaded from another origin at run time (issue 19 §3). Vant's icon font is inlined as WOFF2
// (a data: URL) with fallbacks on a public CDN (at.alicdn.com): the fallbacks are cut from the built CSS,
// and the build fails if any other stylesheet still names another origin.
const EXTERNAL_FALLBACK = /,\s*url\(\s*["']?(?:https?:)?\/\/[^)]*\)\s*format\([^)]*\)/gi
const EXTERNAL_URL = /url\(\s*["']?(?:https?:)?\/\//i
function selfContainedCss(): Plugin {
  return {
    name: 'self-contained-css',
    apply: 'build',
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) {
        if (file.type !== 'asset' || !file.fileName.endsWith('.css')) continue
        const css = String(file.source).replace(EXTERNAL_FALLBACK, '')
        if (EXTERNAL_URL.test(css)) this.error(`${file.fileName} loads something from another origin`)
        file.source = css
      }
    },
  }
}

export default defineConfig({
  plugins: [
    // WeChat's open tags (wx-open-subscribe…) are custom elements WeChat renders itself.
    vue({ template: { compilerOptions: { isCustomElement: (tag) => tag.startsWith('wx-open-') } } }),
    selfContainedCss(),
    Components({ resolvers: [VantResolver()], dts: false }),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      registerType: 'autoUpdate',
      injectRegister: false, // src/pwa.ts registers it (and tells the app about updates)
      injectManifest: {
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}'],
        // The statistics dashboard (with ECharts, ~190 KB gzipped) is for officers at a desk: not
        // precached on every parent's phone; it loads when opened.
        globIgnores: ['**/StatsDashboard-*.js'],
        maximumFileSizeToCacheInBytes: 3_000_000,
      },
      manifest: {
        name: '大庆市婴幼儿照护服务平台',
        short_name: '大庆托育',
        description: '大庆市婴幼儿照护服务平台 · Daqing childcare for children under 3',
        lang: 'zh-CN',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'portrait',
        background_color: '#ffffff',
        theme_color: '#1989fa',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
    }),
  ],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: { target: 'es2020', sourcemap: false, chunkSizeWarningLimit: 600 },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8000',
      '/ws': { target: 'ws://127.0.0.1:8000', ws: true },
    },
  },
})
