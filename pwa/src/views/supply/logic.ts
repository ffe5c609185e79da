// The supply gap: colours for the map layer (by the share of the target reached) and labels.
import type { components } from '@/api/schema'

export type SupplyGap = components['schemas']['SupplyGap']
export type AreaSupply = components['schemas']['AreaSupply']

/** Share of the target (4.5 places per 1,000 residents) an area reaches, 0..1+. */
export function reached(a: AreaSupply): number {
  return a.target_places ? a.places / a.target_places : 1
}

/** Red (far from the target) → amber → green (met), in steps an officer can tell apart. */
export function gapColour(a: AreaSupply): string {
  const r = reached(a)
  if (r >= 1) return '#07a35a'
  if (r >= 0.75) return '#8bbf1f'
  if (r >= 0.5) return '#f2a400'
  if (r >= 0.25) return '#e8590c'
  return '#c8161d'
}

/** Circle radius in pixels, by residents (the units have no boundary polygons in the data). */
export function radiusFor(a: AreaSupply): number {
  return Math.max(10, Math.min(34, Math.sqrt(a.residents) / 25))
}

export const CSV_URL = '/api/statistics/supply/export.csv'
