/**
 * @module How a request is judged against a bucket's CORS rules, for a preflight (OPTIONS) and for
 * an actual request alike, and the Access-Control-* headers a matching rule answers with. As AWS
 * documents for PutBucketCors (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html):
 * the first rule matches whose AllowedOrigin matches the Origin, whose AllowedMethod holds the
 * method (Access-Control-Request-Method when sent), and whose AllowedHeader patterns cover every
 * name of Access-Control-Request-Headers.
 */
import type { CorsRule } from '../../storage/types.js'

/** The methods a CORSRule may allow. */
export const CORS_METHODS: ReadonlySet<string> = new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD'])

/** What a CORS request asks for. */
export interface CorsAsk {
  origin: string
  /** Access-Control-Request-Method, or the request's own method. */
  method: string
  /** Access-Control-Request-Headers: trimmed, lowercase, in the order sent. */
  headers: string[]
}

/**
 * Whether `value` matches `pattern`, where one `*` stands for any run of characters (the empty
 * one too); the pattern is anchored at both ends. `caseless` for header names.
 */
export function wildcardMatches(pattern: string, value: string, caseless = false): boolean {
  const p = caseless ? pattern.toLowerCase() : pattern
  const v = caseless ? value.toLowerCase() : value
  const star = p.indexOf('*')
  if (star < 0) return p === v
  const head = p.slice(0, star)
  const tail = p.slice(star + 1)
  return v.length >= head.length + tail.length && v.startsWith(head) && v.endsWith(tail)
}

/** The names of an Access-Control-Request-Headers value (`a, B,c` -> a, b, c). */
export function requestedHeaders(value: string | undefined): string[] {
  if (value === undefined) return []
  return value
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '')
}

/** What a request with these (lowercase-named) headers asks for; undefined without an Origin. */
export function corsAsk(method: string, headers: Record<string, string | undefined>): CorsAsk | undefined {
  const origin = headers.origin
  if (origin === undefined) return undefined
  return {
    origin,
    method: headers['access-control-request-method'] ?? method,
    headers: requestedHeaders(headers['access-control-request-headers']),
  }
}

/** The first rule that allows `ask`, and whether its matching origin was the bare `*`. */
export function matchRule(
  rules: readonly CorsRule[],
  ask: CorsAsk,
): { rule: CorsRule; anyOrigin: boolean } | undefined {
  for (const rule of rules) {
    if (!rule.allowedMethods.includes(ask.method)) continue
    const origin = rule.allowedOrigins.find((o) => wildcardMatches(o, ask.origin))
    if (origin === undefined) continue
    if (!ask.headers.every((h) => rule.allowedHeaders.some((a) => wildcardMatches(a, h, true)))) continue
    return { rule, anyOrigin: origin === '*' }
  }
  return undefined
}

/**
 * The Access-Control-* and Vary headers S3 answers a request that `rule` allowed with: the Origin
 * echoed with credentials allowed, or `*` without them when the rule allows any origin; the rule's
 * methods; the requested headers (lowercase); its expose headers and max age when set.
 */
export function corsHeaders(match: { rule: CorsRule; anyOrigin: boolean }, ask: CorsAsk): Record<string, string> {
  const { rule, anyOrigin } = match
  const out: Record<string, string> = { 'Access-Control-Allow-Origin': anyOrigin ? '*' : ask.origin }
  if (!anyOrigin) out['Access-Control-Allow-Credentials'] = 'true'
  out['Access-Control-Allow-Methods'] = rule.allowedMethods.join(', ')
  if (ask.headers.length > 0) out['Access-Control-Allow-Headers'] = ask.headers.join(', ')
  if (rule.exposeHeaders.length > 0) out['Access-Control-Expose-Headers'] = rule.exposeHeaders.join(', ')
  if (rule.maxAgeSeconds !== undefined) out['Access-Control-Max-Age'] = String(rule.maxAgeSeconds)
  out.Vary = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method'
  return out
}

/**
 * The CORS headers of an actual (non-OPTIONS) request, success or error alike; none when the
 * request has no Origin, the bucket no CORS rules, or no rule matches (the request itself is
 * served all the same: CORS is the browser's to enforce).
 */
export function actualRequestCorsHeaders(
  rules: readonly CorsRule[] | undefined,
  method: string,
  headers: Record<string, string | undefined>,
): Record<string, string> {
  if (!rules) return {}
  const ask = corsAsk(method, headers)
  if (!ask) return {}
  const match = matchRule(rules, ask)
  return match ? corsHeaders(match, ask) : {}
}
