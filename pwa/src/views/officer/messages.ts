export default {
  'zh-CN': { officer: { title: 'officer' } },
  en: { officer: { title: 'officer' } },
}
