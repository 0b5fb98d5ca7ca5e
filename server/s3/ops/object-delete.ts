/** @module DeleteObject and DeleteObjects (docs/s3-sse-rules.md §3.10, §3.11). */
import type { S3Request, S3Result, Services } from '../context.js'
import { S3Error, toS3Error } from '../errors.js'
import { deleteGarbage } from '../object-io.js'
import { readSmallBody } from '../request-body.js'
import { parseXmlBody, textOf, xmlDocument, type XmlObject } from '../xml.js'
import type { DeleteResult } from '../../../storage/types.js'
import { externalVersionId } from '../../../storage/versions.js'
import { AMZ_DELETE_MARKER, AMZ_VERSION_ID } from '../headers.js'
import { queryValue } from '../route.js'
import { parseVersionId } from './versioning.js'
import { authorizeKey } from '../policy/authorize.js'
import { isOwner, loadBucket, normalizeEtag, requireIntegrityHeader } from './common.js'
import { bypassGovernance } from './object-lock.js'

/** What a delete answers about versions: the marker it made, or the version it removed. */
function deleteOutcome(
  versionId: string | undefined,
  r: DeleteResult,
): { versionId?: string; marker?: true; markerVersionId?: string } {
  if (r.marker) return { marker: true, markerVersionId: externalVersionId(r.marker) }
  if (versionId === undefined) return {}
  return r.removed?.deleteMarker ? { versionId, marker: true, markerVersionId: versionId } : { versionId }
}

export async function deleteObject(svc: Services, req: S3Request, bucketName: string, key: string): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, bucketName)
  const versionId = parseVersionId(queryValue(req.query, 'versionId'))
  const ifMatch = req.headers['if-match']
  const expect = ifMatch !== undefined && ifMatch.trim() !== '*' ? { etag: normalizeEtag(ifMatch) } : undefined
  if (ifMatch?.trim() === '*' && !(await svc.meta.getObject(bucketName, key))) {
    throw new S3Error('PreconditionFailed', { fields: [['Condition', 'If-Match']] })
  }
  // A version Object Lock holds is refused by the store, in the delete's own atomic section.
  const bypass = versionId !== undefined && bypassGovernance(svc, req, bucket, key)
  const result = await svc.meta.deleteObject(bucketName, key, { ...expect, versionId, bypassGovernance: bypass })
  deleteGarbage(svc, result.garbage)
  const out = deleteOutcome(versionId, result)
  const headers: Record<string, string> = {}
  if (out.marker) headers[AMZ_DELETE_MARKER] = 'true'
  const shownId = out.versionId ?? out.markerVersionId
  if (shownId !== undefined) headers[AMZ_VERSION_ID] = shownId
  return { status: 204, headers }
}

/** Precondition: at most 1000 keys per DeleteObjects request (docs/s3-sse-rules.md §3.11, MDEL-04). */
const MAX_DELETE_KEYS = 1000

/** Parses a `<Delete>` body: the keys (with optional ETag conditions) and the Quiet flag. */
export function parseDeleteRequest(text: string): {
  quiet: boolean
  keys: Array<{ key: string; etag?: string; versionId?: string }>
} {
  const doc = parseXmlBody(text, 'Delete')
  const objects = doc.Object
  if (!Array.isArray(objects) || objects.length === 0 || objects.length > MAX_DELETE_KEYS)
    throw new S3Error('MalformedXML')
  const quiet = textOf(doc, 'Quiet')?.trim().toLowerCase() === 'true'
  const keys = objects.map((o) => {
    if (typeof o !== 'object' || o === null) throw new S3Error('MalformedXML')
    const key = textOf(o as Record<string, unknown>, 'Key')
    if (key === undefined || key === '') throw new S3Error('MalformedXML')
    const etag = textOf(o as Record<string, unknown>, 'ETag')
    const versionId = textOf(o as Record<string, unknown>, 'VersionId')
    return { key, etag: etag === undefined ? undefined : normalizeEtag(etag), versionId }
  })
  return { quiet, keys }
}

export async function deleteObjects(svc: Services, req: S3Request, bucketName: string): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, bucketName)
  const access = { owner: isOwner(bucket, req.principal), region: svc.config.region, audit: svc.audit }
  const h = req.headers
  requireIntegrityHeader(h)
  const { bytes } = await readSmallBody(req)
  const { quiet, keys } = parseDeleteRequest(bytes.toString('utf8'))
  const deleted: XmlObject[] = []
  const errors: XmlObject[] = []
  for (const { key, etag, versionId: versionIdRaw } of keys) {
    try {
      const versionId = parseVersionId(versionIdRaw)
      // Each key is authorized on its own under the bucket policy (s3:DeleteObject[Version] on bucket/key).
      const action = versionId !== undefined ? 's3:DeleteObjectVersion' : 's3:DeleteObject'
      if (!authorizeKey(req, bucket, access, key, action)) throw new S3Error('AccessDenied')
      const bypass = versionId !== undefined && bypassGovernance(svc, req, bucket, key)
      const result = await svc.meta.deleteObject(bucketName, key, { etag, versionId, bypassGovernance: bypass })
      deleteGarbage(svc, result.garbage)
      const out = deleteOutcome(versionId, result)
      if (!quiet)
        deleted.push({
          Key: key,
          VersionId: out.versionId,
          DeleteMarker: out.marker,
          DeleteMarkerVersionId: out.markerVersionId,
        })
    } catch (err) {
      const e = toS3Error(err)
      if (e.status >= 500) svc.log.error('DeleteObjects entry failed', { requestId: req.requestId, err })
      errors.push({ Key: key, VersionId: versionIdRaw, Code: e.code, Message: e.message })
    }
  }
  return { status: 200, xml: xmlDocument('DeleteResult', { Deleted: deleted, Error: errors }) }
}
