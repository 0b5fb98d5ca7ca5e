/**
 * @module Helpers shared by the operation families: bucket access checks, object metadata from
 * request headers and back to response headers, ETag and date formatting.
 */
import type { BucketRecord, ChecksumValue, ObjectMetadata, ObjectRecord } from '../../../storage/types.js'
import type { Principal, S3Request, Services } from '../context.js'
import { S3Error, noSuchBucket } from '../errors.js'
import {
  AMZ_CHECKSUM_TYPE,
  AMZ_EXPECTED_BUCKET_OWNER,
  AMZ_META_PREFIX,
  AMZ_STORAGE_CLASS,
  STORED_SYSTEM_HEADERS,
} from '../headers.js'
import { authorize, type Access, type ObjectAcl } from '../policy/authorize.js'
import { aclsEnabled } from '../acl.js'
import { canBeBucketName } from '../route.js'

/**
 * Loads a bucket the caller may use: NoSuchBucket if absent, AccessDenied unless the owner's
 * account or its bucket policy allows `access` (default: the request's own operation; policy/authorize.ts),
 * or if `x-amz-expected-bucket-owner` names another account (docs/s3-sse-rules.md §3, BKT-17/18, §5.6).
 * `object`: reads the ACL of the object version the request addresses, judged with the bucket's.
 */
export async function loadBucket(
  svc: Services,
  req: S3Request,
  name: string,
  access?: Access,
  object?: () => Promise<ObjectAcl | undefined>,
): Promise<BucketRecord> {
  // The bucket the operation addresses was read once by the pipeline (handler.ts); others (a copy source) are read
  // here.
  const bucket =
    req.bucket?.name === name ? req.bucket.record : canBeBucketName(name) ? await svc.meta.getBucket(name) : undefined
  // Anonymous requests are authorized before existence is revealed (docs/s3-sse-rules.md §1.4, ERR-04).
  if (!bucket) throw req.auth ? noSuchBucket(name) : new S3Error('AccessDenied')
  if (!access && usesExistingObjectTag(req, bucket)) req.existingTags = await existingTags(svc, req, name)
  // The addressed object's ACL counts only where Object Ownership allows ACLs (policy/acl-grants.ts).
  const objectAcl = object && aclsEnabled(bucket) ? await object() : undefined
  authorize(req, bucket, {
    owner: isOwner(bucket, req.principal),
    region: svc.config.region,
    access,
    audit: svc.audit,
    object: objectAcl,
  })
  const expected = req.headers[AMZ_EXPECTED_BUCKET_OWNER]
  if (expected !== undefined && expected !== bucket.ownerAccountId) throw new S3Error('AccessDenied')
  return bucket
}

/** Operations a policy may judge on the addressed version's tags (AWS: s3:ExistingObjectTag/<key>). */
const EXISTING_TAG_OPS = new Set([
  'GetObject',
  'HeadObject',
  'GetObjectTagging',
  'PutObjectTagging',
  'DeleteObjectTagging',
  'GetObjectAttributes',
])
const EXISTING_TAG_KEY = /s3:existingobjecttag\//i

/** Whether a policy judging this request may name s3:ExistingObjectTag: only then is the version read first. */
function usesExistingObjectTag(req: S3Request, bucket: BucketRecord): boolean {
  if (!EXISTING_TAG_OPS.has(req.op.kind)) return false
  if (bucket.policy !== undefined && EXISTING_TAG_KEY.test(bucket.policy)) return true
  const identity = req.principal.identity
  return [...(identity?.policies ?? []), ...(identity?.sessionPolicy ? [identity.sessionPolicy] : [])].some((p) =>
    EXISTING_TAG_KEY.test(JSON.stringify(p)),
  )
}

/** The tags of the version the request addresses (none when it does not exist: the operation answers that). */
async function existingTags(
  svc: Services,
  req: S3Request,
  bucket: string,
): Promise<Record<string, string> | undefined> {
  const op = req.op as { key: string; versionId?: string }
  const rec = await svc.meta.getVersion(bucket, op.key, op.versionId)
  return rec && !rec.deleteMarker ? (rec.tags ?? {}) : undefined
}

/**
 * The one ownership rule between accounts: a bucket, and everything in it, belongs to the account
 * that created it. Bucket policies combine this with their grants; nothing else compares accounts.
 */
export function isOwner(
  bucket: Pick<BucketRecord, 'ownerAccountId'>,
  principal: Pick<Principal, 'accountId'>,
): boolean {
  return bucket.ownerAccountId === principal.accountId
}

export { canonicalId } from '../acl.js'

/**
 * The account a new object is written by (its owner where Object Ownership makes writers owners);
 * an anonymous write, which only a public ACL or policy allows, is the bucket owner's.
 */
export function writerOf(req: S3Request, bucket: BucketRecord): string {
  return req.auth ? req.principal.accountId : bucket.ownerAccountId
}

export const quoteEtag = (etag: string): string => `"${etag}"`

