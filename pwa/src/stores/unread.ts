// Unread notices for the tab badge; refreshed on sign-in and whenever a notice event arrives live.
// Only parents have unread notices (the API answers others 403): for staff and officers the badge stays empty
// and nothing is asked.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { data, http } from '@/api/http'
import { useAuth } from '@/stores/auth'

export const useUnread = defineStore('unread', () => {
  const total = ref(0)
  const urgent = ref(0)
  async function refresh(): Promise<void> {
    if (!useAuth().isParent) {
      clear()
      return
    }
    try {
      const out = await data(http.GET('/api/notices/unread'))
      total.value = out.total
      urgent.value = out.urgent
    } catch {
      /* offline or signed out: keep the last figure */
    }
  }
  function clear() {
    total.value = 0
    urgent.value = 0
  }
  return { total, urgent, refresh, clear }
})
