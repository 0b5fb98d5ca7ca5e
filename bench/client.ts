/**
 * @module Benchmark client: a deliberately cheap S3 client on `node:http` (one keep-alive Agent per
 * target) signed by the one SigV4 signer of lib/sigv4.ts. PUT bodies are sent as one Buffer with
 * Content-Length and `x-amz-content-sha256: UNSIGNED-PAYLOAD`; GET bodies are verified
 * incrementally, chunk by chunk, against the known content (nothing is buffered). The same
 * signed headers go to the baseline server, which ignores them, so both pay the same client cost.
 */
import { createHash } from 'node:crypto'
import http from 'node:http'
import { signRequest, uriEncode } from '../lib/sigv4.js'
import { DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY, FLAGS } from '../server/config.js'

export const REGION = FLAGS.region.default
export const ACCESS_KEY = DEV_ACCESS_KEY_ID
export const SECRET_KEY = DEV_SECRET_ACCESS_KEY
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'

/** S3 URI encoding of a path (keeps `/`, escapes everything but A–Z a–z 0–9 - . _ ~). */
export function encodePath(path: string): string {
  return uriEncode(path, true)
}

/**
 * SigV4 header signer for the bench clients, over the one signer of lib/sigv4.ts. Signs host,
 * x-amz-content-sha256 and x-amz-date (all the server requires), plus any `extra` headers the
 * caller sends (the server requires every x-amz-* header to be signed), over `query`, an already
 * canonical query string (`a=1&b=`, sorted, encoded). The signing key is cached by lib/sigv4.ts.
 */
export class SigV4Signer {
  constructor(
    private readonly accessKey = ACCESS_KEY,
    private readonly secret = SECRET_KEY,
    private readonly region = REGION,
    private readonly service = 's3',
  ) {}

  /**
   * Headers to add to a request: x-amz-date, x-amz-content-sha256, authorization (and host and
   * `extra` as signed). `extra` header names must be lower-case and their values already trimmed.
   */
  sign(
    method: string,
    encodedPath: string,
    host: string,
    payloadHash: string,
    query = '',
    extra: Record<string, string> = {},
  ): Record<string, string> {
    return signRequest({
      method,
      url: new URL(`http://${host}${encodedPath}${query ? `?${query}` : ''}`),
      headers: { ...extra, 'x-amz-content-sha256': payloadHash },
      payloadHash,
      region: this.region,
      service: this.service,
      credentials: { accessKeyId: this.accessKey, secretAccessKey: this.secret },
      now: new Date(),
    })
  }
}

export class BenchError extends Error {
  override readonly name = 'BenchError'
}

/** How GET bodies are checked; both compare every byte, at a cost identical for every server. */
export type VerifyMode = 'compare' | 'sha256'

export interface ClientOptions {
  /** `http://127.0.0.1:<port>` */
  endpoint: string
  /** Upper bound on pooled sockets (the highest concurrency used). */
  maxSockets: number
  verify: VerifyMode
}

/** One target server; requests are path-style (`/bucket/key`). */
export class BenchClient {
  readonly host: string
  private readonly port: number
  private readonly agent: http.Agent
  private readonly signer = new SigV4Signer()
  private readonly verify: VerifyMode
  /** SHA-256 of expected contents, by identity of the expected Buffer (for verify=sha256). */
  private readonly digests = new WeakMap<Buffer, Buffer>()

  constructor(opts: ClientOptions) {
    const url = new URL(opts.endpoint)
    if (url.hostname !== '127.0.0.1')
      throw new BenchError(`benchmark targets must be on 127.0.0.1, got ${url.hostname}`)
    this.host = url.host
    this.port = Number(url.port)
    this.verify = opts.verify
    this.agent = new http.Agent({
      keepAlive: true,
      maxSockets: opts.maxSockets,
      maxFreeSockets: opts.maxSockets,
      scheduling: 'lifo',
    })
  }

  /** Closes every pooled socket. */
  close(): void {
    this.agent.destroy()
  }

