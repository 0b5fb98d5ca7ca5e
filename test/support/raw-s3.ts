/**
 * @module Test support: raw S3 requests for the cases an SDK cannot produce — signed with
 * @smithy/signature-v4 (over node:crypto), sent with node:http or byte-exact over a socket —
 * and readers for their XML answers.
 */
import { SignatureV4 } from '@smithy/signature-v4'
import { XMLParser } from 'fast-xml-parser'
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto'
import http from 'node:http'
import net from 'node:net'
import { TEST_ACCESS_KEY_ID, TEST_REGION, TEST_SECRET_ACCESS_KEY } from './server.js'

/** smithy's Checksum interface on node:crypto (SHA-256, or HMAC-SHA256 with a secret). */
export class NodeSha256 {
  private h: Hash | Hmac
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = this.fresh()
  }
  private fresh(): Hash | Hmac {
    if (this.secret === undefined) return createHash('sha256')
    const key = typeof this.secret === 'string' ? this.secret : Buffer.from(this.secret as ArrayBuffer)
    return createHmac('sha256', key)
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(typeof data === 'string' ? data : Buffer.from(data as ArrayBuffer))
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest())
  }
  reset(): void {
    this.h = this.fresh()
  }
}

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')
export const md5Base64 = (data: string | Buffer): string => createHash('md5').update(data).digest('base64')
export const md5Hex = (data: string | Buffer): string => createHash('md5').update(data).digest('hex')

/** S3's URI encoding of one path segment or query component (docs/s3-sse-rules.md §2.2): RFC 3986 unreserved kept. */
export function s3Encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
}

/** A decoded key as a path, each segment encoded, `/` kept: `a b/c+d` → `a%20b/c%2Bd`. */
export function encodeKeyPath(key: string): string {
  return key.split('/').map(s3Encode).join('/')
}

export interface RawRequest {
  method: string
  /** The path exactly as sent on the wire (already percent-encoded), e.g. `/bkt/a%20b`. */
  path: string
  /** Decoded query parameters; encoded with the S3 rule on the wire. A value of '' is sent as `name=`. */
  query?: Record<string, string>
  headers?: Record<string, string>
  body?: string | Buffer
}

export interface SignOptions {
  accessKeyId?: string
  secretAccessKey?: string
  region?: string
  service?: string
  /** The signing time (default now). */
  date?: Date
  /** `x-amz-content-sha256` to send and sign (default: the SHA-256 hex of the body). */
  payloadHash?: string
  /** Header names (lowercase) that are sent but left out of SignedHeaders. */
  unsigned?: string[]
}

export function queryString(query: Record<string, string> | undefined): string {
  if (!query || Object.keys(query).length === 0) return ''
  return (
    '?' +
    Object.entries(query)
      .map(([k, v]) => `${s3Encode(k)}=${s3Encode(v)}`)
      .join('&')
  )
}

function signerFor(opts: SignOptions): SignatureV4 {
  return new SignatureV4({
    credentials: {
      accessKeyId: opts.accessKeyId ?? TEST_ACCESS_KEY_ID,
      secretAccessKey: opts.secretAccessKey ?? TEST_SECRET_ACCESS_KEY,
    },
    region: opts.region ?? TEST_REGION,
    service: opts.service ?? 's3',
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: true,
  })
}

/**
 * The CanonicalURI S3 expects (docs/s3-sse-rules.md §2.2): the wire path decoded once and re-encoded with the
 * S3 rule, so `a+b`, `a%2Bb` and `..%2Fx` sign as `a%2Bb`, `a%2Bb` and `../x`.
 */
export function canonicalPath(wirePath: string): string {
  try {
    return encodeKeyPath(decodeURIComponent(wirePath))
  } catch {
    return wirePath
  }
}

/** Signs a request for 127.0.0.1:<port> (the Host header defaults to that) with header SigV4. */
export async function signRequest(port: number, req: RawRequest, opts: SignOptions = {}): Promise<RawRequest> {
  const headers: Record<string, string> = { host: `127.0.0.1:${port}`, ...lowerKeys(req.headers ?? {}) }
  const body = req.body ?? ''
  headers['x-amz-content-sha256'] ??= opts.payloadHash ?? sha256Hex(body)
  const signed = await signerFor(opts).sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port,
      path: canonicalPath(req.path),
      query: req.query ?? {},
      headers,
      body,
    },
    { signingDate: opts.date ?? new Date(), unsignableHeaders: new Set(opts.unsigned ?? []) },
  )
  return { ...req, headers: signed.headers as Record<string, string> }
}

/** A presigned URL path+query (query auth) for 127.0.0.1:<port>. */
export async function presignPath(
  port: number,
  req: RawRequest,
  opts: SignOptions & { expiresIn?: number } = {},
): Promise<string> {
  // As the AWS presigner does: the payload is UNSIGNED-PAYLOAD, hoisted into the query with the other x-amz-*.
  const headers: Record<string, string> = {
    host: `127.0.0.1:${port}`,
    'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    ...lowerKeys(req.headers ?? {}),
  }
  const presigned = await signerFor(opts).presign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port,
      path: canonicalPath(req.path),
      query: req.query ?? {},
      headers,
    },
    {
      signingDate: opts.date ?? new Date(),
      expiresIn: opts.expiresIn ?? 900,
      unsignableHeaders: new Set(opts.unsigned ?? []),
    },
  )
  return req.path + queryString(presigned.query as Record<string, string>)
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]))
}

