/**
 * @module The one place that writes S3 answers to the wire: common headers (docs/s3-sse-rules.md §1.2),
 * HEAD-without-body, XML error bodies (§1.3) and streamed object bodies that fail closed.
 */
import { randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import type { Logger } from '../log.js'
import type { S3Result } from './context.js'
import { S3Error } from './errors.js'
import { xmlError } from './xml.js'

/** Bytes of a streamed body written per socket write (see writeResult). */
const WRITE_BATCH = 256 * 1024

const ID_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'

/** Random bytes for request ids, drawn in blocks so a request costs no randomBytes call of its own. */
let pool = Buffer.alloc(0)
let poolOffset = 0
function randomSlice(n: number): Buffer {
  if (poolOffset + n > pool.length) {
    pool = randomBytes(4096)
    poolOffset = 0
  }
  const out = pool.subarray(poolOffset, poolOffset + n)
  poolOffset += n
  return out
}

/** 16 characters of [0-9A-Z], unique per request (docs/s3-sse-rules.md §1.2). */
export function newRequestId(): string {
  const bytes = randomSlice(16)
  let out = ''
  for (let i = 0; i < 16; i++) out += ID_ALPHABET[bytes[i] % 36]
  return out
}

/** An opaque x-amz-id-2 value derived from the request id. */
export function hostIdFor(requestId: string): string {
  return Buffer.from(requestId + randomSlice(41).toString('hex'))
    .toString('base64')
    .slice(0, 76)
}

export interface ResponseIds {
  requestId: string
  hostId: string
}

function commonHeaders(res: ServerResponse, ids: ResponseIds): void {
  res.setHeader('x-amz-request-id', ids.requestId)
  res.setHeader('x-amz-id-2', ids.hostId)
  res.setHeader('Server', 'AmazonS3')
}

/** Writes an S3 error: XML body with Code, Message, elements, RequestId, HostId; none on HEAD. */
export function writeError(res: ServerResponse, err: S3Error, ids: ResponseIds, isHead: boolean): void {
  if (res.headersSent) {
    res.destroy(err)
    return
  }
  commonHeaders(res, ids)
  for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v)
  if (isHead) {
    res.writeHead(err.status, { 'Content-Length': '0' })
    res.end()
    return
  }
  const body = Buffer.from(xmlError(err.code, err.message, err.fields, ids.requestId, ids.hostId))
  res.writeHead(err.status, { 'Content-Type': 'application/xml', 'Content-Length': String(body.length) })
  res.end(body)
}

/**
 * Writes a handler's result. A streamed body's first chunk is produced before the status line is
 * sent, so a failure there (e.g. a tampered first chunk, a blob of the wrong size) still becomes a
 * clean error answer; a failure after the headers are out aborts the connection, so the client
 * never sees a short body as complete. Whichever way it ends — done, failed, refused by
 * `writeHead`, or the client gone — the body's iterator is closed (`return`), so its files close.
 */
export async function writeResult(
  res: ServerResponse,
  result: S3Result,
  ids: ResponseIds,
  isHead: boolean,
  log: Logger,
  metrics?: { countIfIntegrityFailure(err: unknown): boolean },
): Promise<void> {
  commonHeaders(res, ids)
  const headers: Record<string, string> = { ...result.headers }
  if (result.xml !== undefined) {
    const body = Buffer.from(result.xml)
    headers['Content-Type'] = 'application/xml'
    headers['Content-Length'] = String(body.length)
    res.writeHead(result.status, headers)
    res.end(isHead ? undefined : body)
    return
  }
  if (!result.stream) {
    if (headers['Content-Length'] === undefined && result.status !== 304 && result.status !== 204)
      headers['Content-Length'] = '0'
    res.writeHead(result.status, headers)
    res.end()
    return
  }
  const { chunks, length } = result.stream
  headers['Content-Length'] = String(length)
  if (isHead) {
    res.writeHead(result.status, headers)
    res.end()
    return
  }
  const it = chunks[Symbol.asyncIterator]()
  try {
    const first = await it.next() // errors here propagate: nothing has been sent yet
    res.writeHead(result.status, headers) // so do its errors (a header value it refuses)
    await writeBody(res, it, first, ids, log, metrics)
  } finally {
    await it.return?.(undefined).catch(() => undefined)
  }
}

const CLIENT_CLOSED = 'client closed the connection'

/** Writes the chunks after the headers; a failure (or the client going away) aborts the response. */
async function writeBody(
  res: ServerResponse,
  it: AsyncIterator<Buffer>,
  first: IteratorResult<Buffer>,
  ids: ResponseIds,
  log: Logger,
  metrics?: { countIfIntegrityFailure(err: unknown): boolean },
): Promise<void> {
  try {
    let next = first
    // Chunks are 64 KiB; corking them into ~256 KiB writes saves syscalls on large bodies.
    let corked = 0
    res.cork()
    while (!next.done) {
      corked += next.value.length
      const ok = res.write(next.value)
      if (corked >= WRITE_BATCH || !ok) {
        res.uncork()
        corked = 0
        res.cork()
      }
      // A response whose connection is gone takes writes and never drains: stop reading.
      if (res.destroyed) throw new Error(CLIENT_CLOSED)
      if (!ok) {
        await new Promise<void>((resolve, reject) => {
          const onDrain = () => {
            cleanup()
            resolve()
          }
          const onClose = () => {
            cleanup()
            reject(new Error(CLIENT_CLOSED))
          }
          const cleanup = () => {
            res.off('drain', onDrain)
            res.off('close', onClose)
          }
          res.on('drain', onDrain)
          res.on('close', onClose)
        })
      }
      next = await it.next()
    }
    res.uncork()
    res.end()
  } catch (err) {
    metrics?.countIfIntegrityFailure(err)
    if (!(err instanceof Error && err.message === CLIENT_CLOSED)) {
      log.error('response aborted after headers were sent', { requestId: ids.requestId, err })
    }
    res.destroy()
  }
}
