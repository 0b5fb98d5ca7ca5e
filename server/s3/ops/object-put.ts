/** @module PutObject and CopyObject (docs/s3-sse-rules.md §3.7, §3.13, §4.11). */
import type { ChecksumValue, CommitExpectation, ObjectMetadata, ObjectRecord } from '../../../storage/types.js'
import { precheckBodyHeaders, storedContentEncoding } from '../body.js'
import type { S3Request, S3Result, Services } from '../context.js'
import { S3Error, noSuchKey } from '../errors.js'
import { AMZ_METADATA_DIRECTIVE, AMZ_STORAGE_CLASS, AMZ_TAGGING_DIRECTIVE, AMZ_WEBSITE_REDIRECT } from '../headers.js'
import { requestedTags, storedTags } from '../tags.js'
import { deleteGarbage, etagFor, newObjectKey, placeObject, writePart } from '../object-io.js'
import { requestBody } from '../request-body.js'
import { storeChecksum } from '../stored-checksums.js'
import {
  hasEncryptionHeaders,
  precheckSseC,
  resolveWriteSse,
  sseResponseHeaders,
  type SseRequest,
} from '../sse-headers.js'
import {
  checksumHeaders,
  checkKeyLength,
  etagMatches,
  loadBucket,
  metadataFromHeaders,
  quoteEtag,
  writerOf,
} from './common.js'
import { newObjectAcl } from '../acl.js'
import {
  copySourceConditions,
  copySourceVersionHeaders,
  openCopySource,
  openSourceKey,
  parseCopySource,
  readSourceDigesting,
} from './copy-source.js'
import { expirationHeaders } from './lifecycle.js'
import { versionHeaders } from './versioning.js'
import { isoTime, xmlDocument } from '../xml.js'
import { newVersionId } from '../../../storage/versions.js'
import { lockFromHeaders, requireLockedWriteDigest, versionLock } from './object-lock.js'
import { NotFoundError } from '../../../storage/errors.js'

/** 5 GiB: the largest single PUT and the largest copy source (docs/s3-sse-rules.md §3.7, §3.13). */
export const MAX_PUT_SIZE = 5 * 1024 ** 3

/** If-Match / If-None-Match: * on writes (docs/s3-sse-rules.md §3.7): checked early and again atomically at commit. */
export function writeExpectation(h: Record<string, string>): { etag?: string; absent?: boolean } | undefined {
  const ifNoneMatch = h['if-none-match']
  const ifMatch = h['if-match']
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*')
    throw new S3Error('NotImplemented', { message: 'If-None-Match on writes supports only *' })
  return { absent: ifNoneMatch !== undefined ? true : undefined, etag: ifMatch }
}

/**
 * Checks the write conditions against the current object and returns what the commit must still
 * find: If-Match may be quoted, a list or `*`, so the commit expects the exact ETag that matched.
 */
export async function precheckExpectation(
  svc: Services,
  bucket: string,
  key: string,
  expect: ReturnType<typeof writeExpectation>,
): Promise<CommitExpectation | undefined> {
  if (!expect) return undefined
  const cur = await svc.meta.getObject(bucket, key)
  if (expect.absent && cur) throw new S3Error('PreconditionFailed', { fields: [['Condition', 'If-None-Match']] })
  if (expect.etag !== undefined) {
    if (!cur) throw noSuchKey(key)
    if (!etagMatches(expect.etag, cur.etag))
      throw new S3Error('PreconditionFailed', { fields: [['Condition', 'If-Match']] })
    return { absent: expect.absent, etag: cur.etag }
  }
  return { absent: expect.absent }
}

/** Plaintext length a body announces: x-amz-decoded-content-length for aws-chunked, else Content-Length. */
export function declaredLength(h: Record<string, string>): number | undefined {
  const v = h['x-amz-decoded-content-length'] ?? h['content-length']
  return v === undefined ? undefined : Number(v)
}

/** Length rules shared by PutObject and UploadPart (docs/s3-sse-rules.md §3.7 PUT-05, EntityTooLarge). */
export function checkBodyLength(h: Record<string, string>, max: number): void {
  // Without Content-Length only aws-chunked framing may stand in, and it declares its length in
  // x-amz-decoded-content-length (checked with the framing); plain HTTP chunked bodies are 411 as on AWS.
  if (h['content-length'] === undefined && !h['x-amz-content-sha256']?.startsWith('STREAMING-'))
    throw new S3Error('MissingContentLength')
  const size = declaredLength(h)
  if (size !== undefined && size > max) {
    throw new S3Error('EntityTooLarge', {
      fields: [
        ['ProposedSize', size],
        ['MaxSizeAllowed', max],
      ],
    })
  }
}

/**
 * A conditional commit whose object was removed after its If-Match held at the precheck: the
 * write conflicted with a concurrent delete, which AWS answers 409 ConditionalRequestConflict
 * (AWS S3 User Guide, conditional writes). Every other error is returned as it is.
 */
