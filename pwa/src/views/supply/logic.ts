// The supply gap: colours for the map layer (by the share of the target reached) and labels.
import type { components } from '@/api/schema'

export type SupplyGap = components['schemas']['SupplyGap']
export type AreaSupply = components['schemas']['AreaSupply']

/** Share of the target (4.5 places per 1,000 residents) an area reaches, 0..1+. */
export function reached(a: AreaSupply): number {
  return a.target_places ? a.places / a.target_places : 1
}

// Steps of the share of the target reached: red (far from it) → amber → green (met). The map fills
// circles with the bright colour; text uses the dark one (at least 4.5:1 on white, WCAG AA).
const STEPS: [number, string, string][] = [
  [1, '#07a35a', '#05703e'],
  [0.75, '#8bbf1f', '#4d6b0f'],
  [0.5, '#f2a400', '#8a5d00'],
  [0.25, '#e8590c', '#b03f06'],
  [0, '#c8161d', '#a8121a'],
]

function step(a: AreaSupply): [number, string, string] {
  const r = reached(a)
  return STEPS.find(([from]) => r >= from) ?? STEPS[STEPS.length - 1]
}

/** The map layer's colour for an area, in steps an officer can tell apart. */
export function gapColour(a: AreaSupply): string {
  return step(a)[1]
}

/** The same step's colour for text on a white background. */
export function gapTextColour(a: AreaSupply): string {
  return step(a)[2]
}

/** Circle radius in pixels, by residents (the units have no boundary polygons in the data). */
export function radiusFor(a: AreaSupply): number {
  return Math.max(10, Math.min(34, Math.sqrt(a.residents) / 25))
}

export const CSV_URL = '/api/statistics/supply/export.csv'
