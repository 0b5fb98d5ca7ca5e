/**
 * @module The request front: admin routes (health, metrics) are a Hono app, every other
 * request goes straight from node:http to the S3 pipeline.
 *
 * Why S3 traffic bypasses Hono's node adapter: the adapter turns each request into a WHATWG
 * Request first and refuses, with plain-text 400s, request targets that are valid S3 — keys with
 * a backslash, a mixed-case virtual-host Host header (docs/s3-sse-rules.md §1.1 says matching is
 * case-insensitive) — and it costs a Request object per call on the hot path. The S3 pipeline
 * works on the raw request target, as SigV4 requires (docs/s3-sse-rules.md §2.2).
 */
import { getRequestListener, type HttpBindings } from '@hono/node-server'
import { releaseBody } from './expect-continue.js'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { Hono } from 'hono'
import { LIVE_REWRAP_PATH, liveRewrapHandler } from './admin/live-rewrap.js'
import { handleKms, isKmsRequest } from './kms/handler.js'
import { handleSts, isStsRequest } from './sts/handler.js'
import type { Services } from './s3/context.js'
import { S3Error } from './s3/errors.js'
import { handleS3 } from './s3/handler.js'
import { hostIdFor, newRequestId } from './s3/respond.js'
import { xmlError } from './s3/xml.js'

export type AppEnv = { Bindings: HttpBindings }

export function buildAdminApp(svc: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/health/live', (c) => c.json({ status: 'ok' }))
  app.get('/health/ready', async (c) => {
    if (svc.readiness) {
      const { ready, checks } = await svc.readiness.check()
      return c.json({ status: ready ? 'ok' : 'unavailable', checks }, ready ? 200 : 503)
    }
    try {
      await svc.meta.listBuckets()
      return c.json({ status: 'ok' })
    } catch {
      return c.json({ status: 'unavailable' }, 503)
    }
  })
  app.get('/metrics', async (c) => {
    if (!svc.metrics) return c.json({ status: 'not found' }, 404)
    const { contentType, body } = await svc.metrics.text()
    return c.body(body, 200, { 'Content-Type': contentType })
  })
  // Root-only, SigV4-signed: re-seals older object keys while the server serves (admin/live-rewrap.ts).
  app.post(LIVE_REWRAP_PATH, liveRewrapHandler(svc))
  app.onError((err, c) => {
    svc.log.error('unhandled error in an admin route', { err })
    return c.json({ status: 'error' }, 500)
  })
  return app
}

const ADMIN_PATHS = new Set(['/health/live', '/health/ready', '/metrics'])

/**
 * Admin routes are unauthenticated GETs; a signed request for the same path is an S3 request
 * (e.g. GetObject of key `live` in a bucket named `health`). The one exception is
 * `POST /admin/keys/rewrap` with no query string, which the admin app authenticates itself (root
 * credentials only): S3 has no POST on an object without a query, so it shadows no S3 operation.
 */
function isAdminRequest(req: IncomingMessage): boolean {
  if (req.method === 'POST' && req.url === LIVE_REWRAP_PATH) return true
  if (req.method !== 'GET' || req.headers.authorization !== undefined) return false
  const url = req.url ?? ''
  const q = url.indexOf('?')
  if (!ADMIN_PATHS.has(q < 0 ? url : url.slice(0, q))) return false
  return q < 0 || !/[?&]X-Amz-(Signature|Credential)=/i.test(url)
}

export function createRequestListener(svc: Services): (req: IncomingMessage, res: ServerResponse) => void {
  const admin = getRequestListener(buildAdminApp(svc).fetch)
  return (req, res) => {
    // Only the S3 handler reads a body after authorizing it; the others read theirs at once.
    if (isAdminRequest(req) || isStsRequest(req) || isKmsRequest(req)) releaseBody(req)
    if (isAdminRequest(req)) {
      void admin(req, res)
      return
    }
    if (isStsRequest(req)) {
      handleSts(svc, req, res).catch((err: unknown) => {
        svc.log.error('STS request failed outside its error handling', { err })
        res.destroy()
      })
      return
    }
    if (isKmsRequest(req)) {
      handleKms(svc, req, res).catch((err: unknown) => {
        svc.log.error('KMS request failed outside its error handling', { err })
        res.destroy()
      })
      return
    }
    handleS3(svc, req, res).catch((err: unknown) => {
      svc.log.error('S3 pipeline failed outside its error handling', { err })
      res.destroy()
    })
  }
}

/**
 * Answers HTTP-level faults Node's parser finds. A request whose body ends before its declared
 * length is answered 400 IncompleteBody as S3 does (docs/s3-sse-rules.md §3.7, PUT-08); other malformed
 * requests get a plain 400 and the connection is closed.
 */
export function handleClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy()
    return
  }
  const requestId = newRequestId()
  const hostId = hostIdFor(requestId)
  let status = 400
  let body = ''
  if (inFlight) {
    const e = new S3Error('IncompleteBody')
    body = xmlError(e.code, e.message, e.fields, requestId, hostId)
  } else if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431
  }
  const reason = status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'
  const head =
    `HTTP/1.1 ${status} ${reason}\r\nx-amz-request-id: ${requestId}\r\nx-amz-id-2: ${hostId}\r\nServer: AmazonS3\r\nConnection: close\r\n` +
    (body ? `Content-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` : 'Content-Length: 0\r\n')
  socket.end(`${head}\r\n${body}`)
}
