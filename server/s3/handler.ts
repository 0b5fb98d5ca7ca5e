/**
 * @module The S3 request pipeline, in this order: the addressed bucket's record is read once
 * (`bucketRecordOf`: its CORS rules go on every answer, errors included, and its region is the
 * signing scope the request must use); `parseOperation` (route.ts) parses the request once into a
 * typed operation; `authenticate` (auth/sigv4.ts) verifies the signature; `dispatch` calls the
 * handler, whose `loadBucket` (ops/common.ts) authorizes, against that same bucket record, the
 * access that policy/actions.ts names for the operation, before anything is read or written. Then
 * the result or the error is written. Every request ends here as an S3 answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { BucketRecord } from '../../storage/types.js'
import { AWS_REGIONS } from './regions.js'
import { s3Principal } from '../iam/request.js'
import { sessionsOf } from '../iam/sessions.js'
import { refuseKmsOverSigV2 } from './auth/sigv2.js'
import { authenticate } from './auth/sigv4.js'
import type { Principal, S3Request, Services } from './context.js'
import { actualRequestCorsHeaders } from './cors.js'
import { dispatch } from './dispatch.js'
import { S3Error, toS3Error } from './errors.js'
import { hostIdFor, newRequestId, writeError, writeResult } from './respond.js'
import {
  bucketFromHost,
  bucketOf,
  canBeBucketName,
  parseOperation,
  parseTarget,
  queryValue,
  splitPath,
  type S3Operation,
} from './route.js'
import { closeIfBodyWithheld } from '../expect-continue.js'

/** Header map with lowercase names; repeated headers joined with ',' (docs/s3-sse-rules.md §2.2). */
export function headerMap(incoming: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {}
  const raw = incoming.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase()
    const value = raw[i + 1]
    out[name] = out[name] === undefined ? value : `${out[name]},${value}`
  }
  return out
}

/** The region a request claims in its credential scope (header or presigned). */
function scopeRegion(headers: Record<string, string>, query: Array<[string, string]>): string | undefined {
  const cred = queryValue(query, 'X-Amz-Credential') ?? headers.authorization?.match(/Credential=([^,\s]+)/)?.[1]
  return cred?.split('/')[2]
}

/**
 * The region the request must be signed for (docs/s3-sse-rules.md §2.10 A7): the bucket's region if it
 * exists; CreateBucket is judged by the region it was sent to, so any AWS region (or ours) in the scope
 * is accepted. A scope naming no region at all (s3cmd's default `bucket_location = US`) gets AWS's
 * AuthorizationHeaderMalformed naming the region to use, which such clients follow and retry.
 */
function expectedRegion(
  svc: Services,
  op: S3Operation,
  rec: BucketRecord | undefined,
  headers: Record<string, string>,
  query: Array<[string, string]>,
): string {
  if (rec) return rec.region
  if (op.kind === 'CreateBucket') {
    const scope = scopeRegion(headers, query)
    if (scope !== undefined && (AWS_REGIONS.has(scope) || scope === svc.config.region)) return scope
  }
  return svc.config.region
}

/** The record of the bucket a request path names, if it exists (read once per request). */
async function bucketRecordOf(svc: Services, bucket: string): Promise<BucketRecord | undefined> {
  return canBeBucketName(bucket) ? svc.meta.getBucket(bucket) : undefined
}

/** The principal of an unsigned request: no account, so it owns nothing (policy/authorize.ts). */
const ANONYMOUS: Principal = { accessKeyId: '', accountId: '', principalArn: 'anonymous' }

/** Loopback peers: 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false
  const a = address.startsWith('::ffff:') ? address.slice(7) : address
  return a === '::1' || /^127\./.test(a)
}

/**
 * Whether SSE-C and SSE-KMS may be used on this request (docs/s3-sse-rules.md §4.9): TLS, or — by docs/s3-behaviour.md
 * —
 * plain HTTP from a loopback peer, which never leaves the machine, unless --strict-tls.
 */
function countsAsSecure(svc: Services, incoming: IncomingMessage): boolean {
  if ((incoming.socket as { encrypted?: boolean }).encrypted) return true
  return !svc.config.strictTls && isLoopback(incoming.socket.remoteAddress)
}

/**
 * Logs a request that ended in an error. Only the server's own failures (5xx but 501) are errors,
 * with their cause and stack. A refusal is the client's doing — any 4xx, and 501 NotImplemented
 * for a feature the store lacks — and is never logged as an error nor with a stack: 501 at warn
 * with method, path and subresource (an operator wants to know what clients ask for that the
 * store lacks), 4xx at debug (routine: a HEAD that finds nothing is a 404).
 */
