export default {
  'zh-CN': { staff: { title: 'staff' } },
  en: { staff: { title: 'staff' } },
}