export interface RawResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  text: string
}

/**
 * Sends a request with node:http (no URL normalization: the path goes out as given). Each request
 * gets its own connection unless an `agent` (e.g. keep-alive, for loops of many requests) is given.
 */
export function send(port: number, req: RawRequest, agent: http.Agent | false = false): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers = { ...(req.headers ?? {}) }
    const body = req.body === undefined ? undefined : Buffer.from(req.body)
    if (
      body !== undefined &&
      !Object.keys(headers).some((k) => k.toLowerCase() === 'content-length' || k.toLowerCase() === 'transfer-encoding')
    ) {
      headers['content-length'] = String(body.length)
    }
    const r = http.request(
      { host: '127.0.0.1', port, method: req.method, path: req.path + queryString(req.query), headers, agent },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const b = Buffer.concat(chunks)
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString('utf8') })
        })
        res.on('error', reject)
      },
    )
    r.on('error', reject)
    r.end(body)
  })
}

/** A response that may have been cut short: `complete` says whether the whole declared body arrived. */
export interface ObservedResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  complete: boolean
  /** The `<Code>` of an error body, if any. */
  code?: string
}

/**
 * Like send, but a response cut mid-body (the server aborts it, e.g. on an integrity failure)
 * resolves with `complete: false` instead of failing.
 */
export function sendObserved(
  port: number,
  req: RawRequest,
  agent: http.Agent | false = false,
): Promise<ObservedResponse> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      {
        host: '127.0.0.1',
        port,
        method: req.method,
        path: req.path + queryString(req.query),
        headers: req.headers,
        agent,
      },
      (res) => {
        const chunks: Buffer[] = []
        let settled = false
        const done = (complete: boolean) => {
          if (settled) return
          settled = true
          const body = Buffer.concat(chunks)
          const declared = req.method === 'HEAD' ? 0 : Number(res.headers['content-length'] ?? body.length)
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            complete: complete && body.length === declared,
            code: /<Code>([^<]*)<\/Code>/.exec(body.toString('latin1'))?.[1],
          })
        }
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => done(true))
        res.on('aborted', () => done(false))
        res.on('error', () => done(false))
      },
    )
    r.on('error', reject)
    r.end(req.body === undefined ? undefined : Buffer.from(req.body))
  })
}

/** Signs, then sends (over `agent` when given, see send). */
export async function signedSend(
  port: number,
  req: RawRequest,
  opts: SignOptions = {},
  agent: http.Agent | false = false,
): Promise<RawResponse> {
  return send(port, await signRequest(port, req, opts), agent)
}

/**
 * Writes `head` (request line and headers, CRLF-separated, without the blank line) and `body`
 * byte-exact to a socket; with `halfClose` the write side is closed after the body. Reads the
 * answer until the connection closes or a complete response (by Content-Length) has arrived.
 */
export function sendBytes(
  port: number,
  head: string,
  body: Buffer | string = '',
  opts: { halfClose?: boolean } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port })
    const chunks: Buffer[] = []
    let done = false
    const finish = () => {
      if (done) return
      const all = Buffer.concat(chunks)
      const sep = all.indexOf('\r\n\r\n')
      if (sep < 0) return
      const lines = all.subarray(0, sep).toString('latin1').split('\r\n')
      const status = Number(lines[0].split(' ')[1])
      const headers: http.IncomingHttpHeaders = {}
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':')
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim()
      }
      const rest = all.subarray(sep + 4)
      const len = headers['content-length'] === undefined ? undefined : Number(headers['content-length'])
      if (len !== undefined && rest.length < len) return
      done = true
      const b = len === undefined ? rest : rest.subarray(0, len)
      sock.destroy()
      resolve({ status, headers, body: b, text: b.toString('utf8') })
    }
    sock.on('data', (c: Buffer) => {
      chunks.push(c)
      finish()
    })
    sock.on('end', () => {
      finish()
      if (!done)
        reject(new Error(`connection closed without a complete response: ${Buffer.concat(chunks).toString('latin1')}`))
    })
    sock.on('error', (err) => (done ? undefined : reject(err)))
    sock.write(head + '\r\n\r\n')
    if (body.length) sock.write(body)
    if (opts.halfClose) sock.end()
  })
}

/** Serializes a signed RawRequest's head for sendBytes (headers as given; nothing added). */
export function requestHead(req: RawRequest): string {
  const lines = [`${req.method} ${req.path}${queryString(req.query)} HTTP/1.1`]
  for (const [k, v] of Object.entries(req.headers ?? {})) lines.push(`${k}: ${v}`)
  return lines.join('\r\n')
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  trimValues: false,
})

/** Parses an XML body into a plain object (values as strings, attributes as `@_name`). */
export function parseXml(text: string): Record<string, any> {
  return parser.parse(text) as Record<string, any>
}

/** The `<Error>` element of an error body, children as strings. */
export function errorOf(res: RawResponse): Record<string, string> {
  const doc = parseXml(res.text)
  if (!doc.Error) throw new Error(`not an S3 error body (status ${res.status}): ${res.text}`)
  return doc.Error as Record<string, string>
}

/** A value as an array (fast-xml-parser gives a single repeated element as an object). */
export function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v]
}
