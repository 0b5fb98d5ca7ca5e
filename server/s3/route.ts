/**
 * @module Parses (method, raw request-target, Host, headers) into one typed S3Operation, up front,
 * before anything else looks at the request (Garage's Endpoint enum).
 */
import { S3Error, invalidArgument } from './errors.js'
import { refusedOperationName } from './refused-operations.js'

export type S3Operation =
  | { kind: 'ListBuckets' }
  | { kind: 'CreateBucket'; bucket: string }
  | { kind: 'HeadBucket'; bucket: string }
  | { kind: 'DeleteBucket'; bucket: string }
  | { kind: 'GetBucketLocation'; bucket: string }
  | { kind: 'GetBucketEncryption'; bucket: string }
  | { kind: 'PutBucketEncryption'; bucket: string }
  | { kind: 'DeleteBucketEncryption'; bucket: string }
  | { kind: 'GetBucketPolicy'; bucket: string }
  | { kind: 'PutBucketPolicy'; bucket: string }
  | { kind: 'DeleteBucketPolicy'; bucket: string }
  | { kind: 'GetBucketPolicyStatus'; bucket: string }
  | { kind: 'GetBucketAcl'; bucket: string }
  | { kind: 'PutBucketAcl'; bucket: string }
  | { kind: 'GetBucketOwnershipControls'; bucket: string }
  | { kind: 'PutBucketOwnershipControls'; bucket: string }
  | { kind: 'DeleteBucketOwnershipControls'; bucket: string }
  | { kind: 'GetPublicAccessBlock'; bucket: string }
  | { kind: 'PutPublicAccessBlock'; bucket: string }
  | { kind: 'DeletePublicAccessBlock'; bucket: string }
  | { kind: 'GetObjectAcl'; bucket: string; key: string; versionId?: string }
  | { kind: 'PutObjectAcl'; bucket: string; key: string; versionId?: string }
  | { kind: 'GetBucketVersioning'; bucket: string }
  | { kind: 'PutBucketVersioning'; bucket: string }
  | { kind: 'ListObjectVersions'; bucket: string }
  | { kind: 'GetObjectLockConfiguration'; bucket: string }
  | { kind: 'PutObjectLockConfiguration'; bucket: string }
  | { kind: 'GetObjectRetention'; bucket: string; key: string; versionId?: string }
  | { kind: 'PutObjectRetention'; bucket: string; key: string; versionId?: string }
  | { kind: 'GetObjectLegalHold'; bucket: string; key: string; versionId?: string }
  | { kind: 'PutObjectLegalHold'; bucket: string; key: string; versionId?: string }
  | { kind: 'GetBucketLifecycleConfiguration'; bucket: string }
  | { kind: 'PutBucketLifecycleConfiguration'; bucket: string }
  | { kind: 'DeleteBucketLifecycle'; bucket: string }
  | { kind: 'ListObjects'; bucket: string }
  | { kind: 'ListObjectsV2'; bucket: string }
  | { kind: 'ListMultipartUploads'; bucket: string }
  | { kind: 'DeleteObjects'; bucket: string }
  | { kind: 'PostObject'; bucket: string }
  | { kind: 'PutObject'; bucket: string; key: string }
  | { kind: 'CopyObject'; bucket: string; key: string }
  | { kind: 'GetObject'; bucket: string; key: string; versionId?: string }
  | { kind: 'HeadObject'; bucket: string; key: string; versionId?: string }
  | { kind: 'DeleteObject'; bucket: string; key: string; versionId?: string }
  | { kind: 'CreateMultipartUpload'; bucket: string; key: string }
  | { kind: 'UploadPart'; bucket: string; key: string; uploadId: string; partNumber: string }
  | { kind: 'UploadPartCopy'; bucket: string; key: string; uploadId: string; partNumber: string }
  | { kind: 'CompleteMultipartUpload'; bucket: string; key: string; uploadId: string }
  | { kind: 'AbortMultipartUpload'; bucket: string; key: string; uploadId: string }
  | { kind: 'ListParts'; bucket: string; key: string; uploadId: string }
  | { kind: 'GetBucketCors'; bucket: string }
  | { kind: 'PutBucketCors'; bucket: string }
  | { kind: 'DeleteBucketCors'; bucket: string }
  /** A CORS preflight: `OPTIONS` on a bucket or object path, answered unauthenticated from the bucket's CORS rules. */
  | { kind: 'OptionsPreflight'; bucket: string; key: string }
  | { kind: 'GetBucketTagging'; bucket: string }
  | { kind: 'PutBucketTagging'; bucket: string }
  | { kind: 'DeleteBucketTagging'; bucket: string }
  | { kind: 'GetObjectTagging'; bucket: string; key: string; versionId?: string }
  | { kind: 'PutObjectTagging'; bucket: string; key: string; versionId?: string }
  | { kind: 'DeleteObjectTagging'; bucket: string; key: string; versionId?: string }
  | { kind: 'GetObjectAttributes'; bucket: string; key: string; versionId?: string }

