/**
 * @module The one SigV4 module (AWS "Signature Version 4 signing process"): S3 URI encoding,
 * canonical query, headers and request, string to sign, the signing key (with a small cache),
 * constant-time comparison, and `signRequest`, the header signer every client of ours uses (the
 * KMS HTTP client, the admin live client, STS/KMS tests and the bench). The server's verifier
 * (server/s3/auth/) builds on the same blocks; its tests sign with @smithy/signature-v4 instead,
 * an independent implementation. Pure computation: no HTTP.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

export const ALGORITHM = 'AWS4-HMAC-SHA256'
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

const HEX = '0123456789ABCDEF'
/** 1 for the bytes S3 leaves unescaped: A–Z a–z 0–9 - . _ ~ (docs/s3-sse-rules.md §2.2). */
const UNRESERVED = new Uint8Array(256)
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c)
  UNRESERVED[c] = /[A-Za-z0-9\-._~]/.test(ch) ? 1 : 0
}

/**
 * URI-encodes `value` the S3 way: every UTF-8 byte except `A–Z a–z 0–9 - . _ ~` becomes `%XX`
 * (uppercase hex); `/` is kept when `keepSlash` (paths) and encoded otherwise (query parts).
 * Example: `uriEncode('a b+c/é', true)` → `a%20b%2Bc/%C3%A9`.
 */
export function uriEncode(value: string, keepSlash: boolean): string {
  const bytes = Buffer.from(value, 'utf8')
  let out = ''
  let runStart = 0
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]
    if (UNRESERVED[b] === 1 || (keepSlash && b === 0x2f)) continue
    if (i > runStart) out += bytes.toString('latin1', runStart, i)
    out += '%' + HEX[b >> 4] + HEX[b & 15]
    runStart = i + 1
  }
  if (runStart === 0) return value
  return out + bytes.toString('latin1', runStart)
}

/** The canonical URI of a decoded path: encoded once, `/` kept, empty → `/` (docs/s3-sse-rules.md §2.2, S3 rule). */
export function canonicalUri(decodedPath: string): string {
  return decodedPath === '' ? '/' : uriEncode(decodedPath, true)
}

/**
 * The canonical query string: names and values encoded, sorted by encoded name then value,
 * valueless parameters written `name=` (docs/s3-sse-rules.md §2.2). `omit` drops one parameter (presigned URLs omit
 * `X-Amz-Signature`).
 */
export function canonicalQuery(query: ReadonlyArray<readonly [string, string]>, omit?: string): string {
  const pairs: Array<[string, string]> = []
  for (const [name, value] of query) {
    if (name === omit) continue
    pairs.push([uriEncode(name, false), uriEncode(value, false)])
  }
  // Encoded strings are ASCII, so code-unit order is byte order.
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
  return pairs.map(([n, v]) => `${n}=${v}`).join('&')
}

/** A header value as signed: trimmed, inner whitespace runs collapsed to one space (docs/s3-sse-rules.md §2.2). */
export function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ')
}

/**
 * The canonical headers block (each `name:value\n`) for the signed header names, in the order
 * given (clients send them sorted). A signed header absent from the request signs as empty.
 */
export function canonicalHeaders(headers: Readonly<Record<string, string>>, signed: readonly string[]): string {
  let out = ''
  for (const name of signed) out += `${name}:${canonicalHeaderValue(headers[name] ?? '')}\n`
  return out
}

export interface CanonicalRequestParts {
  method: string
  /** Decoded path; encoded here exactly once. */
  path: string
  query: ReadonlyArray<readonly [string, string]>
  /** Query parameter left out of the canonical query (presigned: `X-Amz-Signature`). */
  omitQuery?: string
  headers: Readonly<Record<string, string>>
  signedHeaders: readonly string[]
  payloadHash: string
}

/** The canonical request (docs/s3-sse-rules.md §2.2): method, URI, query, headers, signed-header list, payload hash. */
export function canonicalRequest(p: CanonicalRequestParts): string {
  return [
    p.method,
    canonicalUri(p.path),
    canonicalQuery(p.query, p.omitQuery),
    canonicalHeaders(p.headers, p.signedHeaders),
    p.signedHeaders.join(';'),
    p.payloadHash,
  ].join('\n')
}

/** Lowercase hex SHA-256 of a string or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/**
 * `AWS4-HMAC-SHA256\n<amzDate>\n<scope>\n<hex(SHA256(canonicalRequest))>` (docs/s3-sse-rules.md §2.3). The canonical
 * request is hashed as UTF-8, or with `rawHeaderBytes` as latin1: Node hands header values over
 * latin1-decoded, so that is how to hash the bytes a client sent as raw UTF-8.
 */
