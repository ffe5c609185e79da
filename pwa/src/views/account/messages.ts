export default {
  'zh-CN': { account: { title: 'account' } },
  en: { account: { title: 'account' } },
}
