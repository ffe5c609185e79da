// Geometry of the growth chart: the WHO reference curves and the child's points mapped into an SVG
// box. Pure functions (tested with Vitest); the screen draws the result as inline SVG.

export type XY = [number, number]

export interface Curve {
  z: number
  points: XY[]
}

export interface Box {
  width: number
  height: number
  left: number
  right: number
  top: number
  bottom: number
}

export const BOX: Box = { width: 340, height: 260, left: 40, right: 12, top: 12, bottom: 32 }

export interface Scale {
  x: (v: number) => number
  y: (v: number) => number
  xTicks: number[]
  yTicks: number[]
}

function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count)
  const mag = 10 ** Math.floor(Math.log10(raw))
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * mag) return m * mag
  return 10 * mag
}

function ticks(lo: number, hi: number, count: number): number[] {
  const step = niceStep(hi - lo, count)
  const out: number[] = []
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Math.round(v * 100) / 100)
  return out
}

/** The scale holding every curve and point. */
export function scaleFor(curves: Curve[], points: XY[], box: Box = BOX): Scale {
  const all = [...curves.flatMap((c) => c.points), ...points]
  const xs = all.map((p) => p[0])
  const ys = all.map((p) => p[1])
  const x0 = Math.min(...xs), x1 = Math.max(...xs)
  const y0 = Math.floor(Math.min(...ys)), y1 = Math.ceil(Math.max(...ys))
  const w = box.width - box.left - box.right
  const h = box.height - box.top - box.bottom
  const sx = x1 > x0 ? w / (x1 - x0) : 1
  const sy = y1 > y0 ? h / (y1 - y0) : 1
  return {
    x: (v) => Math.round((box.left + (v - x0) * sx) * 10) / 10,
    y: (v) => Math.round((box.top + h - (v - y0) * sy) * 10) / 10,
    xTicks: ticks(x0, x1, 6),
    yTicks: ticks(y0, y1, 5),
  }
}

/** An SVG path through the points. */
export function pathOf(points: XY[], scale: Scale): string {
  return points.map(([x, y], i) => `${i ? 'L' : 'M'}${scale.x(x)},${scale.y(y)}`).join(' ')
}

/** Which band a z-score falls in, for the words next to a point (never a diagnosis). */
export function band(z: number): 'low' | 'high' | 'normal' {
  if (z < -2) return 'low'
  if (z > 2) return 'high'
  return 'normal'
}
