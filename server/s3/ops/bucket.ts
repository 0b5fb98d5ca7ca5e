/** @module CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation (docs/s3-sse-rules.md §3.1-§3.6). */
import type { BucketRecord } from '../../../storage/types.js'
import type { S3Request, S3Result, Services } from '../context.js'
import { S3Error } from '../errors.js'
import { AMZ_ACCESS_POINT_ALIAS, AMZ_BUCKET_ARN, AMZ_BUCKET_REGION } from '../headers.js'
import { AWS_REGIONS } from '../regions.js'
import { contentLength, readSmallBody } from '../request-body.js'
import { bucketFromHost } from '../route.js'
import { parseXmlBody, textOf, xmlTextDocument } from '../xml.js'
import { isOwner, loadBucket } from './common.js'
import { authorizeIdentity } from '../policy/authorize.js'
import { deleteGarbage } from '../object-io.js'
import { NEW_BUCKET_PUBLIC_ACCESS_BLOCK, aclFromHeaders, isPublicAcl, onlyFullControlOf } from '../acl.js'
import { parseOwnership } from './bucket-ownership.js'

const FORBIDDEN_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-']
const FORBIDDEN_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3']

/**
 * The general-purpose bucket naming rule a name breaks, or undefined when it is valid (AWS S3 User
 * Guide, "General purpose bucket naming rules"). The message of InvalidBucketName names the rule.
 */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'Bucket names must be between 3 and 63 characters long.'
  if (!/^[a-z0-9.-]*$/.test(name))
    return 'Bucket names can consist only of lowercase letters, numbers, periods (.), and hyphens (-).'
  if (!/^[a-z0-9].*[a-z0-9]$/.test(name)) return 'Bucket names must begin and end with a letter or number.'
  if (name.includes('..')) return 'Bucket names must not contain two adjacent periods.'
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name))
    return 'Bucket names must not be formatted as an IP address (for example, 192.168.5.4).'
  const prefix = FORBIDDEN_PREFIXES.find((p) => name.startsWith(p))
  if (prefix) return `Bucket names must not start with the prefix ${prefix}.`
  const suffix = FORBIDDEN_SUFFIXES.find((x) => name.endsWith(x))
  if (suffix) return `Bucket names must not end with the suffix ${suffix}.`
  return undefined
}

export const isValidBucketName = (name: string): boolean => bucketNameProblem(name) === undefined

function signingRegion(req: S3Request, fallback: string): string {
  return req.auth?.scope.split('/')[1] ?? fallback
}

/** Region rules of docs/s3-sse-rules.md §3.3 (BKT-06..08). */
function bucketRegion(endpoint: string, constraint: string | undefined): string {
  if (constraint === undefined || constraint === '') {
    if (endpoint !== 'us-east-1') throw new S3Error('IllegalLocationConstraintException')
    return 'us-east-1'
  }
  if (endpoint === 'us-east-1') {
    if (constraint === 'us-east-1' || !AWS_REGIONS.has(constraint)) {
      throw new S3Error('InvalidLocationConstraint', { fields: [['LocationConstraint', constraint]] })
    }
    return constraint
  }
  if (constraint !== endpoint) {
    throw new S3Error('IllegalLocationConstraintException', {
      message: `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`,
    })
  }
  return constraint
}

/**
 * Object Ownership, Block Public Access and ACL of a new bucket, as AWS creates buckets since April
 * 2023: BucketOwnerEnforced unless `x-amz-object-ownership` says otherwise, all four Block Public
 * Access settings on. An ACL header is accepted under BucketOwnerEnforced only if it grants the
 * owner alone (private, bucket-owner-full-control), else InvalidBucketAclWithObjectOwnership; a
 * public ACL is refused by the Block Public Access the bucket is created with (403).
 */
