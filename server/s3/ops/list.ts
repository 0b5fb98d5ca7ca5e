/** @module ListObjectsV2 and ListObjects v1 (docs/s3-sse-rules.md §3.12). */
import type { ListResult } from '../../../storage/types.js'
import { uriEncode } from '../../../lib/sigv4.js'
import type { S3Request, S3Result, Services } from '../context.js'
import { invalidArgument } from '../errors.js'
import { queryValue } from '../route.js'
import { isoTime, xmlDocument, type XmlObject } from '../xml.js'
import { canonicalId, loadBucket, quoteEtag } from './common.js'

/** Default and cap of max-keys (docs/s3-sse-rules.md §3.12.1). */
const MAX_KEYS = 1000

interface ListParams {
  prefix: string
  delimiter?: string
  maxKeysRaw?: string
  limit: number
  encodeUrl: boolean
}

export function listParams(q: S3Request['query']): ListParams {
  const prefix = queryValue(q, 'prefix') ?? ''
  const delimiterRaw = queryValue(q, 'delimiter')
  const delimiter = delimiterRaw === '' ? undefined : delimiterRaw
  const encoding = queryValue(q, 'encoding-type')
  if (encoding !== undefined && encoding !== 'url') {
    throw invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', encoding)
  }
  const maxKeysRaw = queryValue(q, 'max-keys')
  let limit = MAX_KEYS
  if (maxKeysRaw !== undefined) {
    if (!/^-?\d+$/.test(maxKeysRaw) || Math.abs(Number(maxKeysRaw)) > 2147483647) {
      throw invalidArgument('Provided max-keys not an integer or within integer range', 'max-keys', maxKeysRaw)
    }
    const n = Number(maxKeysRaw)
    if (n < 0)
      throw invalidArgument('Argument maxKeys must be an integer between 0 and 2147483647', 'maxKeys', maxKeysRaw)
    limit = Math.min(n, MAX_KEYS)
  }
  return { prefix, delimiter, maxKeysRaw, limit, encodeUrl: encoding === 'url' }
}

async function runListing(
  svc: Services,
  bucket: string,
  p: ListParams,
  after: string | undefined,
): Promise<ListResult> {
  if (p.limit === 0) return { entries: [], isTruncated: false }
  return svc.meta.listObjects(bucket, { prefix: p.prefix || undefined, delimiter: p.delimiter, after, limit: p.limit })
}

function contentsAndPrefixes(
  res: ListResult,
  enc: (s: string) => string,
  owner?: string,
): { Contents: XmlObject[]; CommonPrefixes: XmlObject[] } {
  const Contents: XmlObject[] = []
  const CommonPrefixes: XmlObject[] = []
  for (const e of res.entries) {
    if (e.kind === 'prefix') {
      CommonPrefixes.push({ Prefix: enc(e.prefix) })
      continue
    }
    const r = e.record
    Contents.push({
      Key: enc(r.key),
      LastModified: isoTime(Math.floor(r.lastModified / 1000) * 1000),
      ETag: quoteEtag(r.etag),
      ChecksumAlgorithm: r.checksum?.algorithm,
      ChecksumType: r.checksum?.type,
      Size: r.size,
      Owner: owner !== undefined ? { ID: owner } : undefined,
      StorageClass: r.storageClass,
    })
  }
  return { Contents, CommonPrefixes }
}

/** Continuation tokens are opaque (docs/s3-sse-rules.md §3.12.1): base64url of a tagged last key. */
const TOKEN_TAG = 'sr1:'
const encodeToken = (last: string) => Buffer.from(TOKEN_TAG + last, 'utf8').toString('base64url')
function decodeToken(token: string): string {
  const s = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : ''
  if (!s.startsWith(TOKEN_TAG))
    throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token)
  return s.slice(TOKEN_TAG.length)
}

export async function listObjectsV2(svc: Services, req: S3Request, bucketName: string): Promise<S3Result> {
  const q = req.query
  const p = listParams(q)
  await loadBucket(svc, req, bucketName)
  const token = queryValue(q, 'continuation-token')
  const startAfter = queryValue(q, 'start-after')
  const after = token !== undefined ? decodeToken(token) : startAfter || undefined
  const fetchOwner = queryValue(q, 'fetch-owner') === 'true'
  const res = await runListing(svc, bucketName, p, after)
  const enc = p.encodeUrl ? (s: string) => uriEncode(s, true) : (s: string) => s
  const { Contents, CommonPrefixes } = contentsAndPrefixes(
    res,
    enc,
    fetchOwner ? canonicalId(req.principal.accountId) : undefined,
  )
  return {
    status: 200,
    xml: xmlDocument('ListBucketResult', {
      Name: bucketName,
      Prefix: enc(p.prefix),
      Delimiter: p.delimiter !== undefined ? enc(p.delimiter) : undefined,
      MaxKeys: p.maxKeysRaw ?? MAX_KEYS,
      EncodingType: p.encodeUrl ? 'url' : undefined,
      KeyCount: res.entries.length,
      IsTruncated: res.isTruncated,
      ContinuationToken: token,
      NextContinuationToken: res.isTruncated && res.last !== undefined ? encodeToken(res.last) : undefined,
      StartAfter: startAfter !== undefined ? enc(startAfter) : undefined,
      Contents,
      CommonPrefixes,
    }),
  }
}

export async function listObjects(svc: Services, req: S3Request, bucketName: string): Promise<S3Result> {
  const q = req.query
  const p = listParams(q)
  await loadBucket(svc, req, bucketName)
  const marker = queryValue(q, 'marker') ?? ''
  const res = await runListing(svc, bucketName, p, marker || undefined)
  const enc = p.encodeUrl ? (s: string) => uriEncode(s, true) : (s: string) => s
  const { Contents, CommonPrefixes } = contentsAndPrefixes(res, enc, canonicalId(req.principal.accountId))
  return {
    status: 200,
    xml: xmlDocument('ListBucketResult', {
      Name: bucketName,
      Prefix: enc(p.prefix),
      Marker: enc(marker),
      NextMarker: p.delimiter !== undefined && res.isTruncated && res.last !== undefined ? enc(res.last) : undefined,
      MaxKeys: p.maxKeysRaw ?? MAX_KEYS,
      Delimiter: p.delimiter !== undefined ? enc(p.delimiter) : undefined,
      EncodingType: p.encodeUrl ? 'url' : undefined,
      IsTruncated: res.isTruncated,
      Contents,
      CommonPrefixes,
    }),
  }
}