/** IMF-fixdate with whole seconds, as S3 writes Last-Modified. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString()
}

const STORAGE_CLASSES = new Set([
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'OUTPOSTS',
  'GLACIER_IR',
  'SNOW',
  'EXPRESS_ONEZONE',
  'FSX_OPENZFS',
  'FSX_ONTAP',
])

export const MAX_METADATA_SIZE = 2048
export const MAX_KEY_LENGTH = 1024

/** Precondition: object keys are at most 1024 UTF-8 bytes (docs/s3-sse-rules.md §3.7, PUT-04). */
export function checkKeyLength(key: string): void {
  const size = Buffer.byteLength(key, 'utf8')
  if (size > MAX_KEY_LENGTH) {
    throw new S3Error('KeyTooLongError', {
      fields: [
        ['MaxSizeAllowed', MAX_KEY_LENGTH],
        ['Size', size],
      ],
    })
  }
}

/** Node hands header values over as latin1; S3 metadata values are UTF-8 bytes. */
function utf8Header(v: string): string {
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(v) ? Buffer.from(v, 'latin1').toString('utf8') : v
}

/**
 * Object metadata from request headers (PutObject, CreateMultipartUpload, CopyObject REPLACE):
 * Content-Type (default binary/octet-stream), stored system headers, x-amz-meta-* (docs/s3-sse-rules.md §3.15).
 */
export function metadataFromHeaders(h: Record<string, string>, contentEncoding: string | undefined): ObjectMetadata {
  const headers: Record<string, string> = {}
  for (const name of STORED_SYSTEM_HEADERS) {
    const v = name === 'content-encoding' ? contentEncoding : h[name]
    if (v !== undefined && v !== '') headers[name] = utf8Header(v)
  }
  const userMeta: Record<string, string> = {}
  let size = 0
  for (const [name, value] of Object.entries(h)) {
    if (!name.startsWith(AMZ_META_PREFIX)) continue
    const short = name.slice(AMZ_META_PREFIX.length)
    const v = utf8Header(value)
    userMeta[short] = v
    size += Buffer.byteLength(short, 'utf8') + Buffer.byteLength(v, 'utf8')
  }
  if (size > MAX_METADATA_SIZE) {
    throw new S3Error('MetadataTooLarge', {
      fields: [
        ['Size', size],
        ['MaxSizeAllowed', MAX_METADATA_SIZE],
      ],
    })
  }
  const storageClass = h[AMZ_STORAGE_CLASS] ?? 'STANDARD'
  if (!STORAGE_CLASSES.has(storageClass)) throw new S3Error('InvalidStorageClass')
  return {
    contentType: h['content-type'] ? utf8Header(h['content-type']) : 'binary/octet-stream',
    headers,
    userMeta,
    storageClass,
  }
}

/** RFC 2047 for values that are not plain ASCII (docs/s3-sse-rules.md §3.15, META-04). */
function headerSafe(v: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\x20-\x7e\t]*$/.test(v) ? v : `=?UTF-8?B?${Buffer.from(v, 'utf8').toString('base64')}?=`
}

/** Content-Type, stored system headers, x-amz-meta-* and storage class for GET/HEAD. */
export function metadataHeaders(meta: ObjectMetadata): Record<string, string> {
  const out: Record<string, string> = { 'Content-Type': headerSafe(meta.contentType) }
  for (const [k, v] of Object.entries(meta.headers)) out[k] = headerSafe(v)
  for (const [k, v] of Object.entries(meta.userMeta)) out[AMZ_META_PREFIX + k] = headerSafe(v)
  if (meta.storageClass !== 'STANDARD') out[AMZ_STORAGE_CLASS] = meta.storageClass
  return out
}

/** ETag and Last-Modified of an object, as sent on GET/HEAD/304. */
export function validatorHeaders(rec: ObjectRecord): Record<string, string> {
  return { ETag: quoteEtag(rec.etag), 'Last-Modified': httpDate(rec.lastModified) }
}

/** Strips quotes and a weak prefix for ETag comparison (docs/s3-sse-rules.md §3.8.3 [C]). */
export function normalizeEtag(v: string): string {
  let s = v.trim()
  if (s.startsWith('W/')) s = s.slice(2)
  if (s.startsWith('"') && s.endsWith('"') && s.length >= 2) s = s.slice(1, -1)
  return s
}

/** True if an If-Match / If-None-Match list matches the ETag (`*` matches any object). */
export function etagMatches(list: string, etag: string): boolean {
  return list.split(',').some((item) => {
    const t = item.trim()
    return t === '*' || normalizeEtag(t) === etag
  })
}

/** `x-amz-checksum-<alg>` and `x-amz-checksum-type` of a stored checksum (docs/s3-sse-rules.md §3.16). */
export function checksumHeaders(c: ChecksumValue | undefined): Record<string, string> {
  if (!c) return {}
  return { [`x-amz-checksum-${c.algorithm.toLowerCase()}`]: c.value, [AMZ_CHECKSUM_TYPE]: c.type }
}

/**
 * Operations that require a body digest (DeleteObjects, PutBucketEncryption): Content-MD5 or any
 * x-amz-checksum-* (header or trailer) must be present (docs/s3-sse-rules.md §3.11, §5.2 [C]).
 */
export function requireIntegrityHeader(h: Record<string, string>): void {
  const hasChecksum = Object.keys(h).some(
    (n) =>
      n.startsWith('x-amz-checksum-') &&
      n !== 'x-amz-checksum-type' &&
      n !== 'x-amz-checksum-mode' &&
      n !== 'x-amz-checksum-algorithm',
  )
  if (h['content-md5'] === undefined && !hasChecksum && h['x-amz-trailer'] === undefined) {
    throw new S3Error('InvalidRequest', { message: 'Missing required header for this request: Content-MD5' })
  }
}
