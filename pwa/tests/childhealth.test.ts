import { describe, expect, it } from 'vitest'
import { BOX, band, pathOf, scaleFor, type Curve } from '@/views/childhealth/chart'

const curves: Curve[] = [
  { z: -2, points: [[0, 2.5], [6, 6.4], [12, 7.7]] },
  { z: 0, points: [[0, 3.3], [6, 7.9], [12, 9.6]] },
  { z: 2, points: [[0, 4.4], [6, 9.8], [12, 12.0]] },
]

describe('growth chart geometry', () => {
  it('fits every curve and point inside the plot area', () => {
    const scale = scaleFor(curves, [[8, 8.1]])
    for (const c of curves) {
      for (const [x, y] of c.points) {
        expect(scale.x(x)).toBeGreaterThanOrEqual(BOX.left)
        expect(scale.x(x)).toBeLessThanOrEqual(BOX.width - BOX.right)
        expect(scale.y(y)).toBeGreaterThanOrEqual(BOX.top)
        expect(scale.y(y)).toBeLessThanOrEqual(BOX.height - BOX.bottom)
      }
    }
    // Heavier is higher on the screen (smaller y).
    expect(scale.y(12)).toBeLessThan(scale.y(3))
    expect(scale.xTicks[0]).toBe(0)
    expect(scale.xTicks.at(-1)).toBe(12)
  })

  it('draws a path through the points', () => {
    const scale = scaleFor(curves, [])
    const d = pathOf(curves[1].points, scale)
    expect(d.startsWith('M')).toBe(true)
    expect(d.split('L')).toHaveLength(3)
  })

  it('names the band of a z-score in words, never a diagnosis', () => {
    expect(band(-2.1)).toBe('low')
    expect(band(2.01)).toBe('high')
    expect(band(0)).toBe('normal')
  })
})
