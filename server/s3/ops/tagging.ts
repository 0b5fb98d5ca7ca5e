/**
 * @module Put/Get/DeleteObjectTagging (per version) and Put/Get/DeleteBucketTagging. Object tags
 * live on the version record and are changed in place with a compare-and-swap on the record read;
 * bucket tags through updateBucket. Tagging reads no object data, so an SSE-C object's tags need no
 * customer key (AWS PutObjectTagging reference).
 */
import { ConflictError } from '../../../storage/errors.js'
import type { ObjectRecord } from '../../../storage/types.js'
import type { S3Request, S3Result, Services } from '../context.js'
import { S3Error } from '../errors.js'
import { placeObject } from '../object-io.js'
import { readSmallBody } from '../request-body.js'
import { parseTaggingXml, taggingXml, type TagSet } from '../tags.js'
import { loadBucket, requireIntegrityHeader } from './common.js'
import { updateBucket } from './bucket-update.js'
import { readableVersion, versionHeaders } from './versioning.js'

/** Rounds of read, change, compare-and-swap before a tag change that keeps losing answers 409. */
const MAX_ATTEMPTS = 10

type KeyOp = { bucket: string; key: string; versionId?: string }

/** Reads and parses a Tagging document; the request's tags are then known to policy conditions. */
async function readTagging(req: S3Request, target: 'object' | 'bucket'): Promise<TagSet> {
  // Like PutBucketEncryption and DeleteObjects, a tagging body must carry Content-MD5 or a checksum.
  requireIntegrityHeader(req.headers)
  const { bytes } = await readSmallBody(req)
  return parseTaggingXml(bytes.toString('utf8'), target)
}

/**
 * Replaces the tags of one version in place: the version is read, changed and committed with
 * `expect.record`, so a concurrent change of the record (an overwrite of the null version, a key
 * rewrap, another tag change) makes this round start over instead of being lost.
 */
async function retag(svc: Services, op: KeyOp, method: string, tags: TagSet | undefined): Promise<ObjectRecord> {
  for (let attempt = 1; ; attempt++) {
    const rec = await readableVersion(svc, op.bucket, op.key, op.versionId, method)
    const next: ObjectRecord = { ...rec }
    if (tags && Object.keys(tags).length > 0) next.tags = tags
    else delete next.tags
    try {
      await svc.meta.commitObject(placeObject(svc, next), { expect: { record: rec } })
      return next
    } catch (err) {
      if (!(err instanceof ConflictError && err.kind === 'precondition')) throw err
      if (attempt >= MAX_ATTEMPTS) throw new S3Error('OperationAborted', { cause: err })
    }
  }
}

export async function putObjectTagging(svc: Services, req: S3Request, op: KeyOp): Promise<S3Result> {
  // The body is read before authorization: s3:RequestObjectTag/<key> conditions judge its tags.
  req.requestTags = await readTagging(req, 'object')
  const bucket = await loadBucket(svc, req, op.bucket)
  const rec = await retag(svc, op, 'PUT', req.requestTags)
  return { status: 200, headers: versionHeaders(bucket, rec) }
}

export async function getObjectTagging(svc: Services, req: S3Request, op: KeyOp): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, op.bucket)
  const rec = await readableVersion(svc, op.bucket, op.key, op.versionId, 'GET')
  return { status: 200, headers: versionHeaders(bucket, rec), xml: taggingXml(rec.tags) }
}

export async function deleteObjectTagging(svc: Services, req: S3Request, op: KeyOp): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, op.bucket)
  const rec = await retag(svc, op, 'DELETE', undefined)
  return { status: 204, headers: versionHeaders(bucket, rec) }
}

export async function putBucketTagging(svc: Services, req: S3Request, bucketName: string): Promise<S3Result> {
  await loadBucket(svc, req, bucketName)
  const tags = await readTagging(req, 'bucket')
  await updateBucket(svc, req, bucketName, (cur) => {
    const next = { ...cur }
    if (Object.keys(tags).length > 0) next.tags = tags
    else delete next.tags
    return next
  })
  return { status: 204 }
}

export async function getBucketTagging(svc: Services, req: S3Request, bucketName: string): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, bucketName)
  if (!bucket.tags) throw new S3Error('NoSuchTagSet', { fields: [['BucketName', bucketName]] })
  return { status: 200, xml: taggingXml(bucket.tags) }
}

export async function deleteBucketTagging(svc: Services, req: S3Request, bucketName: string): Promise<S3Result> {
  await updateBucket(svc, req, bucketName, (cur) => {
    if (!cur.tags) return undefined
    const { tags: _tags, ...rest } = cur
    return rest
  })
  return { status: 204 }
}