export function conditionalConflict(err: unknown, expect: CommitExpectation | undefined): unknown {
  if (expect?.etag !== undefined && err instanceof NotFoundError && err.kind === 'object')
    return new S3Error('ConditionalRequestConflict', { cause: err })
  return err
}

/** Commits a new version; returns it as committed (the null version unless versioning is Enabled). */
async function commitNew(
  svc: Services,
  rec: ObjectRecord,
  expect: CommitExpectation | undefined,
  blobs: string[],
): Promise<ObjectRecord> {
  let result: Awaited<ReturnType<Services['meta']['commitObject']>>
  try {
    result = await svc.meta.commitObject(placeObject(svc, rec), { expect })
  } catch (err) {
    deleteGarbage(svc, blobs)
    throw conditionalConflict(err, expect)
  }
  deleteGarbage(svc, result.garbage)
  return result.version
}

export async function putObject(svc: Services, req: S3Request, bucketName: string, key: string): Promise<S3Result> {
  const h = req.headers
  checkKeyLength(key)
  precheckSseC(h, req.secure, { write: true, sseHeaderAllowed: true })
  const tags = requestedTags(req)
  const bucket = await loadBucket(svc, req, bucketName)
  const owned = newObjectAcl(h, bucket, writerOf(req, bucket))
  precheckBodyHeaders(h)
  const sse = resolveWriteSse(h, bucket, { secure: req.secure }, 's3:PutObject', key)
  const meta = metadataFromHeaders(h, storedContentEncoding(h))
  // A POST Object file has no length of its own: its form limits it while it streams.
  if (!req.bodySource) checkBodyLength(h, MAX_PUT_SIZE)
  const lock = lockFromHeaders(h, bucket, Date.now())
  if (lock || bucket.objectLock?.defaultRetention) requireLockedWriteDigest(h, 'Put Object')
  const expect = await precheckExpectation(svc, bucketName, key, writeExpectation(h))

  const versionId = newVersionId()
  const { oek, encryption } = await newObjectKey(svc, sse, bucketName, key, req, versionId)
  const body = requestBody(req)
  const part = await writePart(svc, oek, 1, body.stream)
  const d = body.digests()
  const now = Date.now()
  const etag = etagFor(encryption, d.md5)
  const checksum: ChecksumValue = { algorithm: d.checksum.algorithm, type: 'FULL_OBJECT', value: d.checksum.value }
  const rec: ObjectRecord = {
    v: 2,
    bucket: bucketName,
    key,
    versionId,
    size: d.size,
    etag,
    lastModified: now,
    ...owned,
    ...meta,
    checksum: storeChecksum({ bucket: bucketName, key, encryption }, oek, checksum),
    encryption,
    parts: [{ partNumber: 1, blobId: part.blobId, size: d.size, etag, salt: part.salt, lastModified: now }],
    ...storedTags(tags),
    ...versionLock(bucket, lock, now),
  }
  const committed = await commitNew(svc, rec, expect, [part.blobId])
  const sseHeaders = sseResponseHeaders(encryption, { customerKeyMd5: customerMd5(sse), echoContext: true })
  return {
    status: 200,
    headers: {
      ETag: quoteEtag(etag),
      ...sseHeaders,
      ...checksumHeaders(checksum),
      ...versionHeaders(bucket, committed),
      ...expirationHeaders(svc, bucket, committed),
    },
  }
}

const customerMd5 = (sse: SseRequest): string | undefined => (sse.mode === 'SSE-C' ? sse.customer.md5 : undefined)

/**
 * The copy-onto-itself rule of docs/s3-sse-rules.md §4.11: legal only when something besides the data would
 * change — metadata, storage class, redirect, any encryption header, an encryption that differs
 * from the source's, or an explicitly configured bucket default.
 */
function checkSelfCopy(h: Record<string, string>, hasExplicitDefault: boolean, encryptionChanges: boolean): void {
  const changes =
    h[AMZ_METADATA_DIRECTIVE] === 'REPLACE' ||
    h[AMZ_STORAGE_CLASS] !== undefined ||
    h[AMZ_WEBSITE_REDIRECT] !== undefined ||
    hasEncryptionHeaders(h) ||
    encryptionChanges ||
    hasExplicitDefault
  if (!changes) {
    throw new S3Error('InvalidRequest', {
      message:
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    })
  }
}

