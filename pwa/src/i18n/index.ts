// zh-CN first, English switchable. Each screen area keeps its words in views/<area>/messages.ts
// (`{ 'zh-CN': {...}, en: {...} }` under its own key); they are merged here with the common ones.
import { createI18n } from 'vue-i18n'
import { Locale } from 'vant'
import enUS from 'vant/es/locale/lang/en-US'
import zhCN from 'vant/es/locale/lang/zh-CN'
import common from './common'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Messages = Record<string, any>
const areas = import.meta.glob<{ default: Record<string, Record<string, unknown>> }>('../views/*/messages.ts', { eager: true })

function merge(): Messages {
  const out: Messages = { 'zh-CN': { ...common['zh-CN'] }, en: { ...common.en } }
  for (const mod of Object.values(areas)) {
    for (const lang of ['zh-CN', 'en']) Object.assign(out[lang], mod.default[lang] ?? {})
  }
  return out
}

export type AppLocale = 'zh-CN' | 'en'
const KEY = 'dq.locale'
const saved = localStorage.getItem(KEY)
const initial: AppLocale = saved === 'en' ? 'en' : 'zh-CN'

export const i18n = createI18n({
  legacy: false,
  locale: initial,
  fallbackLocale: 'zh-CN',
  messages: merge(),
  missingWarn: false,
  fallbackWarn: false,
})

export function setLocale(locale: AppLocale): void {
  ;(i18n.global.locale as unknown as { value: string }).value = locale
  localStorage.setItem(KEY, locale)
  document.documentElement.lang = locale
  if (locale === 'en') Locale.use('en-US', enUS)
  else Locale.use('zh-CN', zhCN)
}

setLocale(initial)