export type OperationKind = S3Operation['kind']

/** The request target split and decoded once (docs/s3-sse-rules.md §1.1: no normalization of `//`, `./`, `../`). */
export interface ParsedTarget {
  /** Decoded path as received, e.g. `/bucket/a b+c` (path-style) or `/a b+c` (virtual-hosted). */
  path: string
  /** Decoded query pairs in received order; a parameter without `=` has value "". */
  query: Array<[string, string]>
}

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    throw new S3Error('InvalidURI')
  }
}

/**
 * Splits a raw request-target (`/b/k%20x?uploads&partNumber=1`) into a decoded path and query.
 * `+` stays a plus sign in both (docs/s3-sse-rules.md §2.2 [C]).
 */
export function parseTarget(rawTarget: string): ParsedTarget {
  const q = rawTarget.indexOf('?')
  const rawPath = q < 0 ? rawTarget : rawTarget.slice(0, q)
  const rawQuery = q < 0 ? '' : rawTarget.slice(q + 1)
  const query: Array<[string, string]> = []
  if (rawQuery) {
    for (const part of rawQuery.split('&')) {
      if (!part) continue
      const eq = part.indexOf('=')
      if (eq < 0) query.push([decodeComponent(part), ''])
      else query.push([decodeComponent(part.slice(0, eq)), decodeComponent(part.slice(eq + 1))])
    }
  }
  return { path: decodeComponent(rawPath || '/'), query }
}

/**
 * Resolves the bucket named by a virtual-hosted Host (`<bucket>.<base>[:port]`, also
 * `<bucket>.s3.<base>` and `<bucket>.s3.<region>.<base>`); undefined means path-style.
 */
export function bucketFromHost(host: string | undefined, baseDomains: readonly string[]): string | undefined {
  if (!host) return undefined
  let name = host.toLowerCase()
  if (name.startsWith('[')) return undefined // IPv6 literal
  const colon = name.lastIndexOf(':')
  if (colon >= 0) name = name.slice(0, colon)
  for (const base of baseDomains) {
    const suffix = '.' + base.toLowerCase()
    if (!name.endsWith(suffix)) continue
    let label = name.slice(0, -suffix.length)
    const s3 = label.match(/^(.*)\.s3(?:\.[a-z0-9-]+)?$/)
    if (s3) label = s3[1]
    // A bare `s3.<base>` or `s3.<region>.<base>` is the service endpoint, not a bucket.
    if (!label || label === 's3' || /^s3\.[a-z0-9-]+$/.test(label)) return undefined
    return label
  }
  return undefined
}

/** Sub-resources that exist in S3 but that this store does not implement (docs/s3-sse-rules.md §3, §7). */
export const UNSUPPORTED_SUBRESOURCES: ReadonlySet<string> = new Set([
  'website',
  'replication',
  'notification',
  'logging',
  'requestPayment',
  'accelerate',
  'analytics',
  'inventory',
  'metrics',
  'intelligent-tiering',
  'restore',
  'select',
  'torrent',
  'session',
  'renameObject',
  'metadataTable',
  'metadataConfiguration',
  'abac',
])

