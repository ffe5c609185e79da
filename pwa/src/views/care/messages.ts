export default {
  'zh-CN': { care: { title: 'care' } },
  en: { care: { title: 'care' } },
}