export function stringToSign(amzDate: string, scope: string, canonical: string, rawHeaderBytes = false): string {
  const hash = rawHeaderBytes ? sha256Hex(Buffer.from(canonical, 'latin1')) : sha256Hex(canonical)
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${hash}`
}

/** The credential scope `<date>/<region>/<service>/aws4_request`. */
export function credentialScope(date: string, region: string, service: string): string {
  return `${date}/${region}/${service}/aws4_request`
}

const KEY_CACHE_MAX = 256
/** Signing keys by (hash of secret, date, region, service); the secret itself is never a key. */
const keyCache = new Map<string, Buffer>()

/**
 * The SigV4 signing key `HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")`.
 * Cached (bounded, oldest evicted); the cache is keyed by a SHA-256 of the secret, not the secret.
 */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${sha256Hex(secret)}\0${date}\0${region}\0${service}`
  const hit = keyCache.get(id)
  if (hit) return hit
  const kDate = createHmac('sha256', 'AWS4' + secret)
    .update(date)
    .digest()
  const kRegion = createHmac('sha256', kDate).update(region).digest()
  const kService = createHmac('sha256', kRegion).update(service).digest()
  const key = createHmac('sha256', kService).update('aws4_request').digest()
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value as string)
  keyCache.set(id, key)
  return key
}

/** Lowercase hex HMAC-SHA256 of `data` under `key`. */
export function hmacHex(key: Uint8Array, data: string): string {
  return createHmac('sha256', key).update(data).digest('hex')
}

const SIGNATURE_RE = /^[0-9a-f]{64}$/
/**
 * Constant-time comparison of a provided signature with the expected lowercase hex one.
 * Anything not 64 lowercase hex characters is simply unequal.
 */
export function signaturesEqual(provided: string, expected: string): boolean {
  if (!SIGNATURE_RE.test(provided) || expected.length !== 64) return false
  return timingSafeEqual(Buffer.from(provided, 'hex'), Buffer.from(expected, 'hex'))
}

/** Space-separated 2-digit lowercase hex of the UTF-8 bytes (the `…Bytes` error elements). */
export function spacedHex(text: string): string {
  const hex = Buffer.from(text, 'utf8').toString('hex')
  let out = ''
  for (let i = 0; i < hex.length; i += 2) out += (i ? ' ' : '') + hex.slice(i, i + 2)
  return out
}

/** `YYYYMMDDTHHMMSSZ`, the `x-amz-date` form of `t`. */
export function amzDate(t: Date): string {
  return t
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z')
}

export interface AwsCredentials {
  accessKeyId: string
  secretAccessKey: string
  /** Temporary credentials' token, sent as `x-amz-security-token` (signed). */
  sessionToken?: string
}

export interface SignInput {
  method: string
  /** Where the request goes: host, path and query are signed as the server will decode them. */
  url: URL
  /** Lowercase names. `host`, `x-amz-date` (and `x-amz-security-token`) are added; all headers given are signed. */
  headers: Record<string, string>
  /** The body, hashed here… */
  body?: string | Uint8Array
  /** …or the payload hash to sign instead (a hex SHA-256 or `UNSIGNED-PAYLOAD`). */
  payloadHash?: string
  region: string
  service: string
  credentials: AwsCredentials
  now: Date
}

/**
 * Returns the headers to send: the given ones plus `host`, `x-amz-date`, `x-amz-security-token`
 * (with a session token) and `authorization`. The path is signed S3-style (decoded, then encoded
 * once), which is also what every KMS, STS or admin endpoint path needs. S3 callers put
 * `x-amz-content-sha256` in `headers` themselves.
 */
export function signRequest(input: SignInput): Record<string, string> {
  const date = amzDate(input.now)
  const headers: Record<string, string> = { ...input.headers, host: input.url.host, 'x-amz-date': date }
  if (input.credentials.sessionToken) headers['x-amz-security-token'] = input.credentials.sessionToken
  const signedHeaders = Object.keys(headers).sort()
  const payloadHash = input.payloadHash ?? sha256Hex(input.body ?? '')
  const canonical = canonicalRequest({
    method: input.method,
    path: decodeURIComponent(input.url.pathname),
    query: [...input.url.searchParams],
    headers,
    signedHeaders,
    payloadHash,
  })
  const scope = credentialScope(date.slice(0, 8), input.region, input.service)
  const key = signingKey(input.credentials.secretAccessKey, date.slice(0, 8), input.region, input.service)
  const signature = hmacHex(key, stringToSign(date, scope, canonical))
  headers.authorization = `${ALGORITHM} Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`
  return headers
}
