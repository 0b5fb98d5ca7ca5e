/** @module DeleteObject and DeleteObjects (contract §3.10, §3.11). */
import type { S3Request, S3Result, Services } from '../context.js'
import { S3Error, invalidArgument, toS3Error } from '../errors.js'
import { deleteGarbage } from '../object-io.js'
import { readSmallBody } from '../request-body.js'
import { parseXmlBody, textOf, xmlDocument } from '../xml.js'
import { authorizeKey } from '../policy/authorize.js'
import { checkVersionId } from '../route.js'
import { isOwner, loadBucket, normalizeEtag, requireIntegrityHeader } from './common.js'

export async function deleteObject(svc: Services, req: S3Request, bucketName: string, key: string): Promise<S3Result> {
  checkVersionId(req.query)
  await loadBucket(svc, req, bucketName)
  const ifMatch = req.headers['if-match']
  const expect = ifMatch !== undefined && ifMatch.trim() !== '*' ? { etag: normalizeEtag(ifMatch) } : undefined
  if (ifMatch?.trim() === '*' && !(await svc.meta.getObject(bucketName, key))) {
    throw new S3Error('PreconditionFailed', { fields: [['Condition', 'If-Match']] })
  }
  const { garbage } = await svc.meta.deleteObject(bucketName, key, expect)
  deleteGarbage(svc, garbage)
  return { status: 204 }
}

/** Precondition: at most 1000 keys per DeleteObjects request (contract §3.11, MDEL-04). */
const MAX_DELETE_KEYS = 1000

/** Parses a `<Delete>` body: the keys (with optional ETag conditions) and the Quiet flag. */
export function parseDeleteRequest(text: string): { quiet: boolean; keys: Array<{ key: string; etag?: string; versionId?: string }> } {
  const doc = parseXmlBody(text, 'Delete')
  const objects = doc.Object
  if (!Array.isArray(objects) || objects.length === 0 || objects.length > MAX_DELETE_KEYS) throw new S3Error('MalformedXML')
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
  const deleted: Array<{ Key: string }> = []
  const errors: Array<{ Key: string; Code: string; Message: string }> = []
  for (const { key, etag, versionId } of keys) {
    try {
      // Every object is its key's "null" version (route.ts checkVersionId): another id names none.
      if (versionId !== undefined && versionId !== 'null') throw invalidArgument('Invalid version id specified', 'versionId', versionId)
      // Each key is authorized on its own under the bucket policy (s3:DeleteObject on bucket/key).
      if (!authorizeKey(req, bucket, access, key)) throw new S3Error('AccessDenied')
      const { garbage } = await svc.meta.deleteObject(bucketName, key, etag ? { etag } : undefined)
      deleteGarbage(svc, garbage)
      if (!quiet) deleted.push({ Key: key })
    } catch (err) {
      const e = toS3Error(err)
      if (e.status >= 500) svc.log.error('DeleteObjects entry failed', { requestId: req.requestId, err })
      errors.push({ Key: key, Code: e.code, Message: e.message })
    }
  }
  return { status: 200, xml: xmlDocument('DeleteResult', { Deleted: deleted, Error: errors }) }
}