function logFailure(
  svc: Pick<Services, 'log'>,
  err: S3Error,
  fields: { requestId: string; op: string },
  request: { method: string; path: string },
): void {
  if (err.code === 'NotImplemented') {
    svc.log.warn('request refused: not implemented', {
      ...fields,
      ...request,
      subresource: err.refused?.subresource,
      code: err.code,
      message: err.message,
    })
  } else if (err.status >= 500) svc.log.error('request failed', { ...fields, code: err.code, err: err.cause ?? err })
  else svc.log.debug('request refused', { ...fields, code: err.code })
}

/** The path of a request target, without its query (which may hold a presigned signature). */
function requestPath(url: string | undefined): string {
  const u = url ?? '/'
  const q = u.indexOf('?')
  return q < 0 ? u : u.slice(0, q)
}

export async function handleS3(svc: Services, incoming: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = newRequestId()
  const ids = { requestId, hostId: hostIdFor(requestId) }
  const method = incoming.method ?? 'GET'
  const isHead = method === 'HEAD'
  const started = performance.now()
  let opKind = 'Unknown'
  // What the request holds (blobs it reads), released once its answer is written or abandoned.
  const releases: Array<() => void> = []
  try {
    const headers = headerMap(incoming)
    const target = parseTarget(incoming.url ?? '/')
    const vhost = bucketFromHost(headers.host, svc.config.virtualHostBaseDomains)
    const pathBucket = splitPath(target, vhost).bucket
    const rec = await bucketRecordOf(svc, pathBucket)
    // CORS headers go on every answer to a request a rule allows, errors (a 403 signature
    // mismatch, a 404, a 501 refusal) included; a preflight computes its own.
    if (method !== 'OPTIONS') {
      for (const [k, v] of Object.entries(actualRequestCorsHeaders(rec?.cors, method, headers))) res.setHeader(k, v)
    }
    const op = parseOperation(method, target, headers, vhost)
    opKind = op.kind
    const region = expectedRegion(svc, op, rec, headers, target.query)
    const lookup = (akid: string) => svc.config.credentials.find((c) => c.accessKeyId === akid)
    const rawPath = (incoming.url ?? '/').split('?')[0] || '/'
    // A preflight is unauthenticated: a browser sends it without credentials or signature.
    const auth =
      op.kind === 'OptionsPreflight'
        ? null
        : authenticate(
            { method, path: target.path, query: target.query, headers, now: new Date(), rawPath, vhostBucket: vhost },
            {
              lookup,
              sessions: sessionsOf(svc.config),
              region,
              maxSkewSeconds: svc.config.maxClockSkewSeconds,
              sigv4Only: svc.config.sigv4Only,
            },
          )
    refuseKmsOverSigV2(auth, headers)
    // Anonymous requests reach only bucket-scoped operations, where a bucket policy granting
    // Principal "*" may allow them (docs/s3-sse-rules.md §2.9, §5.6; policy/authorize.ts); no account matches them.
    if (!auth && (bucketOf(op) === undefined || op.kind === 'CreateBucket')) throw new S3Error('AccessDenied')
    const principal: Principal = auth ? s3Principal(auth, incoming, svc.config.region) : ANONYMOUS
    const req: S3Request = {
      op,
      method,
      headers,
      query: target.query,
      requestId,
      auth,
      principal,
      secure: countsAsSecure(svc, incoming),
      host: headers.host ?? '',
      incoming,
      // The record read above travels with the request, so loadBucket authorizes against that same read.
      bucket: bucketOf(op) === pathBucket ? { name: pathBucket, record: rec } : undefined,
      defer: (release) => {
        releases.push(release)
      },
    }
    const result = await dispatch(svc, req)
    closeIfBodyWithheld(incoming, res)
    await writeResult(res, result, ids, isHead, svc.log, svc.metrics)
    svc.log.debug('request', {
      requestId,
      op: opKind,
      status: result.status,
      ms: Math.round(performance.now() - started),
    })
  } catch (err) {
    const s3err = toS3Error(err)
    if (s3err.refused) opKind = s3err.refused.operation
    svc.metrics?.countIfIntegrityFailure(err)
    logFailure(svc, s3err, { requestId, op: opKind }, { method, path: requestPath(incoming.url) })
    closeIfBodyWithheld(incoming, res)
    writeError(res, s3err, ids, isHead)
  } finally {
    for (const release of releases) release()
  }
  if (svc.metrics) {
    const bytesIn = Number(incoming.headers['content-length']) || 0
    const bytesOut = isHead ? 0 : Number(res.getHeader('content-length')) || 0
    svc.metrics.s3Request(opKind, res.statusCode, (performance.now() - started) / 1000, bytesIn, bytesOut)
  }
}