function has(query: ParsedTarget['query'], name: string): boolean {
  return query.some(([k]) => k === name)
}

export function queryValue(query: ParsedTarget['query'], name: string): string | undefined {
  for (const [k, v] of query) if (k === name) return v
  return undefined
}

/** The bucket and key a request path names ('' for none); `vhostBucket` as for parseOperation. */
export function splitPath(target: ParsedTarget, vhostBucket?: string): { bucket: string; key: string } {
  const p = target.path.startsWith('/') ? target.path.slice(1) : target.path
  if (vhostBucket !== undefined) return { bucket: vhostBucket, key: p }
  const slash = p.indexOf('/')
  return slash < 0 ? { bucket: p, key: '' } : { bucket: p.slice(0, slash), key: p.slice(slash + 1) }
}

/**
 * Parses one request into an S3Operation. `vhostBucket` is the bucket named by the Host header, if
 * any. Throws S3Error MethodNotAllowed / NotImplemented for combinations S3 does not define here.
 */
export function parseOperation(
  method: string,
  target: ParsedTarget,
  headers: Record<string, string>,
  vhostBucket?: string,
): S3Operation {
  const { bucket, key } = splitPath(target, vhostBucket)
  const q = target.query
  // A preflight asks about the request it precedes, whatever subresource that names.
  if (method === 'OPTIONS') return { kind: 'OptionsPreflight', bucket, key }
  for (const [name] of q) {
    if (UNSUPPORTED_SUBRESOURCES.has(name)) {
      const operation = refusedOperationName(method, name, key !== '')
      throw new S3Error('NotImplemented', {
        message: `The ?${name} subresource is not implemented.`,
        refused: { operation, subresource: name },
      })
    }
  }
  if (!bucket) {
    if (method === 'GET') return { kind: 'ListBuckets' }
    throw new S3Error('MethodNotAllowed')
  }
  if (!key) return bucketOperation(method, bucket, q)
  return objectOperation(method, bucket, key, q, headers)
}

