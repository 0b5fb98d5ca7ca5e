/**
 * @module Multipart uploads (docs/s3-sse-rules.md §3.14): CreateMultipartUpload, UploadPart, UploadPartCopy,
 * AbortMultipartUpload, ListParts, ListMultipartUploads. Completion lives in multipart-complete.ts.
 */
import { randomBytes } from 'node:crypto'
import { CryptoError } from '../../../crypto/errors.js'
import type { ObjectKey } from '../../../crypto/types.js'
import type {
  BucketRecord,
  ChecksumAlgorithm,
  ChecksumType,
  UploadPartRecord,
  UploadRecord,
} from '../../../storage/types.js'
import { precheckBodyHeaders, storedContentEncoding, verifyBody } from '../body.js'
import { CHECKSUM_ALGORITHMS, createChecksum, type Hasher } from '../checksums.js'
import type { S3Request, S3Result, Services } from '../context.js'
import { S3Error, invalidArgument, noSuchUpload } from '../errors.js'
import { requestedTags, storedTags } from '../tags.js'
import { AMZ_CHECKSUM_ALGORITHM, AMZ_CHECKSUM_TYPE, AMZ_COPY_SOURCE_RANGE } from '../headers.js'
import { deleteGarbage, etagFor, newObjectKey, openObjectKey, writePart } from '../object-io.js'
import { contentLength } from '../request-body.js'
import { canBeUploadId, parsePartNumber, queryValue } from '../route.js'
import {
  precheckSseC,
  refuseBlockedSseC,
  refuseSseOnRead,
  resolveWriteSse,
  sseResponseHeaders,
  uploadCustomerKey,
  type CustomerKey,
} from '../sse-headers.js'
import { partChecksumValue, storePartChecksum } from '../stored-checksums.js'
import { isoTime, xmlDocument } from '../xml.js'
import { canonicalId, checkKeyLength, loadBucket, metadataFromHeaders, quoteEtag, writerOf } from './common.js'
import { newObjectAcl } from '../acl.js'
import {
  copySourceConditions,
  copySourceVersionHeaders,
  openCopySource,
  openSourceKey,
  parseCopySource,
  readSourceDigesting,
} from './copy-source.js'
import { checkBodyLength } from './object-put.js'
import { newVersionId } from '../../../storage/versions.js'
import { lockFromHeaders, requireLockedWriteDigest } from './object-lock.js'

/** Largest part (docs/s3-sse-rules.md §3.14). */
const MAX_PART_SIZE = 5 * 1024 ** 3

/** Upload ids are opaque, URL-safe, and sort in creation order (docs/s3-sse-rules.md §3.14 [I]). */
let lastIdTime = 0
let idCounter = 0
export function newUploadId(): string {
  const now = Date.now()
  idCounter = now === lastIdTime ? idCounter + 1 : 0
  lastIdTime = now
  return `${now.toString(36).padStart(10, '0')}${idCounter.toString(36).padStart(4, '0')}${randomBytes(18).toString('base64url')}`
}

/** The upload `uploadId` of this bucket and key, if there is one; an id no upload can have finds none. */
export async function findUpload(
  svc: Services,
  bucket: string,
  key: string,
  uploadId: string,
): Promise<UploadRecord | undefined> {
  return canBeUploadId(uploadId) ? svc.meta.getUpload(bucket, key, uploadId) : undefined
}

/** Loads an upload of this bucket and key, or 404 NoSuchUpload (MPU-03), whatever the id holds. */
export async function loadUpload(svc: Services, bucket: string, key: string, uploadId: string): Promise<UploadRecord> {
  const up = await findUpload(svc, bucket, key, uploadId)
  if (!up) throw noSuchUpload(uploadId)
  return up
}

