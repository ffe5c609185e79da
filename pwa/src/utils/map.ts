// Leaflet maps. The tile source is configurable: AMap (GCJ-02, the default: Chinese streets and labels)
// or OpenStreetMap (WGS-84). The choice is the user's (saved on the device), the default the build's
// (VITE_MAP_TILES=amap|osm). Markers are converted to the tiles' system in utils/geo.
import L from 'leaflet'
import 'leaflet/dist/leaflet.css'
import { DAQING_CENTRE, fromDisplay, toDisplay, type LatLng, type TileCrs } from '@/utils/geo'
import { tileProvider, type TileProvider } from '@/utils/tiles'

export { setTileProvider, tileProvider, type TileProvider } from '@/utils/tiles'

interface ProviderSpec {
  url: string
  subdomains: string
  crs: TileCrs
  attribution: string
  maxZoom: number
}

export const PROVIDERS: Record<TileProvider, ProviderSpec> = {
  amap: {
    url: 'https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}',
    subdomains: '1234',
    crs: 'gcj02',
    attribution: '&copy; 高德地图 AutoNavi',
    maxZoom: 18,
  },
  osm: {
    url: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
    subdomains: 'abc',
    crs: 'wgs84',
    attribution: '&copy; OpenStreetMap contributors',
    maxZoom: 19,
  },
}

/** A map handle that speaks WGS-84 to its callers whatever the tiles use. */
export interface DqMap {
  map: L.Map
  crs: TileCrs
  marker(p: LatLng, options?: L.CircleMarkerOptions): L.CircleMarker
  centre(): LatLng
  setView(p: LatLng, zoom?: number): void
  /** Called once when the tiles cannot be loaded (offline, blocked, provider down): several tile
   *  errors before any tile loaded. The map and its markers keep working on a blank background. */
  onTilesFailed(callback: () => void): void
  /** The visible area as WGS-84 bounds (for viewport queries). */
  bounds(): { south: number; west: number; north: number; east: number }
}

export function createMap(el: HTMLElement, start: LatLng = DAQING_CENTRE, zoom = 13): DqMap {
  const spec = PROVIDERS[tileProvider()]
  const crs = spec.crs
  const d = toDisplay(start, crs)
  const map = L.map(el, { zoomControl: true, attributionControl: true }).setView([d.lat, d.lng], zoom)
  // The tile provider's credit stays; Leaflet's own prefix (a link with a flag) goes.
  map.attributionControl.setPrefix(false)
  const tiles = L.tileLayer(spec.url, { subdomains: spec.subdomains, maxZoom: spec.maxZoom, attribution: spec.attribution }).addTo(map)
  let loaded = 0
  let errors = 0
  let failed = false
  const failedListeners: Array<() => void> = []
  tiles.on('tileload', () => loaded++)
  tiles.on('tileerror', () => {
    errors++
    if (!failed && loaded === 0 && errors >= 3) {
      failed = true
      failedListeners.forEach((cb) => cb())
    }
  })
  return {
    map,
    crs,
    onTilesFailed(callback) {
      if (failed) callback()
      else failedListeners.push(callback)
    },
    marker(p, options) {
      const q = toDisplay(p, crs)
      return L.circleMarker([q.lat, q.lng], { radius: 9, weight: 2, fillOpacity: 0.85, ...options }).addTo(map)
    },
    centre() {
      const c = map.getCenter()
      return fromDisplay({ lat: c.lat, lng: c.lng }, crs)
    },
    setView(p, z) {
      const q = toDisplay(p, crs)
      map.setView([q.lat, q.lng], z ?? map.getZoom())
    },
    bounds() {
      const b = map.getBounds()
      const sw = fromDisplay({ lat: b.getSouth(), lng: b.getWest() }, crs)
      const ne = fromDisplay({ lat: b.getNorth(), lng: b.getEast() }, crs)
      return { south: sw.lat, west: sw.lng, north: ne.lat, east: ne.lng }
    },
  }
}
