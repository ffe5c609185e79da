export default {
  'zh-CN': { complaints: { title: 'complaints' } },
  en: { complaints: { title: 'complaints' } },
}
