/** @module CompleteMultipartUpload (contract §3.14): the checks in their order, the ETag and checksum of the whole. */
import { createHash } from 'node:crypto'
import type { ObjectRecord, StoredChecksum, UploadPartRecord, UploadRecord } from '../../../storage/types.js'
import { combineCrc, compositeChecksum, type CrcAlgorithm } from '../checksums.js'
import type { S3Request, S3Result, Services } from '../context.js'
import { S3Error, noSuchUpload } from '../errors.js'
import { deleteGarbage, placeObject } from '../object-io.js'
import { readXml } from '../request-body.js'
import { precheckSseC, refuseBlockedSseC, sseResponseHeaders } from '../sse-headers.js'
import { textOf, xmlDocument } from '../xml.js'
import { loadBucket, normalizeEtag, quoteEtag } from './common.js'
import { openUploadKey, partAlgorithm } from './multipart.js'
import { versionHeaders } from './versioning.js'

/** Every part but the last is at least 5 MiB (contract §3.14, MPU-09). */
const MIN_PART_SIZE = 5 * 1024 * 1024

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

function wholeChecksum(up: UploadRecord, parts: UploadPartRecord[]): StoredChecksum {
  const algorithm = partAlgorithm(up)
  const type = up.checksumType ?? 'FULL_OBJECT'
  const values = parts.map((p) => p.checksum ?? '')
  if (type === 'COMPOSITE') return { algorithm, type, value: compositeChecksum(algorithm, values) }
  const value = combineCrc(algorithm as CrcAlgorithm, parts.map((p, i) => ({ value: values[i], size: p.size })))
  return { algorithm, type, value }
}

function resultXml(req: S3Request, rec: ObjectRecord): string {
  const c = rec.checksum
  return xmlDocument('CompleteMultipartUploadResult', {
    Location: `http://${req.host}/${rec.bucket}/${encodeURIComponent(rec.key).replace(/%2F/g, '/')}`,
    Bucket: rec.bucket,
    Key: rec.key,
    ETag: quoteEtag(rec.etag),
    ...(c ? { [`Checksum${c.algorithm}`]: c.value, ChecksumType: c.type } : {}),
  })
}

export async function completeMultipartUpload(svc: Services, req: S3Request, op: { bucket: string; key: string; uploadId: string }): Promise<S3Result> {
  precheckSseC(req.headers, req.secure, { tlsOnly: true })
  const bucket = await loadBucket(svc, req, op.bucket)
  const up = await svc.meta.getUpload(op.bucket, op.key, op.uploadId)
  if (!up) {
    // A repeated Complete after success answers as the first one did (contract §3.14 [C], MPU-18).
    const done = await svc.meta.getObject(op.bucket, op.key)
    if (done && done.multipartUploadId === op.uploadId) {
      return { status: 200, headers: { ...sseResponseHeaders(done.encryption), ...versionHeaders(bucket, done) }, xml: resultXml(req, done) }
    }
    throw noSuchUpload(op.uploadId)
  }
  if (up.encryption.mode === 'SSE-C') {
    refuseBlockedSseC(bucket, 's3:PutObject', up.key)
    // The key is needed only when a checksum algorithm was declared at Create (contract §4.2).
    if (up.checksumAlgorithm) await openUploadKey(svc, req, up, bucket)
  }
  const listed = parseParts(await readXml(req, 'CompleteMultipartUpload'), up)
  if (listed.length === 0) throw new S3Error('InvalidRequest', { message: 'You must specify at least one part' })
  for (let i = 1; i < listed.length; i++) {
    if (listed[i].partNumber <= listed[i - 1].partNumber) throw new S3Error('InvalidPartOrder', { fields: [['UploadId', up.uploadId]] })
  }
  const stored = new Map((await svc.meta.getParts(up.uploadId)).map((p) => [p.partNumber, p]))
  const chosen: UploadPartRecord[] = []
  for (const l of listed) {
    const p = stored.get(l.partNumber)
    if (!p || p.etag !== l.etag || (l.checksum !== undefined && l.checksum !== p.checksum)) {
      throw new S3Error('InvalidPart', { fields: [['UploadId', up.uploadId], ['PartNumber', l.partNumber], ['ETag', l.etag]] })
    }
    chosen.push(p)
  }
  chosen.forEach((p, i) => {
    if (i < chosen.length - 1 && p.size < MIN_PART_SIZE) {
      throw new S3Error('EntityTooSmall', { fields: [['ProposedSize', p.size], ['MinSizeAllowed', MIN_PART_SIZE], ['PartNumber', p.partNumber], ['ETag', p.etag]] })
    }
  })
  const md5 = createHash('md5')
  for (const p of chosen) md5.update(Buffer.from(p.etag, 'hex'))
  const now = Date.now()
  const rec: ObjectRecord = {
    v: 2, bucket: up.bucket, key: up.key, versionId: up.versionId, size: chosen.reduce((n, p) => n + p.size, 0),
    etag: `${md5.digest('hex')}-${chosen.length}`, lastModified: now, ownerAccountId: up.ownerAccountId,
    contentType: up.contentType, headers: up.headers, userMeta: up.userMeta, storageClass: up.storageClass,
    checksum: wholeChecksum(up, chosen), multipartCount: chosen.length, multipartUploadId: up.uploadId,
    encryption: up.encryption,
    parts: chosen.map(({ uploadId: _u, ...part }) => part),
  }
  const { garbage, version } = await svc.meta.commitObject(placeObject(svc, rec), { completeUpload: up.uploadId })
  deleteGarbage(svc, garbage)
  return { status: 200, headers: { ...sseResponseHeaders(up.encryption), ...versionHeaders(bucket, version) }, xml: resultXml(req, rec) }
}
