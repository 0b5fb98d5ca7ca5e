/**
 * @module Put/GetBucketAcl and Put/GetObjectAcl (S3 API reference). ACLs are read from `x-amz-acl`,
 * the `x-amz-grant-*` headers or an AccessControlPolicy body (acl.ts); under BucketOwnerEnforced
 * setting one answers AccessControlListNotSupported and reading one shows the bucket owner's
 * FULL_CONTROL only, as S3 answers. An object's ACL is changed by replacing its version in place
 * with a compare-and-swap on the record read.
 */
import { ConflictError } from '../../../storage/errors.js'
import type { AclGrant, BucketRecord, ObjectRecord } from '../../../storage/types.js'
import {
  AMZ_ACL,
  aclDocument,
  aclFromHeaders,
  aclsEnabled,
  canonicalId,
  hasAclHeaders,
  parseAccessControlPolicy,
  privateAcl,
  refusePublicAcl,
  sameGrants,
  type AclTarget,
} from '../acl.js'
import type { S3Request, S3Result, Services } from '../context.js'
import { S3Error } from '../errors.js'
import type { ObjectAcl } from '../policy/authorize.js'
import { contentLength, readSmallBody } from '../request-body.js'
import { xmlDocument } from '../xml.js'
import { updateBucket } from './bucket-update.js'
import { loadBucket } from './common.js'
import { parseVersionId, readableVersion } from './versioning.js'

/** Attempts before an object ACL change that keeps losing to concurrent writes of the version gives up. */
const MAX_ATTEMPTS = 20

/**
 * The ACL a PutBucketAcl / PutObjectAcl asks for: from its headers or from its body, not both
 * (UnexpectedContent) and not neither (MissingSecurityHeader). A body's Owner must be the owner.
 */
async function requestedAcl(
  req: S3Request,
  target: AclTarget,
  owner: string,
  bucketOwner: string,
): Promise<AclGrant[]> {
  const headers = hasAclHeaders(req.headers)
  const hasBody = (contentLength(req) ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined
  const bytes = hasBody ? (await readSmallBody(req)).bytes : Buffer.alloc(0)
  if (headers && bytes.length > 0) throw new S3Error('UnexpectedContent')
  if (headers) return aclFromHeaders(req.headers, target, owner, bucketOwner)!
  if (bytes.length === 0) throw new S3Error('MissingSecurityHeader', { fields: [['MissingHeaderName', AMZ_ACL]] })
  const policy = parseAccessControlPolicy(bytes.toString('utf8'))
  if (policy.ownerId !== undefined && policy.ownerId !== canonicalId(owner)) throw new S3Error('AccessDenied')
  return policy.grants
}

/** What is stored: nothing for the private ACL, so records stay as they were. */
const stored = (grants: AclGrant[], owner: string): AclGrant[] | undefined =>
  sameGrants(grants, privateAcl(owner)) ? undefined : grants

export async function putBucketAcl(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, name)
  if (!aclsEnabled(bucket)) throw new S3Error('AccessControlListNotSupported')
  const grants = await requestedAcl(req, 'bucket', bucket.ownerAccountId, bucket.ownerAccountId)
  await updateBucket(svc, req, name, (current) => {
    if (!aclsEnabled(current)) throw new S3Error('AccessControlListNotSupported')
    refusePublicAcl(current, grants)
    return { ...current, acl: stored(grants, current.ownerAccountId) }
  })
  return { status: 200 }
}

export async function getBucketAcl(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, name)
  return {
    status: 200,
    xml: xmlDocument(
      'AccessControlPolicy',
      aclDocument(bucket.ownerAccountId, aclsEnabled(bucket) ? bucket.acl : undefined),
    ),
  }
}

/** The ACL of the version a request addresses, for authorization (undefined if there is none). */
export function objectAclOf(
  svc: Services,
  bucket: string,
  key: string,
  versionIdRaw: string | undefined,
): () => Promise<ObjectAcl | undefined> {
  return async () => {
    let versionId: string | undefined
    try {
      versionId = parseVersionId(versionIdRaw)
    } catch {
      return undefined
    }
    const rec = await svc.meta.getVersion(bucket, key, versionId)
    return rec && !rec.deleteMarker ? { ownerAccountId: rec.ownerAccountId, acl: rec.acl } : undefined
  }
}

/** Under BucketOwnerEnforced every object is the bucket owner's, with no other grant. */
function effectiveObjectAcl(bucket: BucketRecord, rec: ObjectRecord): { owner: string; acl?: AclGrant[] } {
  return aclsEnabled(bucket) ? { owner: rec.ownerAccountId, acl: rec.acl } : { owner: bucket.ownerAccountId }
}

export async function getObjectAcl(
  svc: Services,
  req: S3Request,
  name: string,
  key: string,
  versionId?: string,
): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, name, undefined, objectAclOf(svc, name, key, versionId))
  const rec = await readableVersion(svc, name, key, versionId, req.method)
  const { owner, acl } = effectiveObjectAcl(bucket, rec)
  return { status: 200, xml: xmlDocument('AccessControlPolicy', aclDocument(owner, acl)) }
}

export async function putObjectAcl(
  svc: Services,
  req: S3Request,
  name: string,
  key: string,
  versionId?: string,
): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, name, undefined, objectAclOf(svc, name, key, versionId))
  if (!aclsEnabled(bucket)) throw new S3Error('AccessControlListNotSupported')
  const first = await readableVersion(svc, name, key, versionId, req.method)
  const grants = await requestedAcl(req, 'object', first.ownerAccountId, bucket.ownerAccountId)
  refusePublicAcl(bucket, grants)
  for (let attempt = 1; ; attempt++) {
    // The version is read again on every attempt: an overwrite meanwhile is another record.
    const rec = attempt === 1 ? first : await readableVersion(svc, name, key, versionId, req.method)
    if (rec.ownerAccountId !== first.ownerAccountId) throw new S3Error('OperationAborted')
    const next: ObjectRecord = { ...rec, acl: stored(grants, rec.ownerAccountId) }
    if (next.acl === undefined) delete next.acl
    try {
      await svc.meta.commitObject(next, { expect: { record: rec } })
      return { status: 200 }
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= MAX_ATTEMPTS) throw err
    }
  }
}
