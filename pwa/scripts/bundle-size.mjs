// Measures the JavaScript a first visit downloads before the app can start: the entry script and the
// modules index.html preloads, gzipped. Fails the build above the budget (issue 8: 250 KB gzipped).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

const BUDGET = 250 * 1024
const dist = new URL('../dist/', import.meta.url).pathname
const html = readFileSync(join(dist, 'index.html'), 'utf8')
const files = new Set()
for (const m of html.matchAll(/<script[^>]+src="([^"]+\.js)"/g)) files.add(m[1])
for (const m of html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g)) files.add(m[1])
let total = 0
const rows = []
for (const f of files) {
  const size = gzipSync(readFileSync(join(dist, f.replace(/^\//, '')))).length
  total += size
  rows.push(`  ${f}  ${(size / 1024).toFixed(1)} KB gzipped`)
}
console.log(`Initial JavaScript (gzipped): ${(total / 1024).toFixed(1)} KB of ${BUDGET / 1024} KB budget`)
console.log(rows.join('\n'))
if (total > BUDGET) {
  console.error(`Initial JavaScript is over budget by ${((total - BUDGET) / 1024).toFixed(1)} KB`)
  process.exit(1)
}
