// The text size of this device: the system's (the default: rem follows the browser/OS font size), or
// larger for carers who want it (我的 → 字体大小). Applied as a class on <html>; kept in localStorage.
export type TextSize = 'normal' | 'large' | 'xlarge'
const KEY = 'dq.textSize'
const CLASSES: Record<TextSize, string | null> = { normal: null, large: 'dq-text-large', xlarge: 'dq-text-xlarge' }

export function textSize(): TextSize {
  const saved = localStorage.getItem(KEY)
  return saved === 'large' || saved === 'xlarge' ? saved : 'normal'
}

export function applyTextSize(size: TextSize = textSize()): void {
  const root = document.documentElement
  for (const c of Object.values(CLASSES)) if (c) root.classList.remove(c)
  const c = CLASSES[size]
  if (c) root.classList.add(c)
}

export function setTextSize(size: TextSize): void {
  if (size === 'normal') localStorage.removeItem(KEY)
  else localStorage.setItem(KEY, size)
  applyTextSize(size)
}
