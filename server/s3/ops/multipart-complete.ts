/**
 * @module CompleteMultipartUpload (docs/s3-sse-rules.md §3.14): the checks in their order, the ETag and checksum of the
 * whole.
 */
import { createHash } from 'node:crypto'
import { ConflictError } from '../../../storage/errors.js'
import type { ObjectKey } from '../../../crypto/types.js'
import type {
  ChecksumValue,
  ObjectRecord,
  StoredChecksum,
  UploadPartRecord,
  UploadRecord,
} from '../../../storage/types.js'
import type { S3Request, S3Result, Services } from '../context.js'
import { S3Error, noSuchUpload } from '../errors.js'
import { deleteGarbage, openObjectKey, placeObject } from '../object-io.js'
import { readXml } from '../request-body.js'
import {
  precheckSseC,
  presentsCustomerKey,
  refuseBlockedSseC,
  sseResponseHeaders,
  uploadCustomerKey,
} from '../sse-headers.js'
import { checksumValue, combinePartChecksums, partChecksumValue, storeChecksum } from '../stored-checksums.js'
import { textOf, xmlDocument } from '../xml.js'
import { loadBucket, normalizeEtag, quoteEtag } from './common.js'
import { findUpload, openUploadKey, partAlgorithm } from './multipart.js'
import { expirationHeaders } from './lifecycle.js'
import { conditionalConflict, precheckExpectation, writeExpectation } from './object-put.js'
import { checksumMismatch, parseChecksumHeaders, type SentChecksum } from '../checksums.js'
import { AMZ_CHECKSUM_TYPE } from '../headers.js'
import { versionHeaders } from './versioning.js'
import { versionLock } from './object-lock.js'

/** Every part but the last is at least 5 MiB (docs/s3-sse-rules.md §3.14, MPU-09). */
const MIN_PART_SIZE = 5 * 1024 * 1024
/** Commits tried when re-uploads of listed parts keep landing between the part read and the commit. */
const MAX_COMMIT_ATTEMPTS = 5

interface ListedPart {
  partNumber: number
  etag: string
  checksum?: string
}

/** The `<Part>` list of a CompleteMultipartUpload body (exported for the fuzz tests). */
export function parseParts(doc: Record<string, unknown>, up: UploadRecord): ListedPart[] {
  const raw = doc.Part
  if (raw === undefined) throw new S3Error('InvalidRequest', { message: 'You must specify at least one part' })
  if (!Array.isArray(raw)) throw new S3Error('MalformedXML')
  const checksumName = `Checksum${partAlgorithm(up)}`
  return raw.map((p) => {
    if (typeof p !== 'object' || p === null) throw new S3Error('MalformedXML')
    const el = p as Record<string, unknown>
    const num = textOf(el, 'PartNumber')?.trim()
    const etag = textOf(el, 'ETag')
    if (!num || !/^\d+$/.test(num) || etag === undefined) throw new S3Error('MalformedXML')
    return { partNumber: Number(num), etag: normalizeEtag(etag), checksum: textOf(el, checksumName) }
  })
}

/**
 * The whole object's checksum from its parts', and how its record keeps it. An SSE-C upload's part
 * checksums are sealed (crypto/README.md §10): with its object key `oek` the whole checksum is
 * combined and sealed now; without it the record keeps algorithm and type only, and the value is
 * combined from the sealed part checksums by a read that presents the key.
 */
function wholeChecksum(
  up: UploadRecord,
  parts: UploadPartRecord[],
  oek: ObjectKey | undefined,
): { stored: StoredChecksum; value?: ChecksumValue } {
  const algorithm = partAlgorithm(up)
  const type = up.checksumType ?? 'FULL_OBJECT'
  const values: Array<{ value: string; size: number }> = []
  for (const p of parts) {
    const value = partChecksumValue(up, p, algorithm, oek)
    if (value === undefined) return { stored: { algorithm, type } }
    values.push({ value, size: p.size })
  }
  const value = combinePartChecksums(algorithm, type, values)
  return { stored: oek ? storeChecksum(up, oek, value) : value, value }
}

function resultXml(req: S3Request, rec: ObjectRecord, c: ChecksumValue | undefined): string {
  return xmlDocument('CompleteMultipartUploadResult', {
    Location: `http://${req.host}/${rec.bucket}/${encodeURIComponent(rec.key).replace(/%2F/g, '/')}`,
    Bucket: rec.bucket,
    Key: rec.key,
    ETag: quoteEtag(rec.etag),
    ...(c ? { [`Checksum${c.algorithm}`]: c.value, ChecksumType: c.type } : {}),
  })
}

