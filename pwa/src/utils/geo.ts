// The API stores and speaks WGS-84. Chinese map tiles (AMap) are drawn in GCJ-02, so a WGS-84 point
// drawn as-is on them lands a few hundred metres off. We convert at the display edge only, with gcoord:
// to the tiles' system when drawing, back to WGS-84 for anything sent to the API (map bounds, taps).
import gcoord from 'gcoord'

export type TileCrs = 'gcj02' | 'wgs84'
export interface LatLng {
  lat: number
  lng: number
}

export function toDisplay(p: LatLng, crs: TileCrs): LatLng {
  if (crs === 'wgs84') return p
  const [lng, lat] = gcoord.transform([p.lng, p.lat], gcoord.WGS84, gcoord.GCJ02) as [number, number]
  return { lat, lng }
}

export function fromDisplay(p: LatLng, crs: TileCrs): LatLng {
  if (crs === 'wgs84') return p
  const [lng, lat] = gcoord.transform([p.lng, p.lat], gcoord.GCJ02, gcoord.WGS84) as [number, number]
  return { lat, lng }
}

/** Daqing's city centre (Saertu district, as in DOMAIN.md), WGS-84: where maps start without a location. */
export const DAQING_CENTRE: LatLng = { lat: 46.63, lng: 125.11 }

/** Great-circle distance in metres (for ordering on the device; the API's own distances are in SQL). */
export function haversine(a: LatLng, b: LatLng): number {
  const r = 6371008.8
  const rad = Math.PI / 180
  const dLat = (b.lat - a.lat) * rad
  const dLng = (b.lng - a.lng) * rad
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2
  return 2 * r * Math.asin(Math.sqrt(h))
}

/** True when the user has already allowed this site their location (so asking shows no prompt). */
export async function geolocationGranted(): Promise<boolean> {
  try {
    const status = await navigator.permissions?.query({ name: 'geolocation' as PermissionName })
    return status?.state === 'granted'
  } catch {
    return false
  }
}

/** The device's position in WGS-84: inside WeChat from its JS-SDK (GCJ-02, converted), falling back
 * to the Geolocation API (WGS-84 as it is). */
export async function locate(timeoutMs = 10_000): Promise<LatLng> {
  if (/MicroMessenger/i.test(navigator.userAgent)) {
    const { wechatLocate, wechatStatus } = await import('./wechat')
    if ((await wechatStatus()).enabled) {
      try {
        return await wechatLocate(timeoutMs)
      } catch {
        // not signed by WeChat (e.g. an unlisted domain): the browser's own location
      }
    }
  }
  return browserLocate(timeoutMs)
}

function browserLocate(timeoutMs: number): Promise<LatLng> {
  return new Promise((resolve, reject) => {
    if (!('geolocation' in navigator)) return reject(new Error('geolocation unavailable'))
    navigator.geolocation.getCurrentPosition(
      (pos) => resolve({ lat: pos.coords.latitude, lng: pos.coords.longitude }),
      (err) => reject(new Error(err.message)),
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 60_000 },
    )
  })
}