function bucketOperation(method: string, bucket: string, q: ParsedTarget['query']): S3Operation {
  if (has(q, 'encryption')) {
    if (method === 'GET') return { kind: 'GetBucketEncryption', bucket }
    if (method === 'PUT') return { kind: 'PutBucketEncryption', bucket }
    if (method === 'DELETE') return { kind: 'DeleteBucketEncryption', bucket }
    throw new S3Error('MethodNotAllowed')
  }
  if (has(q, 'policy')) {
    if (method === 'GET') return { kind: 'GetBucketPolicy', bucket }
    if (method === 'PUT') return { kind: 'PutBucketPolicy', bucket }
    if (method === 'DELETE') return { kind: 'DeleteBucketPolicy', bucket }
    throw new S3Error('MethodNotAllowed')
  }
  if (has(q, 'cors')) {
    if (method === 'GET') return { kind: 'GetBucketCors', bucket }
    if (method === 'PUT') return { kind: 'PutBucketCors', bucket }
    if (method === 'DELETE') return { kind: 'DeleteBucketCors', bucket }
    throw new S3Error('MethodNotAllowed')
  }
  if (has(q, 'versioning')) {
    if (method === 'GET') return { kind: 'GetBucketVersioning', bucket }
    if (method === 'PUT') return { kind: 'PutBucketVersioning', bucket }
    throw new S3Error('MethodNotAllowed')
  }
  if (has(q, 'object-lock')) {
    if (method === 'GET') return { kind: 'GetObjectLockConfiguration', bucket }
    if (method === 'PUT') return { kind: 'PutObjectLockConfiguration', bucket }
    throw new S3Error('MethodNotAllowed')
  }
  if (has(q, 'lifecycle')) {
    if (method === 'GET') return { kind: 'GetBucketLifecycleConfiguration', bucket }
    if (method === 'PUT') return { kind: 'PutBucketLifecycleConfiguration', bucket }
    if (method === 'DELETE') return { kind: 'DeleteBucketLifecycle', bucket }
    throw new S3Error('MethodNotAllowed')
  }
  if (has(q, 'versions')) {
    if (method === 'GET') return { kind: 'ListObjectVersions', bucket }
    throw new S3Error('MethodNotAllowed')
  }
  if (has(q, 'tagging')) {
    if (method === 'GET') return { kind: 'GetBucketTagging', bucket }
    if (method === 'PUT') return { kind: 'PutBucketTagging', bucket }
    if (method === 'DELETE') return { kind: 'DeleteBucketTagging', bucket }
    throw new S3Error('MethodNotAllowed')
  }
  if (has(q, 'acl')) {
    if (method === 'GET') return { kind: 'GetBucketAcl', bucket }
    if (method === 'PUT') return { kind: 'PutBucketAcl', bucket }
    throw new S3Error('MethodNotAllowed')
  }
  if (has(q, 'ownershipControls')) {
    if (method === 'GET') return { kind: 'GetBucketOwnershipControls', bucket }
    if (method === 'PUT') return { kind: 'PutBucketOwnershipControls', bucket }
    if (method === 'DELETE') return { kind: 'DeleteBucketOwnershipControls', bucket }
    throw new S3Error('MethodNotAllowed')
  }
  if (has(q, 'publicAccessBlock')) {
    if (method === 'GET') return { kind: 'GetPublicAccessBlock', bucket }
    if (method === 'PUT') return { kind: 'PutPublicAccessBlock', bucket }
    if (method === 'DELETE') return { kind: 'DeletePublicAccessBlock', bucket }
    throw new S3Error('MethodNotAllowed')
  }
  if (has(q, 'policyStatus')) {
    if (method === 'GET') return { kind: 'GetBucketPolicyStatus', bucket }
    throw new S3Error('MethodNotAllowed')
  }
  switch (method) {
    case 'GET':
      if (has(q, 'location')) return { kind: 'GetBucketLocation', bucket }
      if (has(q, 'uploads')) return { kind: 'ListMultipartUploads', bucket }
      if (queryValue(q, 'list-type') === '2') return { kind: 'ListObjectsV2', bucket }
      return { kind: 'ListObjects', bucket }
    case 'HEAD':
      return { kind: 'HeadBucket', bucket }
    case 'PUT':
      return { kind: 'CreateBucket', bucket }
    case 'DELETE':
      return { kind: 'DeleteBucket', bucket }
    case 'POST':
      if (has(q, 'delete')) return { kind: 'DeleteObjects', bucket }
      return { kind: 'PostObject', bucket }
    default:
      throw new S3Error('MethodNotAllowed')
  }
}

