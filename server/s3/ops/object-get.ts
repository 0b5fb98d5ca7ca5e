/**
 * @module GetObject and HeadObject: ranges, partNumber, conditionals, response overrides (docs/s3-sse-rules.md §3.8,
 * §3.9).
 */
import type { ObjectRecord } from '../../../storage/types.js'
import type { S3Request, S3Result, Services } from '../context.js'
import { S3Error, invalidArgument } from '../errors.js'
import { AMZ_CHECKSUM_MODE, AMZ_MP_PARTS_COUNT } from '../headers.js'
import { openObjectKey, readPlaintext } from '../object-io.js'
import { parsePartNumber, queryValue } from '../route.js'
import { checksumValue } from '../stored-checksums.js'
import {
  precheckSseC,
  readCustomerKey,
  refuseKmsReadOverHttp,
  refuseSseOnRead,
  sseResponseHeaders,
} from '../sse-headers.js'
import { tagCountHeader } from '../tags.js'
import { objectAclOf } from './acl.js'
import { checksumHeaders, etagMatches, loadBucket, metadataHeaders, validatorHeaders } from './common.js'
import { expirationHeaders } from './lifecycle.js'
import { readableVersion, versionHeaders } from './versioning.js'
import { lockHeaders } from './object-lock.js'

export type ByteRange = { start: number; end: number }

/**
 * Parses a single-range `Range` header against an object of `size` bytes (docs/s3-sse-rules.md §3.8.1).
 * Returns undefined when the header is to be ignored (whole object), throws 416 InvalidRange.
 */
export function parseRange(header: string, size: number): ByteRange | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!m || (m[1] === '' && m[2] === '')) return undefined
  const unsatisfiable = () =>
    new S3Error('InvalidRange', {
      fields: [
        ['RangeRequested', header],
        ['ActualObjectSize', size],
      ],
      headers: { 'Content-Range': `bytes */${size}` },
    })
  if (m[1] === '') {
    const suffix = Number(m[2])
    if (suffix === 0 || size === 0) throw unsatisfiable()
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(m[1])
  // `a-b` with a > b is ignored; an open `a-` past the end is unsatisfiable like any a >= N.
  if (m[2] !== '' && Number(m[2]) < start) return undefined
  if (start >= size) throw unsatisfiable()
  const end = m[2] === '' ? size - 1 : Number(m[2])
  return { start, end: Math.min(end, size - 1) }
}

/** Seconds since the epoch of an HTTP date, or undefined if unparsable (then ignored, §3.8.3). */
function parseHttpDate(v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const t = Date.parse(v)
  return Number.isNaN(t) ? undefined : Math.floor(t / 1000)
}

/** RFC 7232 §6 evaluation order of the four conditional headers (docs/s3-sse-rules.md §3.8.3). */
export function checkConditions(h: Record<string, string>, rec: ObjectRecord): 'ok' | 'not-modified' {
  const modified = Math.floor(rec.lastModified / 1000)
  const ifMatch = h['if-match']
  const ifNoneMatch = h['if-none-match']
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, rec.etag))
      throw new S3Error('PreconditionFailed', { fields: [['Condition', 'If-Match']] })
  } else {
    const ius = parseHttpDate(h['if-unmodified-since'])
    if (ius !== undefined && modified > ius)
      throw new S3Error('PreconditionFailed', { fields: [['Condition', 'If-Unmodified-Since']] })
  }
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, rec.etag)) return 'not-modified'
  } else {
    const ims = parseHttpDate(h['if-modified-since'])
    if (ims !== undefined && modified <= ims) return 'not-modified'
  }
  return 'ok'
}

const OVERRIDES: Array<[string, string]> = [
  ['response-content-type', 'Content-Type'],
  ['response-content-language', 'content-language'],
  ['response-expires', 'expires'],
  ['response-cache-control', 'cache-control'],
  ['response-content-disposition', 'content-disposition'],
  ['response-content-encoding', 'content-encoding'],
]

/** What a header value may hold: HTAB, SP, visible ASCII, and obs-text (RFC 9110 §5.5) as ISO-8859-1. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/
/** Characters an XML 1.0 document cannot carry (so not echoed as ArgumentValue). */
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/

/**
 * The response-* overrides of a GET or HEAD, checked before anything is read:
 * on an anonymous request 400 InvalidRequest; a value no header can carry (CR, LF or another
 * control character, or a character beyond ISO-8859-1) 400 InvalidArgument, as S3 answers.
 */
function responseOverrides(req: S3Request): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [param, header] of OVERRIDES) {
    const v = queryValue(req.query, param)
    if (v === undefined) continue
    if (!req.auth)
      throw new S3Error('InvalidRequest', {
        message: 'Request specific response headers cannot be used for anonymous GET requests.',
      })
    if (!HEADER_VALUE.test(v)) {
      // eslint-disable-next-line no-control-regex
      const message = /[^\x00-\xff]/.test(v)
        ? 'Header value cannot be represented using ISO-8859-1.'
        : 'Header value contains a character that is not allowed in an HTTP header.'
      throw invalidArgument(message, param, NOT_XML.test(v) ? undefined : v)
    }
    out[header] = v
  }
  return out
}