/** The checksum algorithm and type an upload declares at Create (docs/s3-sse-rules.md §3.16). */
function declaredChecksum(h: Record<string, string>): { algorithm?: ChecksumAlgorithm; type?: ChecksumType } {
  const alg = h[AMZ_CHECKSUM_ALGORITHM]
  const typeRaw = h[AMZ_CHECKSUM_TYPE]
  if (alg === undefined) {
    if (typeRaw !== undefined)
      throw new S3Error('InvalidRequest', {
        message: 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.',
      })
    return {}
  }
  const algorithm = alg.toUpperCase() as ChecksumAlgorithm
  if (!CHECKSUM_ALGORITHMS.includes(algorithm)) {
    throw new S3Error('InvalidRequest', {
      message:
        'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]',
    })
  }
  const type = (typeRaw?.toUpperCase() ?? (algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE')) as ChecksumType
  if (type !== 'FULL_OBJECT' && type !== 'COMPOSITE')
    throw new S3Error('InvalidRequest', { message: 'Value for x-amz-checksum-type header is invalid.' })
  if (type === 'FULL_OBJECT' && (algorithm === 'SHA1' || algorithm === 'SHA256')) {
    throw new S3Error('InvalidRequest', {
      message: `The FULL_OBJECT checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`,
    })
  }
  if (type === 'COMPOSITE' && algorithm === 'CRC64NVME') {
    throw new S3Error('InvalidRequest', {
      message: 'The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.',
    })
  }
  return { algorithm, type }
}

/** The algorithm parts of an upload are checksummed with (CRC64NVME when none was declared). */
export const partAlgorithm = (up: UploadRecord): ChecksumAlgorithm => up.checksumAlgorithm ?? 'CRC64NVME'

function checksumResponse(up: UploadRecord): Record<string, string> {
  return up.checksumAlgorithm
    ? { [AMZ_CHECKSUM_ALGORITHM]: up.checksumAlgorithm, [AMZ_CHECKSUM_TYPE]: up.checksumType ?? 'COMPOSITE' }
    : {}
}

export async function createMultipartUpload(
  svc: Services,
  req: S3Request,
  bucketName: string,
  key: string,
): Promise<S3Result> {
  const h = req.headers
  checkKeyLength(key)
  precheckSseC(h, req.secure, { write: true, sseHeaderAllowed: true })
  const tags = requestedTags(req)
  const bucket = await loadBucket(svc, req, bucketName)
  const owned = newObjectAcl(h, bucket, writerOf(req, bucket))
  const sse = resolveWriteSse(h, bucket, { secure: req.secure }, 's3:PutObject', key)
  const meta = metadataFromHeaders(h, storedContentEncoding(h))
  const { algorithm, type } = declaredChecksum(h)
  const lock = lockFromHeaders(h, bucket, Date.now())
  const uploadId = newUploadId()
  const versionId = newVersionId()
  const { encryption } = await newObjectKey(svc, sse, bucketName, key, req, versionId)
  const up: UploadRecord = {
    v: 2,
    uploadId,
    bucket: bucketName,
    key,
    versionId,
    initiated: Date.now(),
    ...owned,
    ...meta,
    checksumAlgorithm: algorithm,
    checksumType: type,
    encryption,
    ...storedTags(tags),
    ...(lock?.retention ? { retention: lock.retention } : {}),
    ...(lock?.legalHold ? { legalHold: true } : {}),
  }
  await svc.meta.createUpload(up)
  const xml = xmlDocument('InitiateMultipartUploadResult', { Bucket: bucketName, Key: key, UploadId: uploadId })
  const customerKeyMd5 = sse.mode === 'SSE-C' ? sse.customer.md5 : undefined
  return {
    status: 200,
    headers: { ...sseResponseHeaders(encryption, { customerKeyMd5, echoContext: true }), ...checksumResponse(up) },
    xml,
  }
}

/**
 * The upload's object key for a part write. SSE-C uploads need their key on every part (another
 * key is "did not match", not 403) and a bucket that blocks SSE-C refuses further parts (§4.8, §5.4).
 */
export async function openUploadKey(
  svc: Services,
  req: S3Request,
  up: UploadRecord,
  bucket: BucketRecord,
): Promise<{ oek: ObjectKey; customer?: CustomerKey }> {
  const customer = uploadCustomerKey(req.headers, up.encryption, req.secure)
  if (up.encryption.mode === 'SSE-C') refuseBlockedSseC(bucket, 's3:PutObject', up.key)
  return { oek: await openWithUploadKey(svc, up, customer, req), customer }
}

/** Opens an upload's object key with the key a part request presented; another key is "did not match". */
async function openWithUploadKey(
  svc: Services,
  up: UploadRecord,
  customer: CustomerKey | undefined,
  req: S3Request,
): Promise<ObjectKey> {
  try {
    return await openObjectKey(svc, up.encryption, up, customer, req)
  } catch (err) {
    if (err instanceof CryptoError && err.reason === 'wrong-key') {
      throw new S3Error('InvalidRequest', {
        message: 'The provided encryption parameters did not match the ones used originally.',
      })
    }
    throw err
  }
}

async function storePart(svc: Services, part: UploadPartRecord): Promise<void> {
  let garbage: string[]
  try {
    garbage = (await svc.meta.putPart(part)).garbage
  } catch (err) {
    deleteGarbage(svc, [part.blobId])
    throw err
  }
  deleteGarbage(svc, garbage)
}

export async function uploadPart(
  svc: Services,
  req: S3Request,
  op: { bucket: string; key: string; uploadId: string; partNumber: string },
): Promise<S3Result> {
  const h = req.headers
  const partNumber = parsePartNumber(op.partNumber)
  precheckSseC(h, req.secure, { write: true })
  refuseSseOnRead(h)
  const sent = precheckBodyHeaders(h)
  checkBodyLength(h, MAX_PART_SIZE)
  const bucket = await loadBucket(svc, req, op.bucket)
  const up = await loadUpload(svc, op.bucket, op.key, op.uploadId)
  if (up.retention || up.legalHold || bucket.objectLock?.defaultRetention) requireLockedWriteDigest(h, 'Put Part')
  const algorithm = partAlgorithm(up)
  const { oek, customer } = await openUploadKey(svc, req, up, bucket)
  // UploadPart's BadDigest echoes the Content-MD5 as sent (base64), PutObject's as hex (docs/s3-sse-rules.md §3.16,
  // MD5-04).
  const body = verifyBody(req.incoming, {
    auth: req.auth,
    headers: h,
    contentLength: contentLength(req),
    defaultChecksum: algorithm,
    md5ExpectedAs: 'base64',
  })
  // An upload created without an algorithm takes a part checksum of any algorithm (the SDKs send
  // CRC32 by default) and keeps the part's CRC64NVME too, for the whole object's FULL_OBJECT value.
  const sentAlgorithm = sent.checksum?.algorithm ?? sent.trailer?.algorithm
  const own =
    up.checksumAlgorithm === undefined && sentAlgorithm !== undefined && sentAlgorithm !== algorithm
      ? createChecksum(algorithm)
      : undefined
  const written = await writePart(svc, oek, partNumber, own ? hashing(body.stream, own) : body.stream)
  const d = body.digests()
  if (d.checksum.algorithm !== algorithm && !own) {
    deleteGarbage(svc, [written.blobId])
    throw new S3Error('InvalidRequest', {
      message: `Checksum Type mismatch occurred, expected checksum Type: ${algorithm.toLowerCase()}, actual checksum Type: ${d.checksum.algorithm.toLowerCase()}`,
    })
  }
  const etag = etagFor(up.encryption, d.md5)
  const checksum = d.checksum.algorithm === algorithm ? d.checksum.value : own!.digest().toString('base64')
  await storePart(svc, {
    uploadId: up.uploadId,
    partNumber,
    blobId: written.blobId,
    size: d.size,
    etag,
    salt: written.salt,
    ...storePartChecksum(up, oek, algorithm, partNumber, checksum),
    lastModified: Date.now(),
  })
  const headers: Record<string, string> = {
    ETag: quoteEtag(etag),
    ...sseResponseHeaders(up.encryption, { customerKeyMd5: customer?.md5 }),
  }
  if (up.checksumAlgorithm || sentAlgorithm !== undefined) {
    headers[`x-amz-checksum-${d.checksum.algorithm.toLowerCase()}`] = d.checksum.value
  }
  return { status: 200, headers }
}

/** Passes a stream through while feeding every piece to `hasher`. */
async function* hashing(stream: AsyncIterable<Buffer>, hasher: Hasher): AsyncGenerator<Buffer> {
  for await (const piece of stream) {
    hasher.update(piece)
    yield piece
  }
}

/** `x-amz-copy-source-range: bytes=first-last` against a source of `size` bytes (MPU-15/16). */
function parseCopyRange(raw: string | undefined, size: number): { start: number; end: number } | undefined {
  if (raw === undefined) return undefined
  const m = /^bytes=(\d+)-(\d+)$/.exec(raw.trim())
  if (!m || Number(m[1]) > Number(m[2])) {
    throw invalidArgument(
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      AMZ_COPY_SOURCE_RANGE,
      raw,
    )
  }
  const start = Number(m[1])
  const end = Number(m[2])
  if (end >= size)
    throw invalidArgument(`Range specified is not valid for source object of size: ${size}`, AMZ_COPY_SOURCE_RANGE, raw)
  return { start, end }
}

export async function uploadPartCopy(
  svc: Services,
  req: S3Request,
  op: { bucket: string; key: string; uploadId: string; partNumber: string },
): Promise<S3Result> {
  const h = req.headers
  const partNumber = parsePartNumber(op.partNumber)
  precheckSseC(h, req.secure, { write: true, copySource: true })
  refuseSseOnRead(h)
  const source = parseCopySource(h)
  const bucket = await loadBucket(svc, req, op.bucket)
  const up = await loadUpload(svc, op.bucket, op.key, op.uploadId)
  const src = await openCopySource(svc, req, source)
  const range = parseCopyRange(h[AMZ_COPY_SOURCE_RANGE], src.record.size)
  const size = range ? range.end - range.start + 1 : src.record.size
  if (size > MAX_PART_SIZE)
    throw new S3Error('InvalidRequest', {
      message: 'The specified copy source is larger than the maximum allowable size for a copy source: 5368709120',
    })
  copySourceConditions(h, src.record)
  const algorithm = partAlgorithm(up)
  const { oek, customer } = await openUploadKey(svc, req, up, bucket)
  const srcKey = await openSourceKey(svc, src, req)
  const reading = readSourceDigesting(svc, src, srcKey, algorithm, range)
  const written = await writePart(svc, oek, partNumber, reading.stream)
  const d = reading.digests()
  const now = Date.now()
  const etag = etagFor(up.encryption, d.md5)
  await storePart(svc, {
    uploadId: up.uploadId,
    partNumber,
    blobId: written.blobId,
    size,
    etag,
    salt: written.salt,
    ...storePartChecksum(up, oek, algorithm, partNumber, d.checksum),
    lastModified: now,
  })
  const xml = xmlDocument('CopyPartResult', {
    ETag: quoteEtag(etag),
    LastModified: isoTime(now),
    [`Checksum${algorithm}`]: up.checksumAlgorithm ? d.checksum : undefined,
  })
  return {
    status: 200,
    headers: {
      ...sseResponseHeaders(up.encryption, { customerKeyMd5: customer?.md5 }),
      ...copySourceVersionHeaders(src),
    },
    xml,
  }
}

export async function abortMultipartUpload(
  svc: Services,
  req: S3Request,
  op: { bucket: string; key: string; uploadId: string },
): Promise<S3Result> {
  await loadBucket(svc, req, op.bucket)
  await loadUpload(svc, op.bucket, op.key, op.uploadId)
  const { garbage } = await svc.meta.abortUpload(op.bucket, op.key, op.uploadId)
  deleteGarbage(svc, garbage)
  return { status: 204 }
}

function boundedInt(raw: string | undefined, name: string, dflt: number, max: number): number {
  if (raw === undefined) return dflt
  if (!/^\d+$/.test(raw)) throw invalidArgument(`Provided ${name} not an integer or within integer range`, name, raw)
  return Math.min(Number(raw), max)
}

export async function listParts(
  svc: Services,
  req: S3Request,
  op: { bucket: string; key: string; uploadId: string },
): Promise<S3Result> {
  const maxParts = boundedInt(queryValue(req.query, 'max-parts'), 'max-parts', 1000, 1000)
  const marker = boundedInt(queryValue(req.query, 'part-number-marker'), 'part-number-marker', 0, 10000)
  precheckSseC(req.headers, req.secure, { tlsOnly: true })
  await loadBucket(svc, req, op.bucket)
  const up = await loadUpload(svc, op.bucket, op.key, op.uploadId)
  // Like Complete, ListParts needs the SSE-C key only when a checksum algorithm was declared, as on AWS:
  // then it answers the part checksums, which it opens with the key (crypto/README.md §10).
  const oek =
    up.encryption.mode === 'SSE-C' && up.checksumAlgorithm
      ? await openWithUploadKey(svc, up, uploadCustomerKey(req.headers, up.encryption, req.secure), req)
      : undefined
  const { parts, isTruncated } =
    maxParts === 0
      ? { parts: [], isTruncated: false }
      : await svc.meta.listParts(up.uploadId, { after: marker, limit: maxParts })
  const owner = { ID: canonicalId(up.ownerAccountId) }
  const xml = xmlDocument('ListPartsResult', {
    Bucket: op.bucket,
    Key: op.key,
    UploadId: up.uploadId,
    Initiator: { ID: canonicalId(up.ownerAccountId), DisplayName: up.ownerAccountId },
    Owner: owner,
    StorageClass: up.storageClass,
    PartNumberMarker: marker,
    NextPartNumberMarker: parts.length ? parts[parts.length - 1].partNumber : marker,
    MaxParts: maxParts,
    IsTruncated: isTruncated,
    ChecksumAlgorithm: up.checksumAlgorithm,
    ChecksumType: up.checksumType,
    Part: parts.map((p) => ({
      PartNumber: p.partNumber,
      LastModified: isoTime(p.lastModified),
      ETag: quoteEtag(p.etag),
      Size: p.size,
      [`Checksum${partAlgorithm(up)}`]: up.checksumAlgorithm
        ? partChecksumValue(up, p, partAlgorithm(up), oek)
        : undefined,
    })),
  })
  return { status: 200, xml }
}

export async function listMultipartUploads(svc: Services, req: S3Request, bucketName: string): Promise<S3Result> {
  const q = req.query
  const maxUploads = boundedInt(queryValue(q, 'max-uploads'), 'max-uploads', 1000, 1000)
  const prefix = queryValue(q, 'prefix') ?? ''
  const delimiterRaw = queryValue(q, 'delimiter')
  const delimiter = delimiterRaw === '' ? undefined : delimiterRaw
  const keyMarker = queryValue(q, 'key-marker') || undefined
  const uploadIdMarker = keyMarker ? queryValue(q, 'upload-id-marker') || undefined : undefined
  await loadBucket(svc, req, bucketName)
  if (keyMarker && uploadIdMarker && !(await findUpload(svc, bucketName, keyMarker, uploadIdMarker))) {
    throw invalidArgument('Invalid uploadId marker', 'upload-id-marker', uploadIdMarker)
  }
  const res =
    maxUploads === 0
      ? { entries: [], isTruncated: false }
      : await svc.meta.listUploads(bucketName, {
          prefix: prefix || undefined,
          delimiter,
          keyMarker,
          uploadIdMarker,
          limit: maxUploads,
        })
  const xml = xmlDocument('ListMultipartUploadsResult', {
    Bucket: bucketName,
    KeyMarker: keyMarker ?? '',
    UploadIdMarker: uploadIdMarker ?? '',
    NextKeyMarker: res.nextKeyMarker,
    NextUploadIdMarker: res.nextUploadIdMarker,
    Prefix: prefix || undefined,
    Delimiter: delimiter,
    MaxUploads: maxUploads,
    IsTruncated: res.isTruncated,
    Upload: res.entries.flatMap((e) =>
      e.kind === 'upload'
        ? [
            {
              Key: e.record.key,
              UploadId: e.record.uploadId,
              Initiator: { ID: canonicalId(e.record.ownerAccountId), DisplayName: e.record.ownerAccountId },
              Owner: { ID: canonicalId(e.record.ownerAccountId) },
              StorageClass: e.record.storageClass,
              Initiated: isoTime(e.record.initiated),
              ChecksumAlgorithm: e.record.checksumAlgorithm,
              ChecksumType: e.record.checksumType,
            },
          ]
        : [],
    ),
    CommonPrefixes: res.entries.flatMap((e) => (e.kind === 'prefix' ? [{ Prefix: e.prefix }] : [])),
  })
  return { status: 200, xml }
}