export async function copyObject(svc: Services, req: S3Request, bucketName: string, key: string): Promise<S3Result> {
  const h = req.headers
  checkKeyLength(key)
  const source = parseCopySource(h)
  const directive = h[AMZ_METADATA_DIRECTIVE] ?? 'COPY'
  if (directive !== 'COPY' && directive !== 'REPLACE')
    throw new S3Error('InvalidArgument', {
      message: 'Unknown metadata directive.',
      fields: [
        ['ArgumentName', AMZ_METADATA_DIRECTIVE],
        ['ArgumentValue', directive],
      ],
    })
  const tagDirective = h[AMZ_TAGGING_DIRECTIVE] ?? 'COPY'
  if (tagDirective !== 'COPY' && tagDirective !== 'REPLACE')
    throw new S3Error('InvalidArgument', {
      message: 'Unknown tagging directive.',
      fields: [
        ['ArgumentName', AMZ_TAGGING_DIRECTIVE],
        ['ArgumentValue', tagDirective],
      ],
    })
  precheckSseC(h, req.secure, { write: true, sseHeaderAllowed: true, copySource: true })
  const headerTags = requestedTags(req)
  const bucket = await loadBucket(svc, req, bucketName)
  // The copy's ACL comes from this request, never from the source (S3 User Guide, "Copying objects").
  const owned = newObjectAcl(h, bucket, writerOf(req, bucket))
  const sse = resolveWriteSse(h, bucket, { secure: req.secure, copy: true }, 's3:CopyObject', key)
  const replaced = directive === 'REPLACE' ? metadataFromHeaders(h, h['content-encoding']) : undefined
  // The copy's lock comes from its own headers or the destination's default, never from the source.
  const lock = lockFromHeaders(h, bucket, Date.now())
  const src = await openCopySource(svc, req, source)
  if (src.record.size > MAX_PUT_SIZE)
    throw new S3Error('InvalidRequest', {
      message: 'The specified copy source is larger than the maximum allowable size for a copy source: 5368709120',
    })
  copySourceConditions(h, src.record)
  const self =
    source.bucket === bucketName &&
    source.key === key &&
    src.record.versionId === (await svc.meta.getObject(bucketName, key))?.versionId
  if (self) checkSelfCopy(h, bucket.encryption !== undefined, sse.mode !== src.record.encryption.mode)
  const srcKey = await openSourceKey(svc, src, req)
  const expect = await precheckExpectation(svc, bucketName, key, writeExpectation(h))

  // COPY keeps the source's metadata (never the website redirect, §3.13), REPLACE takes the request's.
  const { [AMZ_WEBSITE_REDIRECT]: _redirect, ...kept } = src.record.headers
  const meta: ObjectMetadata = replaced ?? {
    contentType: src.record.contentType,
    headers: kept,
    userMeta: src.record.userMeta,
    storageClass: h[AMZ_STORAGE_CLASS] ?? src.record.storageClass,
  }
  const sseOpts = { customerKeyMd5: customerMd5(sse), echoContext: true }
  // Every copy, also an SSE-C object copied onto itself under a new customer key, writes the data
  // again under a fresh object key: whoever held the old key and an old record decrypts nothing
  // of the new version, and the replaced version's blobs go after the commit.
  const algorithm = src.record.checksum?.algorithm ?? 'CRC64NVME'
  const versionId = newVersionId()
  const { oek, encryption } = await newObjectKey(svc, sse, bucketName, key, req, versionId)
  const digesting = readSourceDigesting(svc, src, srcKey, algorithm)
  const part = await writePart(svc, oek, 1, digesting.stream)
  const d = digesting.digests()
  const now = Date.now()
  const etag = etagFor(encryption, d.md5)
  const checksum: ChecksumValue = { algorithm, type: 'FULL_OBJECT', value: d.checksum }
  const rec: ObjectRecord = {
    v: 2,
    bucket: bucketName,
    key,
    versionId,
    size: src.record.size,
    etag,
    lastModified: now,
    ...owned,
    ...meta,
    checksum: storeChecksum({ bucket: bucketName, key, encryption }, oek, checksum),
    encryption,
    parts: [{ partNumber: 1, blobId: part.blobId, size: src.record.size, etag, salt: part.salt, lastModified: now }],
    ...versionLock(bucket, lock, now),
    // COPY keeps the source version's tags, REPLACE takes the request's x-amz-tagging (none without it).
    ...storedTags(tagDirective === 'REPLACE' ? headerTags : src.record.tags),
  }
  const committed = await commitNew(svc, rec, expect, [part.blobId])
  const xml = xmlDocument('CopyObjectResult', {
    ETag: quoteEtag(etag),
    LastModified: isoTime(now),
    ...checksumXml(checksum),
  })
  const headers = {
    ...sseResponseHeaders(encryption, sseOpts),
    ...versionHeaders(bucket, committed),
    ...expirationHeaders(svc, bucket, committed),
    ...copySourceVersionHeaders(src),
  }
  return { status: 200, headers, xml }
}

function checksumXml(c: ChecksumValue | undefined): Record<string, string> {
  return c ? { [`Checksum${c.algorithm}`]: c.value, ChecksumType: c.type } : {}
}