export async function completeMultipartUpload(
  svc: Services,
  req: S3Request,
  op: { bucket: string; key: string; uploadId: string },
): Promise<S3Result> {
  precheckSseC(req.headers, req.secure, { tlsOnly: true })
  const bucket = await loadBucket(svc, req, op.bucket)
  const up = await findUpload(svc, op.bucket, op.key, op.uploadId)
  if (!up) {
    // A repeated Complete after success answers as the first one did (docs/s3-sse-rules.md §3.14 [C], MPU-18).
    const done = await svc.meta.getObject(op.bucket, op.key)
    if (done && done.multipartUploadId === op.uploadId) {
      // An SSE-C object's checksum is sealed: answered again only to a request with the key.
      const oek =
        done.encryption.mode === 'SSE-C' && presentsCustomerKey(req.headers)
          ? await openObjectKey(
              svc,
              done.encryption,
              done,
              uploadCustomerKey(req.headers, done.encryption, req.secure),
              req,
            )
          : undefined
      const headers = {
        ...sseResponseHeaders(done.encryption),
        ...versionHeaders(bucket, done),
        ...expirationHeaders(svc, bucket, done),
      }
      return { status: 200, headers, xml: resultXml(req, done, checksumValue(done, oek)) }
    }
    throw noSuchUpload(op.uploadId)
  }
  let oek: ObjectKey | undefined
  if (up.encryption.mode === 'SSE-C') {
    refuseBlockedSseC(bucket, 's3:PutObject', up.key)
    // The key is needed only when a checksum algorithm was declared at Create (the part checksums are then checked
    // against the sealed ones);
    // when sent anyway it opens the sealed part checksums, so the answer carries the checksum.
    if (up.checksumAlgorithm || presentsCustomerKey(req.headers)) oek = (await openUploadKey(svc, req, up, bucket)).oek
  }
  const sent = sentWholeChecksum(req.headers, up)
  if (sent && up.encryption.mode === 'SSE-C' && !oek) oek = (await openUploadKey(svc, req, up, bucket)).oek
  const conditions = writeExpectation(req.headers)
  const listed = parseParts(await readXml(req, 'CompleteMultipartUpload', { objectChecksum: true }), up)
  if (listed.length === 0) throw new S3Error('InvalidRequest', { message: 'You must specify at least one part' })
  // Part checksums listed for an SSE-C upload can be compared only with the key: it is required then.
  if (up.encryption.mode === 'SSE-C' && !oek && listed.some((l) => l.checksum !== undefined))
    oek = (await openUploadKey(svc, req, up, bucket)).oek
  for (let i = 1; i < listed.length; i++) {
    if (listed[i].partNumber <= listed[i - 1].partNumber)
      throw new S3Error('InvalidPartOrder', { fields: [['UploadId', up.uploadId]] })
  }
  // The parts are read outside the key's lock, so a re-upload of a listed part may land between
  // this read and the commit. The store commits only over the exact parts read (else
  // ConflictError 'concurrent-change'), and the Complete is then decided again on the parts as
  // they are now — answered as S3 answers a Complete that arrives after the re-upload (a re-upload
  // overwrites the part, AWS UploadPart docs): the listed ETag still matching (the same bytes)
  // completes with the new part, another ETag is 400 InvalidPart. Each retry needs yet another
  // re-upload in its window; after MAX_COMMIT_ATTEMPTS the conflict answers 409 OperationAborted.
  // If-None-Match: * / If-Match are checked here and again in the commit's atomic section.
  const expect = await precheckExpectation(svc, op.bucket, op.key, conditions)
  for (let attempt = 1; ; attempt++) {
    const completed = completedRecord(up, listed, await svc.meta.getParts(up.uploadId), oek)
    const checksum = completed.checksum
    if (sent) checkWholeChecksum(sent, checksum)
    // Lock headers given at Create, else the bucket's default retention counted from the Complete.
    const rec: ObjectRecord = { ...completed.rec, ...versionLock(bucket, up, completed.rec.lastModified) }
    try {
      const { garbage, version } = await svc.meta.commitObject(placeObject(svc, rec), {
        completeUpload: up.uploadId,
        expect,
      })
      deleteGarbage(svc, garbage)
      return {
        status: 200,
        headers: {
          ...sseResponseHeaders(up.encryption),
          ...versionHeaders(bucket, version),
          ...expirationHeaders(svc, bucket, version),
        },
        xml: resultXml(req, rec, checksum),
      }
    } catch (err) {
      if (!(err instanceof ConflictError && err.kind === 'concurrent-change') || attempt >= MAX_COMMIT_ATTEMPTS)
        throw conditionalConflict(err, expect)
    }
  }
}