function objectOperation(
  method: string,
  bucket: string,
  key: string,
  q: ParsedTarget['query'],
  headers: Record<string, string>,
): S3Operation {
  // UpdateObjectEncryption (`PUT /<key>?encryption`, 2026) is out of scope (docs/s3-sse-rules.md §4.11).
  if (has(q, 'encryption')) {
    throw new S3Error('NotImplemented', {
      message: 'UpdateObjectEncryption (PUT ?encryption on an object) is not implemented.',
      refused: { operation: 'UpdateObjectEncryption', subresource: 'encryption' },
    })
  }
  // Lifecycle is a bucket subresource; S3 defines no ?lifecycle on an object.
  if (has(q, 'lifecycle'))
    throw new S3Error('NotImplemented', { message: 'The ?lifecycle subresource exists on buckets only.' })
  const uploadId = queryValue(q, 'uploadId')
  const versionId = queryValue(q, 'versionId')
  if (has(q, 'retention')) {
    if (method === 'GET') return { kind: 'GetObjectRetention', bucket, key, versionId }
    if (method === 'PUT') return { kind: 'PutObjectRetention', bucket, key, versionId }
    throw new S3Error('MethodNotAllowed')
  }
  if (has(q, 'legal-hold')) {
    if (method === 'GET') return { kind: 'GetObjectLegalHold', bucket, key, versionId }
    if (method === 'PUT') return { kind: 'PutObjectLegalHold', bucket, key, versionId }
    throw new S3Error('MethodNotAllowed')
  }
  if (has(q, 'tagging')) {
    if (method === 'GET') return { kind: 'GetObjectTagging', bucket, key, versionId }
    if (method === 'PUT') return { kind: 'PutObjectTagging', bucket, key, versionId }
    if (method === 'DELETE') return { kind: 'DeleteObjectTagging', bucket, key, versionId }
    throw new S3Error('MethodNotAllowed')
  }
  if (has(q, 'attributes')) {
    if (method === 'GET') return { kind: 'GetObjectAttributes', bucket, key, versionId }
    throw new S3Error('MethodNotAllowed')
  }
  if (has(q, 'acl')) {
    if (method === 'GET') return { kind: 'GetObjectAcl', bucket, key, versionId }
    if (method === 'PUT') return { kind: 'PutObjectAcl', bucket, key, versionId }
    throw new S3Error('MethodNotAllowed')
  }
  switch (method) {
    case 'GET':
      if (uploadId !== undefined) return { kind: 'ListParts', bucket, key, uploadId }
      return { kind: 'GetObject', bucket, key, versionId }
    case 'HEAD':
      return { kind: 'HeadObject', bucket, key, versionId }
    case 'PUT': {
      const isCopy = headers['x-amz-copy-source'] !== undefined
      if (uploadId !== undefined) {
        const partNumber = queryValue(q, 'partNumber') ?? ''
        return isCopy
          ? { kind: 'UploadPartCopy', bucket, key, uploadId, partNumber }
          : { kind: 'UploadPart', bucket, key, uploadId, partNumber }
      }
      return isCopy ? { kind: 'CopyObject', bucket, key } : { kind: 'PutObject', bucket, key }
    }
    case 'DELETE':
      if (uploadId !== undefined) return { kind: 'AbortMultipartUpload', bucket, key, uploadId }
      return { kind: 'DeleteObject', bucket, key, versionId }
    case 'POST':
      if (has(q, 'uploads')) return { kind: 'CreateMultipartUpload', bucket, key }
      if (uploadId !== undefined) return { kind: 'CompleteMultipartUpload', bucket, key, uploadId }
      throw new S3Error('NotImplemented', {
        message: 'POST on an object without ?uploads or ?uploadId is not implemented.',
        refused: { operation: 'PostObject' },
      })
    default:
      throw new S3Error('MethodNotAllowed')
  }
}

/** A `partNumber` parameter: an integer 1..10000, else InvalidArgument (AWS's message). */
export function parsePartNumber(raw: string): number {
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || n < 1 || n > 10000) {
    throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', raw)
  }
  return n
}

/**
 * Whether `id` can name an upload. The ids this store issues (newUploadId) are 1..1024 URL-safe
 * characters; any other id (empty, with NUL or other bytes, longer) names no upload, so it answers
 * NoSuchUpload, as AWS does for an unknown id, without reaching the metadata store.
 */
export function canBeUploadId(id: string): boolean {
  return /^[A-Za-z0-9._~-]{1,1024}$/.test(id)
}

/**
 * Whether a bucket name can be looked up: the metadata store delimits its keys with NUL, so an
 * empty name or one with NUL can exist nowhere and answers as a bucket that does not exist.
 */
export function canBeBucketName(name: string): boolean {
  return name.length > 0 && !name.includes('\0')
}

/** The bucket an operation addresses, if any. */
export function bucketOf(op: S3Operation): string | undefined {
  return 'bucket' in op ? op.bucket : undefined
}
