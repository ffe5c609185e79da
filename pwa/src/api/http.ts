// The typed API client: openapi-fetch over the types generated from the API's OpenAPI document
// (schema.d.ts, `make api-types`), so every path, path and query parameter, header and body a screen
// sends is checked by vue-tsc. Middleware keeps the rules of client.ts: JSON answers, the session
// cookie (same-origin), the CSRF cookie echoed on writes, every failure thrown as an ApiError (the
// API's Chinese message, its machine code for the details line; status 0 when offline), a 401 telling
// the account store, and requests counted for apiQuiet. Screens take the answer with `data(...)`:
//   const booking = await data(http.GET('/api/bookings/{booking_id}', { params: { path: { booking_id: id } } }))
// Creations pass their retry key as a typed header: `params: { header: { 'Idempotency-Key': key } }`.
import createClient, { type Middleware } from 'openapi-fetch'
import { answerError, buildUrl, csrfHeaders, networkError, parseJson, requestEnded, requestStarted, type Query } from './client'
import type { paths } from './schema'

const session: Middleware = {
  onRequest({ request }) {
    requestStarted() // called at once by http.GET/POST…, so apiQuiet waits for it
    if (!request.headers.has('Accept')) request.headers.set('Accept', 'application/json')
    // A request sent without cookies (an anonymous complaint) has no session: nothing to echo.
    if (request.credentials !== 'omit')
      for (const [name, value] of Object.entries(csrfHeaders(request.method))) request.headers.set(name, value)
    return request
  },
  async onResponse({ request, response }) {
    if (response.ok) return requestEnded()
    try {
      throw answerError(response, parseJson(await response.text()), new URL(request.url).pathname)
    } finally {
      requestEnded()
    }
  },
  onError({ error }) {
    requestEnded()
    if ((error as Error)?.name === 'AbortError') return undefined // thrown as it is
    return networkError(error)
  },
}

export const http = createClient<paths>({
  // An absolute base: Request needs one outside a page (tests); in the app it is this origin.
  baseUrl: typeof location !== 'undefined' ? location.origin : '',
  credentials: 'same-origin',
  // Read at call time, so a stand-in installed later (tests) is used.
  fetch: (request: Request) => globalThis.fetch(request),
  // As client.ts: empty values are left out, arrays repeat the name.
  querySerializer: (query) => buildUrl('', query as Query).replace(/^\?/, ''),
})
http.use(session)

/** The data of an answer. Failures never get here: the middleware throws them as ApiError. */
export async function data<R extends { data?: unknown }>(pending: Promise<R>): Promise<Exclude<R['data'], undefined>> {
  return (await pending).data as Exclude<R['data'], undefined>
}

/** The query parameters of a GET path, for code that builds a query apart from the call. */
export type QueryOf<P extends keyof paths> = paths[P] extends { get: { parameters: { query?: infer Q } } } ? NonNullable<Q> : never