function newBucketAccess(
  h: Record<string, string>,
  owner: string,
): Pick<BucketRecord, 'objectOwnership' | 'publicAccessBlock' | 'acl'> {
  const header = h['x-amz-object-ownership']
  const objectOwnership = header === undefined ? 'BucketOwnerEnforced' : parseOwnership(header, 'header')
  const publicAccessBlock = { ...NEW_BUCKET_PUBLIC_ACCESS_BLOCK }
  const grants = aclFromHeaders(h, 'bucket', owner, owner)
  if (grants === undefined || onlyFullControlOf(grants, owner)) return { objectOwnership, publicAccessBlock }
  if (objectOwnership === 'BucketOwnerEnforced') throw new S3Error('InvalidBucketAclWithObjectOwnership')
  if (isPublicAcl(grants)) throw new S3Error('AccessDenied')
  return { objectOwnership, publicAccessBlock, acl: grants }
}

export async function createBucket(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  const problem = bucketNameProblem(name)
  if (problem)
    throw new S3Error('InvalidBucketName', {
      message: `The specified bucket is not valid. ${problem}`,
      fields: [['BucketName', name]],
    })
  authorizeIdentity(req, 's3:CreateBucket', `arn:aws:s3:::${name}`, svc.audit)
  let constraint: string | undefined
  const hasBody = (contentLength(req) ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined
  if (hasBody) {
    const { bytes } = await readSmallBody(req)
    if (bytes.length > 0)
      constraint = textOf(parseXmlBody(bytes.toString('utf8'), 'CreateBucketConfiguration'), 'LocationConstraint')
  }
  // Object Lock at creation turns versioning on for good; AWS asks for both permissions it implies.
  const objectLock = req.headers['x-amz-bucket-object-lock-enabled']?.trim().toLowerCase() === 'true'
  if (objectLock) {
    authorizeIdentity(req, 's3:PutBucketObjectLockConfiguration', `arn:aws:s3:::${name}`, svc.audit)
    authorizeIdentity(req, 's3:PutBucketVersioning', `arn:aws:s3:::${name}`, svc.audit)
  }
  const endpoint = signingRegion(req, svc.config.region)
  const region = bucketRegion(endpoint, constraint)
  const access = newBucketAccess(req.headers, req.principal.accountId)
  const rec: BucketRecord = {
    v: 1,
    name,
    region,
    ownerAccountId: req.principal.accountId,
    createdAt: Date.now(),
    // New buckets block SSE-C, as AWS does since April 2026, unless configured otherwise (docs/s3-behaviour.md).
    blockedEncryptionTypes: svc.config.allowSseCOnNewBuckets ? [] : ['SSE-C'],
    ...(objectLock ? { versioning: 'Enabled' as const, objectLock: { enabled: true as const } } : {}),
    ...access,
  }
  const res = await svc.meta.createBucket(rec)
  if (!res.created) {
    const existing = res.existing
    if (!isOwner(existing, req.principal)) throw new S3Error('BucketAlreadyExists', { fields: [['BucketName', name]] })
    if (!(existing.region === 'us-east-1' && endpoint === 'us-east-1')) {
      throw new S3Error('BucketAlreadyOwnedByYou', { fields: [['BucketName', name]] })
    }
  }
  // Path-style requests get `/bucket` (AWS's us-east-1 answer) in every region: the virtual-host
  // URL AWS gives elsewhere would name a host (`bucket.127.0.0.1`) that does not resolve here.
  const virtualHosted = bucketFromHost(req.host, svc.config.virtualHostBaseDomains) === name
  const location = virtualHosted ? `http://${req.host}/` : `/${name}`
  return { status: 200, headers: { Location: location, [AMZ_BUCKET_ARN]: `arn:aws:s3:::${name}` } }
}

export async function headBucket(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  const b = await loadBucket(svc, req, name)
  return {
    status: 200,
    headers: {
      [AMZ_BUCKET_REGION]: b.region,
      [AMZ_BUCKET_ARN]: `arn:aws:s3:::${name}`,
      [AMZ_ACCESS_POINT_ALIAS]: 'false',
    },
  }
}

export async function deleteBucket(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  await loadBucket(svc, req, name)
  const { garbage } = await svc.meta.deleteBucket(name)
  deleteGarbage(svc, garbage)
  return { status: 204 }
}

export async function getBucketLocation(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  const b = await loadBucket(svc, req, name)
  return { status: 200, xml: xmlTextDocument('LocationConstraint', b.region === 'us-east-1' ? '' : b.region) }
}
