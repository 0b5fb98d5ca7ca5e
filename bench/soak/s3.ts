/**
 * @module The soak's S3 client: raw signed requests on `node:http` (the bench's SigV4 signer), a
 * keep-alive Agent sized for every client, bodies streamed from the content generator, GET bodies
 * hashed as they stream (never buffered), and every outcome reduced to a status and an S3 error
 * code — or a connection error, which the soak judges against the server's restart window.
 */
import { createHash } from 'node:crypto'
import http from 'node:http'
import { canonicalQuery } from '../../lib/sigv4.js'
import { SigV4Signer, UNSIGNED_PAYLOAD, encodePath } from '../client.js'

export interface Body {
  length: number
  chunks: Iterable<Buffer>
}

export interface S3Call {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD'
  bucket: string
  key?: string
  /** Decoded query parameters ('' for a flag such as `uploads`). */
  query?: Record<string, string>
  /** Lower-case names; every one is signed. */
  headers?: Record<string, string>
  body?: Body | string
}

export interface S3Answer {
  /** HTTP status, or 0 when the request got no answer (see `connError`). */
  status: number
  headers: http.IncomingHttpHeaders
  /** The S3 `<Code>` of an error answer (empty for a 2xx). */
  code: string
  /** A 2xx body read as text (for `asText`), else ''. */
  text: string
  /** For `hash`: SHA-256 (hex) and length of the 2xx body. */
  sha256?: string
  length?: number
  /** `ECONNREFUSED`, `ECONNRESET`, … when there was no complete answer. */
  connError?: string
  /** `x-amz-request-id`, to find the request in the server's log. */
  requestId?: string
  /** performance.now() when the answer's headers arrived (the read's linearization bound). */
  headersAt: number
}

function canonicalQueryOf(q: Record<string, string> | undefined): string {
  return q ? canonicalQuery(Object.entries(q)) : ''
}

/** Error codes of a connection that failed, normalized ("socket hang up" is a reset). */
function connCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException
  if (e?.code) return e.code
  if (/hang up|aborted/i.test(e?.message ?? '')) return 'ECONNRESET'
  return 'ECONN'
}

export class SoakClient {
  private agent: http.Agent
  private readonly signer = new SigV4Signer()
  readonly host: string

  constructor(
    private readonly port: number,
    private readonly maxSockets: number,
    /** Bound on one request's lifetime; a request past it is cut and counted as `TIMEOUT`. */
    private readonly timeoutMs = 120_000,
  ) {
    this.host = `127.0.0.1:${port}`
    this.agent = this.newAgent()
  }

  private newAgent(): http.Agent {
    return new http.Agent({
      keepAlive: true,
      maxSockets: this.maxSockets,
      maxFreeSockets: this.maxSockets,
      scheduling: 'lifo',
    })
  }

  /** Drops every pooled socket (after a server kill, so no request is sent on a dead one). */
  resetAgent(): void {
    const old = this.agent
    this.agent = this.newAgent()
    old.destroy()
  }

  close(): void {
    this.agent.destroy()
  }

  /**
   * Sends one request. `read`: what to do with a 2xx body — `hash` streams it into SHA-256,
   * `text` keeps it (small answers only), `drain` discards it. Never throws.
   */
  send(call: S3Call, read: 'hash' | 'text' | 'drain' = 'drain'): Promise<S3Answer> {
    const path = encodePath(`/${call.bucket}${call.key !== undefined ? `/${call.key}` : ''}`)
    const query = canonicalQueryOf(call.query)
    const extra = call.headers ?? {}
    const body =
      typeof call.body === 'string'
        ? { length: Buffer.byteLength(call.body), chunks: [Buffer.from(call.body)] }
        : call.body
    const headers: Record<string, string> = {
      ...extra,
      host: this.host,
      ...this.signer.sign(call.method, path, this.host, UNSIGNED_PAYLOAD, query, extra),
    }
    if (body) headers['content-length'] = String(body.length)
    return new Promise<S3Answer>((resolve) => {
      let settled = false
      let headersAt = 0
      const done = (a: Omit<S3Answer, 'headersAt'>) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve({ ...a, headersAt: headersAt || performance.now() })
      }
      const fail = (err: unknown) => done({ status: 0, headers: {}, code: '', text: '', connError: connCode(err) })
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          method: call.method,
          path: query ? `${path}?${query}` : path,
          headers,
          agent: this.agent,
        },
        (res) => {
          headersAt = performance.now()
          const status = res.statusCode ?? 0
          const requestId = res.headers['x-amz-request-id'] as string | undefined
          const ok = status >= 200 && status < 300
          const hash = ok && read === 'hash' ? createHash('sha256') : undefined
          const parts: Buffer[] = []
          let length = 0
          res.on('data', (c: Buffer) => {
            length += c.length
            if (hash) hash.update(c)
            else if ((!ok || read === 'text') && length <= 1 << 20) parts.push(c)
          })
          res.on('error', fail)
          res.on('aborted', () => fail(new Error('aborted')))
          res.on('end', () => {
            if (!res.complete) return fail(new Error('aborted'))
            const text = Buffer.concat(parts).toString('utf8')
            const code = ok ? '' : (/<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP${status}`)
            done({
              status,
              headers: res.headers,
              code,
              text: ok ? text : '',
              sha256: hash?.digest('hex'),
              length,
              requestId,
            })
          })
        },
      )
      const timer = setTimeout(() => {
        done({ status: 0, headers: {}, code: '', text: '', connError: 'TIMEOUT' })
        req.destroy()
      }, this.timeoutMs)
      req.on('error', fail)
      void writeBody(req, body).catch(fail)
    })
  }
}

/** Writes the body with back-pressure, then ends the request. */
async function writeBody(req: http.ClientRequest, body: Body | undefined): Promise<void> {
  if (body) {
    for (const chunk of body.chunks) {
      if (req.destroyed) return
      if (!req.write(chunk)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            req.off('drain', go)
            req.off('close', go)
            resolve()
          }
          req.on('drain', go)
          req.on('close', go)
        })
      }
    }
  }
  if (!req.destroyed) req.end()
}