  private request(
    method: string,
    path: string,
    extra: Record<string, string>,
    body?: Buffer,
  ): Promise<http.IncomingMessage> {
    const encoded = encodePath(path)
    const headers: Record<string, string> = {
      host: this.host,
      ...this.signer.sign(method, encoded, this.host, UNSIGNED_PAYLOAD),
      ...extra,
    }
    if (body !== undefined) headers['content-length'] = String(body.length)
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: this.port, method, path: encoded, headers, agent: this.agent },
        resolve,
      )
      req.on('error', reject)
      req.end(body)
    })
  }

  /** Reads a small response body (errors, PUT answers) as text. */
  private static async text(res: http.IncomingMessage): Promise<string> {
    const parts: Buffer[] = []
    for await (const c of res) parts.push(c as Buffer)
    return Buffer.concat(parts).toString('utf8')
  }

  /** CreateBucket (store only); an already-owned bucket is fine. */
  async createBucket(bucket: string): Promise<void> {
    const res = await this.request('PUT', `/${bucket}`, {}, Buffer.alloc(0))
    const text = await BenchClient.text(res)
    if (res.statusCode !== 200 && !text.includes('BucketAlreadyOwnedByYou')) {
      throw new BenchError(`CreateBucket ${bucket}: HTTP ${res.statusCode} ${text.slice(0, 300)}`)
    }
  }

  /** PUT `body` at `path`; checks 200 and, when given, the returned ETag (quoted hex MD5). */
  async put(path: string, body: Buffer, expectEtag?: string): Promise<void> {
    const res = await this.request('PUT', path, {}, body)
    const text = await BenchClient.text(res)
    if (res.statusCode !== 200) throw new BenchError(`PUT ${path}: HTTP ${res.statusCode} ${text.slice(0, 300)}`)
    if (expectEtag !== undefined && res.headers.etag !== `"${expectEtag}"`) {
      throw new BenchError(`PUT ${path}: ETag ${res.headers.etag}, expected "${expectEtag}"`)
    }
  }

  /**
   * GET `path` (bytes start..end inclusive when `range` is given) and verify every byte against
   * `expected` (the whole object's content) as the body streams in. Returns the body length.
   */
  async get(path: string, expected: Buffer, range?: { start: number; end: number }): Promise<number> {
    const extra: Record<string, string> = range ? { range: `bytes=${range.start}-${range.end}` } : {}
    const res = await this.request('GET', path, extra)
    const want = range ? 206 : 200
    if (res.statusCode !== want) {
      const text = await BenchClient.text(res)
      throw new BenchError(`GET ${path}: HTTP ${res.statusCode} (expected ${want}) ${text.slice(0, 300)}`)
    }
    const from = range ? range.start : 0
    const length = range ? range.end - range.start + 1 : expected.length
    let got = 0
    if (this.verify === 'compare') {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        const end = got + chunk.length
        if (end > length || !chunk.equals(expected.subarray(from + got, from + end))) {
          res.destroy()
          throw new BenchError(`GET ${path}: body differs from the known content at or after byte ${from + got}`)
        }
        got = end
      }
    } else {
      const h = createHash('sha256')
      for await (const chunk of res as AsyncIterable<Buffer>) {
        got += chunk.length
        h.update(chunk)
      }
      const digest = h.digest()
      const whole = !range || length === expected.length
      const ref = whole
        ? this.digestOf(expected)
        : createHash('sha256')
            .update(expected.subarray(from, from + length))
            .digest()
      if (!digest.equals(ref)) throw new BenchError(`GET ${path}: SHA-256 of the body differs from the known content`)
    }
    if (got !== length) throw new BenchError(`GET ${path}: got ${got} bytes, expected ${length}`)
    return got
  }

  private digestOf(buf: Buffer): Buffer {
    let d = this.digests.get(buf)
    if (!d) {
      d = createHash('sha256').update(buf).digest()
      this.digests.set(buf, d)
    }
    return d
  }
}