/**
 * The `x-amz-checksum-*` header of a Complete: the checksum of the whole object, of the upload's
 * algorithm (400 InvalidRequest otherwise); `x-amz-checksum-type`, when sent, must be the upload's.
 */
function sentWholeChecksum(h: Record<string, string>, up: UploadRecord): SentChecksum | undefined {
  const sent = parseChecksumHeaders(h)
  const type = h[AMZ_CHECKSUM_TYPE]?.toUpperCase()
  const upType = up.checksumType ?? 'FULL_OBJECT'
  if (type !== undefined && up.checksumAlgorithm && type !== upType) {
    throw new S3Error('InvalidRequest', {
      message: `The upload was created using the ${upType} checksum mode. The complete request must use the same checksum mode.`,
    })
  }
  if (sent && sent.algorithm !== partAlgorithm(up)) {
    throw new S3Error('InvalidRequest', {
      message: `The upload was created using the ${partAlgorithm(up).toLowerCase()} checksum algorithm. The complete request must use the same checksum algorithm.`,
    })
  }
  return sent
}

/** The sent whole-object checksum must be the one the parts make (COMPOSITE: without the `-N` suffix). */
function checkWholeChecksum(sent: SentChecksum, computed: ChecksumValue | undefined): void {
  const bare = computed?.value.replace(/-\d+$/, '')
  if (bare !== sent.value) throw checksumMismatch(sent.algorithm)
}

/**
 * The object a Complete of `listed` makes from the upload's current `parts`. InvalidPart when a
 * listed part is missing or has another ETag or checksum; EntityTooSmall for a part under 5 MiB
 * that is not the last.
 */
function completedRecord(
  up: UploadRecord,
  listed: ListedPart[],
  parts: UploadPartRecord[],
  oek: ObjectKey | undefined,
): { rec: ObjectRecord; checksum?: ChecksumValue } {
  const stored = new Map(parts.map((p) => [p.partNumber, p]))
  const chosen: UploadPartRecord[] = []
  for (const l of listed) {
    const p = stored.get(l.partNumber)
    if (
      !p ||
      p.etag !== l.etag ||
      (l.checksum !== undefined && l.checksum !== partChecksumValue(up, p, partAlgorithm(up), oek))
    ) {
      throw new S3Error('InvalidPart', {
        fields: [
          ['UploadId', up.uploadId],
          ['PartNumber', l.partNumber],
          ['ETag', l.etag],
        ],
      })
    }
    chosen.push(p)
  }
  chosen.forEach((p, i) => {
    if (i < chosen.length - 1 && p.size < MIN_PART_SIZE) {
      throw new S3Error('EntityTooSmall', {
        fields: [
          ['ProposedSize', p.size],
          ['MinSizeAllowed', MIN_PART_SIZE],
          ['PartNumber', p.partNumber],
          ['ETag', p.etag],
        ],
      })
    }
  })
  const md5 = createHash('md5')
  for (const p of chosen) md5.update(Buffer.from(p.etag, 'hex'))
  const checksum = wholeChecksum(up, chosen, oek)
  const rec: ObjectRecord = {
    v: 2,
    bucket: up.bucket,
    key: up.key,
    versionId: up.versionId,
    size: chosen.reduce((n, p) => n + p.size, 0),
    etag: `${md5.digest('hex')}-${chosen.length}`,
    lastModified: Date.now(),
    ownerAccountId: up.ownerAccountId,
    contentType: up.contentType,
    headers: up.headers,
    userMeta: up.userMeta,
    storageClass: up.storageClass,
    checksum: checksum.stored,
    multipartCount: chosen.length,
    multipartUploadId: up.uploadId,
    encryption: up.encryption,
    ...(up.acl ? { acl: up.acl } : {}),
    parts: chosen.map(({ uploadId: _u, ...part }) => part),
    ...(up.tags ? { tags: up.tags } : {}),
  }
  return { rec, checksum: checksum.value }
}
