import { describe, expect, it } from 'vitest'
import { gapColour, gapTextColour, reached, type AreaSupply } from '@/views/supply/logic'

const area = (places: number, target: number) => ({ places, target_places: target }) as AreaSupply

// WCAG relative luminance contrast against white.
function contrastOnWhite(hex: string): number {
  const channel = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  }
  const l = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
  return 1.05 / (l + 0.05)
}

describe('supply gap colours', () => {
  it('steps from red to green by the share of the target reached', () => {
    expect(reached(area(0, 0))).toBe(1)
    expect([0, 30, 60, 80, 100, 150].map((p) => gapColour(area(p, 100)))).toEqual([
      '#c8161d', '#e8590c', '#f2a400', '#8bbf1f', '#07a35a', '#07a35a',
    ])
  })
  it('writes each step in a text colour readable on white (WCAG AA)', () => {
    const steps = [0, 30, 60, 80, 100].map((p) => gapTextColour(area(p, 100)))
    expect(new Set(steps).size).toBe(5)
    for (const colour of steps) expect(contrastOnWhite(colour)).toBeGreaterThanOrEqual(4.5)
  })
})
