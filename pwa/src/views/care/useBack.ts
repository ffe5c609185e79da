import { useRouter } from 'vue-router'

/** Back within the app when there is somewhere to go back to, else to a sensible parent screen. */
export function useBack(fallback: string | (() => string)) {
  const router = useRouter()
  return () => {
    const state = window.history.state as { back?: string | null } | null
    if (state?.back) router.back()
    else router.replace(typeof fallback === 'function' ? fallback() : fallback)
  }
}
