export default {
  'zh-CN': { rooms: { title: 'rooms' } },
  en: { rooms: { title: 'rooms' } },
}
