/** @module The read side of CopyObject and UploadPartCopy: x-amz-copy-source, its conditions and range. */
import { createHash } from 'node:crypto'
import type { BucketRecord, ChecksumAlgorithm, ObjectRecord } from '../../../storage/types.js'
import { createChecksum } from '../checksums.js'
import type { S3Request, Services } from '../context.js'
import { S3Error, invalidArgument } from '../errors.js'
import {
  AMZ_COPY_SOURCE,
  AMZ_COPY_SOURCE_VERSION_ID,
  AMZ_COPY_SOURCE_IF_MATCH,
  AMZ_COPY_SOURCE_IF_MODIFIED_SINCE,
  AMZ_COPY_SOURCE_IF_NONE_MATCH,
  AMZ_COPY_SOURCE_IF_UNMODIFIED_SINCE,
} from '../headers.js'
import { openObjectKey, readPlaintext, type KeyOpContext } from '../object-io.js'
import type { ObjectKey } from '../../../crypto/types.js'
import { readCustomerKey, type CustomerKey } from '../sse-headers.js'
import { loadBucket } from './common.js'
import { objectAclOf } from './acl.js'
import { checkConditions } from './object-get.js'
import { parseVersionId, readableVersion } from './versioning.js'
import { externalVersionId } from '../../../storage/versions.js'

export interface CopySource {
  bucket: string
  key: string
  /** `?versionId=` of the copy source: "null" or a version id (absent = the current version). */
  versionId?: string
}

/**
 * Parses `x-amz-copy-source: [/]<bucket>/<url-encoded key>[?versionId=…]` (docs/s3-sse-rules.md §3.13): the
 * versionId is split off before the key is decoded, once.
 */
export function parseCopySource(h: Record<string, string>): CopySource {
  const raw = h[AMZ_COPY_SOURCE] ?? ''
  const invalid = () => invalidArgument('Invalid copy source object key', AMZ_COPY_SOURCE, raw)
  let s = raw.startsWith('/') ? raw.slice(1) : raw
  let versionId: string | undefined
  const q = s.indexOf('?')
  if (q >= 0) {
    const params = new URLSearchParams(s.slice(q + 1))
    const version = params.get('versionId')
    if (version !== null) versionId = parseVersionId(version)
    s = s.slice(0, q)
  }
  const slash = s.indexOf('/')
  if (slash <= 0 || slash === s.length - 1) throw invalid()
  let key: string
  try {
    key = decodeURIComponent(s.slice(slash + 1))
  } catch {
    throw invalid()
  }
  const bucket = s.slice(0, slash)
  if (!bucket || !key) throw invalid()
  return { bucket, key, versionId }
}

export interface OpenedSource {
  bucket: BucketRecord
  record: ObjectRecord
  /** The source's customer key (copy-source trio), for an SSE-C source. */
  customer?: CustomerKey
}

/**
 * Loads the source bucket and object the caller may read (NoSuchBucket / NoSuchKey, §3.13) and
 * checks the copy-source SSE-C trio against the source's mode (§4.8 "CopyObject"). The source's
 * blobs are held until the request ends, so an overwrite of the source cannot delete them.
 */
export async function openCopySource(svc: Services, req: S3Request, src: CopySource): Promise<OpenedSource> {
  // The source is read: s3:GetObject on it, under the source bucket's policy (docs/s3-sse-rules.md §5.6).
  const action = src.versionId !== undefined ? 's3:GetObjectVersion' : 's3:GetObject'
  // Where the source bucket allows ACLs, the source object's ACL may grant the read.
  const bucket = await loadBucket(
    svc,
    req,
    src.bucket,
    { action, key: src.key, source: true },
    objectAclOf(svc, src.bucket, src.key, src.versionId),
  )
  const record = await readableVersion(
    svc,
    src.bucket,
    src.key,
    src.versionId,
    req.method,
    { copySource: true, hold: req },
    req,
  )
  const customer = readCustomerKey(req.headers, record.encryption, req.secure, true)
  return { bucket, record, customer }
}

/** `x-amz-copy-source-version-id`: the version read, once the source bucket has had versioning. */
export function copySourceVersionHeaders(src: OpenedSource): Record<string, string> {
  return src.bucket.versioning === undefined ? {} : { [AMZ_COPY_SOURCE_VERSION_ID]: externalVersionId(src.record) }
}

/** Opens the source's object key (SSE-C: with the copy-source key, 403 if wrong; SSE-KMS: KMS Decrypt). */
export function openSourceKey(svc: Services, src: OpenedSource, ctx?: KeyOpContext): Promise<ObjectKey> {
  return openObjectKey(svc, src.record.encryption, src.record, src.customer, ctx)
}

/** x-amz-copy-source-if-* (docs/s3-sse-rules.md §3.13): evaluated like GET's conditions, but never 304: 412. */
export function copySourceConditions(h: Record<string, string>, rec: ObjectRecord): void {
  const mapped: Record<string, string> = {}
  const pairs: Array<[string, string]> = [
    [AMZ_COPY_SOURCE_IF_MATCH, 'if-match'],
    [AMZ_COPY_SOURCE_IF_NONE_MATCH, 'if-none-match'],
    [AMZ_COPY_SOURCE_IF_MODIFIED_SINCE, 'if-modified-since'],
    [AMZ_COPY_SOURCE_IF_UNMODIFIED_SINCE, 'if-unmodified-since'],
  ]
  for (const [from, to] of pairs) if (h[from] !== undefined) mapped[to] = h[from]
  if (Object.keys(mapped).length === 0) return
  let outcome: string
  try {
    outcome = checkConditions(mapped, rec)
  } catch (err) {
    if (err instanceof S3Error)
      throw new S3Error('PreconditionFailed', {
        fields: [['Condition', `x-amz-copy-source-${String(err.fields[0]?.[1] ?? '').toLowerCase()}`]],
      })
    throw err
  }
  if (outcome === 'not-modified') {
    const cond =
      mapped['if-none-match'] !== undefined ? AMZ_COPY_SOURCE_IF_NONE_MATCH : AMZ_COPY_SOURCE_IF_MODIFIED_SINCE
    throw new S3Error('PreconditionFailed', { fields: [['Condition', cond]] })
  }
}

export interface DigestingRead {
  stream: AsyncGenerator<Buffer>
  /** Valid after the stream completed: MD5 (hex) and the checksum (base64) of what was read. */
  digests(): { md5: string; checksum: string }
}

/** Reads the source's plaintext (or a range of it), computing MD5 and a checksum on the way. */
export function readSourceDigesting(
  svc: Services,
  src: OpenedSource,
  oek: ObjectKey,
  algorithm: ChecksumAlgorithm,
  range?: { start: number; end: number },
): DigestingRead {
  const md5 = createHash('md5')
  const sum = createChecksum(algorithm)
  let result: { md5: string; checksum: string } | undefined
  async function* stream(): AsyncGenerator<Buffer> {
    for await (const chunk of readPlaintext(svc, oek, src.record.parts, range)) {
      md5.update(chunk)
      sum.update(chunk)
      yield chunk
    }
    result = { md5: md5.digest('hex'), checksum: sum.digest().toString('base64') }
  }
  return {
    stream: stream(),
    digests() {
      if (!result) throw new Error('Precondition: the copy source was read to its end')
      return result
    },
  }
}
