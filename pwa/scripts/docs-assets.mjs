// Copies the API documentation's renderers into dist/schema-assets/ (served by the app at /schema,
// /schema/swagger; issue 19 §3: no CDN at run time). They come pinned from npm (package-lock.json):
// @scalar/api-reference's standalone bundle and swagger-ui-dist. Copied after `vite build` so the
// service worker does not precache them (they are for developers at a desk, not for parents' phones).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const out = new URL('../dist/schema-assets/', import.meta.url).pathname
mkdirSync(out, { recursive: true })

const modules = new URL('../node_modules/', import.meta.url).pathname
const scalarDir = join(modules, '@scalar/api-reference')
const swaggerDir = join(modules, 'swagger-ui-dist')
const files = [
  [join(scalarDir, 'dist/browser/standalone.js'), 'scalar-api-reference.js'],
  [join(swaggerDir, 'swagger-ui-bundle.js'), 'swagger-ui-bundle.js'],
  [join(swaggerDir, 'swagger-ui-standalone-preset.js'), 'swagger-ui-standalone-preset.js'],
  [join(swaggerDir, 'swagger-ui.css'), 'swagger-ui.css'],
  [join(swaggerDir, 'oauth2-redirect.js'), 'oauth2-redirect.js'],
]
for (const [from, to] of files) copyFileSync(from, join(out, to))
// Scalar's page needs a stylesheet link of its own (the renderer injects its styles); ours is empty of
// external fonts: the pages use the system's.
writeFileSync(join(out, 'scalar.css'), ':root { --scalar-font: system-ui, sans-serif; --scalar-font-code: ui-monospace, monospace; }\n')
const versions = {
  '@scalar/api-reference': JSON.parse(readFileSync(join(scalarDir, 'package.json'), 'utf8')).version,
  'swagger-ui-dist': JSON.parse(readFileSync(join(swaggerDir, 'package.json'), 'utf8')).version,
}
writeFileSync(join(out, 'versions.json'), JSON.stringify(versions) + '\n')
console.log(`API docs renderers copied to dist/schema-assets/: ${JSON.stringify(versions)}`)
