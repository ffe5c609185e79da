// Precompresses the built app (issue 19 §2): next to every text file of dist/ (JavaScript, CSS, HTML,
// SVG, JSON, the web manifest) a .br (brotli, best quality below 1 MB) and a .gz (gzip, level 9), written only
// when smaller than the file. The server (backend/core/static.py) picks one by Accept-Encoding and
// sends it with Content-Encoding and Vary. Images and fonts are compressed already: left alone.
import { readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { extname, join } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.svg', '.json', '.webmanifest', '.txt', '.xml', '.map'])
const MIN_BYTES = 256
// Quality 11 on the multi-megabyte API-docs renderers takes most of the build's time for a percent or two:
// files above this size get quality 9 (the app's own files are far smaller and get 11).
const LARGE_BYTES = 1024 * 1024
const dist = new URL('../dist/', import.meta.url).pathname

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* walk(path)
    else yield path
  }
}

let raw = 0
let br = 0
let gz = 0
let count = 0
for (const path of [...walk(dist)]) {
  if (path.endsWith('.br') || path.endsWith('.gz')) {
    unlinkSync(path) // a stale twin from an earlier build
    continue
  }
  if (!COMPRESSIBLE.has(extname(path)) || statSync(path).size < MIN_BYTES) continue
  const body = readFileSync(path)
  const brotli = brotliCompressSync(body, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: body.length > LARGE_BYTES ? 9 : constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
    },
  })
  const gzip = gzipSync(body, { level: 9 })
  if (brotli.length < body.length) writeFileSync(path + '.br', brotli)
  if (gzip.length < body.length) writeFileSync(path + '.gz', gzip)
  raw += body.length
  br += Math.min(brotli.length, body.length)
  gz += Math.min(gzip.length, body.length)
  count += 1
}
const kb = (n) => `${(n / 1024).toFixed(1)} KB`
console.log(`Precompressed ${count} files: ${kb(raw)} raw, ${kb(br)} brotli, ${kb(gz)} gzip`)
