// Which map tiles the device uses (no Leaflet here, so settings screens stay light). AMap (GCJ-02,
// Chinese streets and labels) by default, or OpenStreetMap (WGS-84); the build's default can be
// changed with VITE_MAP_TILES=amap|osm and the user's choice is saved on the device.
export type TileProvider = 'amap' | 'osm'

const KEY = 'dq.mapTiles'

export function tileProvider(): TileProvider {
  const saved = localStorage.getItem(KEY)
  if (saved === 'amap' || saved === 'osm') return saved
  return import.meta.env.VITE_MAP_TILES === 'osm' ? 'osm' : 'amap'
}

export function setTileProvider(p: TileProvider): void {
  localStorage.setItem(KEY, p)
}
