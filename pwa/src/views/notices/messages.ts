export default {
  'zh-CN': { notices: { title: 'notices' } },
  en: { notices: { title: 'notices' } },
}