/** Byte range of part `n` of an object (a non-multipart object has one part: all of it). */
function partRange(rec: ObjectRecord, n: number): ByteRange & { count: number } {
  const count = rec.multipartCount ?? 1
  if (n > count) {
    throw new S3Error('InvalidPartNumber', {
      fields: [
        ['PartNumberRequested', n],
        ['ActualPartCount', count],
      ],
    })
  }
  if (rec.multipartCount === undefined) return { start: 0, end: rec.size - 1, count }
  let start = 0
  for (let i = 0; i < n - 1; i++) start += rec.parts[i].size
  return { start, end: start + rec.parts[n - 1].size - 1, count }
}

export async function getObject(svc: Services, req: S3Request, bucketName: string, key: string): Promise<S3Result> {
  const h = req.headers
  precheckSseC(h, req.secure)
  refuseSseOnRead(h)
  const partNumberRaw = queryValue(req.query, 'partNumber')
  if (partNumberRaw !== undefined && h.range !== undefined) {
    throw new S3Error('InvalidRequest', { message: 'Cannot specify both Range header and partNumber query parameter' })
  }
  const partNumber = partNumberRaw === undefined ? undefined : parsePartNumber(partNumberRaw)
  // Where Object Ownership allows ACLs, the object's own ACL may grant the read (ops/acl.ts).
  const bucket = await loadBucket(
    svc,
    req,
    bucketName,
    undefined,
    objectAclOf(svc, bucketName, key, queryValue(req.query, 'versionId')),
  )
  const overrides = responseOverrides(req)
  const isHead = req.method === 'HEAD'
  // A GET holds the blobs of the version it read until its answer is written or abandoned (so an
  // overwrite or delete committed meanwhile cannot delete them); HEAD reads no blob.
  const rec = await readableVersion(
    svc,
    bucketName,
    key,
    queryValue(req.query, 'versionId'),
    req.method,
    { hold: isHead ? undefined : req },
    req,
  )
  // A record whose parts do not add up to its size is corrupt: answering would send more (or
  // fewer) bytes than the Content-Length it declares. Fail closed before any byte goes out.
  if (!recordSizesConsistent(rec))
    throw new S3Error('InternalError', {
      cause: new Error(`object record ${bucketName}/${key}: part sizes do not add up to its size`),
    })
  if (checkConditions(h, rec) === 'not-modified')
    return { status: 304, headers: { ...validatorHeaders(rec), ...versionHeaders(bucket, rec) } }
  // SSE-C: the key must be presented and right, on HEAD too (docs/s3-sse-rules.md §4.8 "Reads").
  const customer = readCustomerKey(h, rec.encryption, req.secure)
  if (!isHead) refuseKmsReadOverHttp(rec.encryption, req.secure)
  // HEAD of an SSE-KMS object makes no KMS call (crypto/README.md §1); SSE-C proves the key by opening the seal.
  const oek =
    isHead && rec.encryption.mode !== 'SSE-C' ? undefined : await openObjectKey(svc, rec.encryption, rec, customer, req)

  const headers: Record<string, string> = {
    ...metadataHeaders(rec),
    ...validatorHeaders(rec),
    ...versionHeaders(bucket, rec),
    ...lockHeaders(svc, req, bucket, rec),
    // The current version only: a version read by id is not the one an Expiration rule expires.
    ...(queryValue(req.query, 'versionId') === undefined ? expirationHeaders(svc, bucket, rec) : {}),
    'Accept-Ranges': 'bytes',
    ...sseResponseHeaders(rec.encryption, { customerKeyMd5: customer?.md5 }),
    ...tagCountHeader(rec.tags),
  }
  let range: ByteRange | undefined
  let status = 200
  if (partNumber !== undefined) {
    const pr = partRange(rec, partNumber)
    headers[AMZ_MP_PARTS_COUNT] = String(pr.count)
    if (pr.end < pr.start) {
      // An empty (0-byte) part: nothing to send, but it is still the 206 of that part.
      status = 206
      headers['Content-Range'] = `bytes */${rec.size}`
    } else {
      range = pr
      status = 206
    }
  } else if (h.range !== undefined) {
    range = parseRange(h.range, rec.size)
    if (range) status = 206
  }
  if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${rec.size}`
  if (h[AMZ_CHECKSUM_MODE] === 'ENABLED' && status === 200)
    Object.assign(headers, checksumHeaders(checksumValue(rec, oek)))
  Object.assign(headers, overrides)
  const length = range ? range.end - range.start + 1 : status === 206 ? 0 : rec.size
  if (isHead || !oek) return { status, headers, stream: { length, chunks: emptyChunks() } }
  const chunks = length === 0 && status === 206 ? emptyChunks() : readPlaintext(svc, oek, rec.parts, range)
  return { status, headers, stream: { length, chunks } }
}

async function* emptyChunks(): AsyncGenerator<Buffer> {}

function recordSizesConsistent(rec: ObjectRecord): boolean {
  let total = 0
  for (const p of rec.parts) {
    if (!Number.isSafeInteger(p.size) || p.size < 0) return false
    total += p.size
  }
  return Number.isSafeInteger(rec.size) && total === rec.size
}
