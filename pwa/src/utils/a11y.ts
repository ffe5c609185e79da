// Accessibility helpers for Vant components that do not forward attributes to their inner controls.
import type { Directive } from 'vue'

function label(el: HTMLElement, text: string): void {
  el.querySelectorAll<HTMLInputElement>('input[type=file]').forEach((input) => input.setAttribute('aria-label', text))
}

/** `v-file-label="'添加照片'"` on a <van-uploader>: names its hidden file input (Vant renders it bare). */
export const vFileLabel: Directive<HTMLElement, string> = {
  mounted: (el, binding) => label(el, binding.value),
  updated: (el, binding) => label(el, binding.value),
}

function labelInput(el: HTMLElement, text: string): void {
  el.querySelector('input:not([type=file]), textarea')?.setAttribute('aria-label', text)
}

/** `v-input-label="'按名称搜索'"` on a <van-search> (or similar): names the input inside it. */
export const vInputLabel: Directive<HTMLElement, string> = {
  mounted: (el, binding) => labelInput(el, binding.value),
  updated: (el, binding) => labelInput(el, binding.value),
}
