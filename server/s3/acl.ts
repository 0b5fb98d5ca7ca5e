/**
 * @module Access control lists as S3 defines them ("Access control list (ACL) overview", S3 User
 * Guide): canned ACLs, `x-amz-grant-*` headers and the AccessControlPolicy XML, read into one list
 * of grants; the rules Object Ownership and Block Public Access put on them; and the XML of
 * GetBucketAcl / GetObjectAcl. Knows nothing of storage beyond the record fields.
 */
import { createHash } from 'node:crypto'
import type {
  AclGrant,
  AclGrantee,
  AclPermission,
  BucketRecord,
  ObjectOwnership,
  PublicAccessBlock,
} from '../../storage/types.js'
import { S3Error } from './errors.js'
import { parseXmlBody, textOf, type XmlObject } from './xml.js'

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers'
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers'
export const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery'
const GROUPS = new Set([ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY])
const PERMISSIONS = new Set<AclPermission>(['FULL_CONTROL', 'READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'])
const XSI = 'http://www.w3.org/2001/XMLSchema-instance'

export const AMZ_ACL = 'x-amz-acl'
/** Each grant header and the permission it grants. */
export const GRANT_HEADERS: ReadonlyArray<readonly [string, AclPermission]> = [
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
]

/** The 64-hex canonical user ID of an account (ListBuckets Owner/ID, ACL grantees). */
export function canonicalId(accountId: string): string {
  return createHash('sha256').update(`strongroom-canonical-id:${accountId}`).digest('hex')
}

export type AclTarget = 'bucket' | 'object'

const user = (id: string, permission: AclPermission): AclGrant => ({
  grantee: { type: 'CanonicalUser', id },
  permission,
})
const group = (uri: string, permission: AclPermission): AclGrant => ({ grantee: { type: 'Group', uri }, permission })

/** The grants an ACL holds when none was ever set: its owner's FULL_CONTROL. */
export function privateAcl(ownerAccountId: string): AclGrant[] {
  return [user(canonicalId(ownerAccountId), 'FULL_CONTROL')]
}

/**
 * A canned ACL's grants (S3 User Guide, "Canned ACL"). `owner`: the resource's owner account;
 * `bucketOwner`: the bucket's (object ACLs only: bucket-owner-read / -full-control name it).
 * aws-exec-read grants the EC2 service, which has no account here: 501. Unknown names: 400.
 */
export function cannedAcl(name: string, target: AclTarget, owner: string, bucketOwner: string): AclGrant[] {
  const grants = privateAcl(owner)
  const bucketOwnerId = canonicalId(bucketOwner)
  switch (name) {
    case 'private':
      return grants
    case 'public-read':
      return [...grants, group(ALL_USERS, 'READ')]
    case 'public-read-write':
      return [...grants, group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE')]
    case 'authenticated-read':
      return [...grants, group(AUTHENTICATED_USERS, 'READ')]
    case 'log-delivery-write':
      return [...grants, group(LOG_DELIVERY, 'WRITE'), group(LOG_DELIVERY, 'READ_ACP')]
    // Ignored on buckets, as S3 ignores them; on an object they add the bucket owner.
    case 'bucket-owner-read':
      return target === 'bucket' || owner === bucketOwner ? grants : [...grants, user(bucketOwnerId, 'READ')]
    case 'bucket-owner-full-control':
      return target === 'bucket' || owner === bucketOwner ? grants : [...grants, user(bucketOwnerId, 'FULL_CONTROL')]
    case 'aws-exec-read':
      throw new S3Error('NotImplemented', {
        message:
          'A header you provided implies functionality that is not implemented: x-amz-acl: aws-exec-read (grants the EC2 service)',
      })
    default:
      throw new S3Error('InvalidArgument', {
        fields: [
          ['ArgumentName', AMZ_ACL],
          ['ArgumentValue', name.slice(0, 64)],
        ],
      })
  }
}

function grantee(kind: string, value: string): AclGrantee {
  if (kind === 'id') {
    if (!/^[0-9a-f]{64}$/.test(value))
      throw new S3Error('InvalidArgument', {
        message: 'Invalid id',
        fields: [
          ['ArgumentName', 'CanonicalUser/ID'],
          ['ArgumentValue', value.slice(0, 80)],
        ],
      })
    return { type: 'CanonicalUser', id: value }
  }
  if (kind === 'uri') {
    if (!GROUPS.has(value))
      throw new S3Error('InvalidArgument', {
        message: 'Invalid group uri',
        fields: [
          ['ArgumentName', 'Group/URI'],
          ['ArgumentValue', value.slice(0, 120)],
        ],
      })
    return { type: 'Group', uri: value }
  }
  if (kind === 'emailaddress') {
    // AWS ended grants by e-mail address; accounts here have no addresses to resolve.
    throw new S3Error('UnresolvableGrantByEmailAddress', { fields: [['EmailAddress', value.slice(0, 120)]] })
  }
  throw new S3Error('InvalidArgument', {
    message: 'Argument format not recognized',
    fields: [['ArgumentName', kind.slice(0, 32)]],
  })
}

/** One `x-amz-grant-*` value: `id="…", uri="…"` (quotes optional), comma-separated. */
function parseGrantHeader(value: string, permission: AclPermission): AclGrant[] {
  const out: AclGrant[] = []
  for (const item of value.split(',')) {
    const part = item.trim()
    if (!part) continue
    const eq = part.indexOf('=')
    if (eq <= 0)
      throw new S3Error('InvalidArgument', {
        message: 'Argument format not recognized',
        fields: [['ArgumentName', part.slice(0, 64)]],
      })
    let v = part.slice(eq + 1).trim()
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1)
    out.push({ grantee: grantee(part.slice(0, eq).trim().toLowerCase(), v), permission })
  }
  return out
}

/** Whether the request carries an ACL in its headers (x-amz-acl or any grant header). */
export function hasAclHeaders(h: Record<string, string | undefined>): boolean {
  return h[AMZ_ACL] !== undefined || GRANT_HEADERS.some(([name]) => h[name] !== undefined)
}

/**
 * The ACL a request's headers ask for; undefined when they name none. Grant headers make the
 * whole ACL (the owner is not added, as S3 does); a canned ACL and grant headers together: 400.
 */
export function aclFromHeaders(
  h: Record<string, string | undefined>,
  target: AclTarget,
  owner: string,
  bucketOwner: string,
): AclGrant[] | undefined {
  const canned = h[AMZ_ACL]?.trim()
  const grants = GRANT_HEADERS.flatMap(([name, permission]) =>
    h[name] === undefined ? [] : parseGrantHeader(h[name]!, permission),
  )
  const anyGrantHeader = GRANT_HEADERS.some(([name]) => h[name] !== undefined)
  if (canned !== undefined && anyGrantHeader)
    throw new S3Error('InvalidRequest', { message: 'Specifying both Canned ACLs and Header Grants is not allowed' })
  if (canned !== undefined) return cannedAcl(canned, target, owner, bucketOwner)
  return anyGrantHeader ? grants : undefined
}

function asList(v: unknown): unknown[] {
  if (v === undefined || v === '') return []
  return Array.isArray(v) ? v : [v]
}

function element(v: unknown): Record<string, unknown> {
  if (v === '' || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v)) throw new S3Error('MalformedACLError')
  return v as Record<string, unknown>
}

/**
 * A PutBucketAcl / PutObjectAcl body: `<AccessControlPolicy>` with `<Owner><ID>` and
 * `<AccessControlList>` of `<Grant><Grantee>…</Grantee><Permission>…</Permission></Grant>`. The
 * grantee's kind is read from the element it carries (ID, URI or EmailAddress), which is what its
 * xsi:type says; text may use character references (`&#34;`).
 */
export function parseAccessControlPolicy(text: string): { ownerId?: string; grants: AclGrant[] } {
  let root: Record<string, unknown>
  try {
    root = parseXmlBody(text, 'AccessControlPolicy')
  } catch (err) {
    if (err instanceof S3Error && err.code === 'MalformedXML') throw new S3Error('MalformedACLError')
    throw err
  }
  const owner = root.Owner === undefined ? undefined : element(root.Owner)
  const ownerId = owner === undefined ? undefined : textOf(owner, 'ID')?.trim()
  if (root.AccessControlList === undefined) throw new S3Error('MalformedACLError')
  const list = element(root.AccessControlList)
  const grants: AclGrant[] = []
  for (const raw of asList(list.Grant)) {
    const g = element(raw)
    const who = element(g.Grantee)
    const permission = textOf(g, 'Permission')?.trim()
    if (!permission || !PERMISSIONS.has(permission as AclPermission)) throw new S3Error('MalformedACLError')
    const id = textOf(who, 'ID')
    const uri = textOf(who, 'URI')
    const email = textOf(who, 'EmailAddress')
    if ([id, uri, email].filter((x) => x !== undefined).length !== 1) throw new S3Error('MalformedACLError')
    const kind = id !== undefined ? 'id' : uri !== undefined ? 'uri' : 'emailaddress'
    grants.push({ grantee: grantee(kind, (id ?? uri ?? email)!.trim()), permission: permission as AclPermission })
  }
  if (grants.length > 100)
    throw new S3Error('MalformedACLError', { message: 'The ACL has more than the 100 grants S3 allows' })
  return { ownerId, grants }
}

/** GetBucketAcl / GetObjectAcl content (the root element is AccessControlPolicy). */
export function aclDocument(ownerAccountId: string, grants: readonly AclGrant[] | undefined): XmlObject {
  const list = grants ?? privateAcl(ownerAccountId)
  return {
    Owner: { ID: canonicalId(ownerAccountId) },
    AccessControlList: {
      Grant: list.map((g) => ({
        Grantee:
          g.grantee.type === 'CanonicalUser'
            ? { '@_xmlns:xsi': XSI, '@_xsi:type': 'CanonicalUser', ID: g.grantee.id }
            : { '@_xmlns:xsi': XSI, '@_xsi:type': 'Group', URI: g.grantee.uri },
        Permission: g.permission,
      })),
    },
  }
}

/** Public per Block Public Access: a grant to AllUsers or AuthenticatedUsers. */
export function isPublicAcl(grants: readonly AclGrant[] | undefined): boolean {
  return (grants ?? []).some(
    (g) => g.grantee.type === 'Group' && (g.grantee.uri === ALL_USERS || g.grantee.uri === AUTHENTICATED_USERS),
  )
}

/** Whether the grants give nobody but `account` anything, and it FULL_CONTROL. */
export function onlyFullControlOf(grants: readonly AclGrant[], account: string): boolean {
  const id = canonicalId(account)
  return (
    grants.length > 0 &&
    grants.every((g) => g.grantee.type === 'CanonicalUser' && g.grantee.id === id) &&
    grants.some((g) => g.permission === 'FULL_CONTROL')
  )
}

/** A bucket's Object Ownership; buckets from before ownership controls are BucketOwnerEnforced. */
export function ownershipOf(bucket: Pick<BucketRecord, 'objectOwnership'>): ObjectOwnership {
  return bucket.objectOwnership ?? 'BucketOwnerEnforced'
}

export const aclsEnabled = (bucket: Pick<BucketRecord, 'objectOwnership'>): boolean =>
  ownershipOf(bucket) !== 'BucketOwnerEnforced'

export const NEW_BUCKET_PUBLIC_ACCESS_BLOCK: PublicAccessBlock = {
  blockPublicAcls: true,
  ignorePublicAcls: true,
  blockPublicPolicy: true,
  restrictPublicBuckets: true,
}

/** BlockPublicAcls: a request that would set a public ACL is refused (403). */
export function refusePublicAcl(bucket: BucketRecord, grants: readonly AclGrant[] | undefined): void {
  if (bucket.publicAccessBlock?.blockPublicAcls && isPublicAcl(grants)) throw new S3Error('AccessDenied')
}

/**
 * The ACL and owner a new object gets from its write request (PutObject, CopyObject,
 * CreateMultipartUpload), under the bucket's Object Ownership:
 * - BucketOwnerEnforced: the bucket owner owns it; only no ACL, `private` or ACLs granting the
 *   bucket owner alone full control are accepted (AccessControlListNotSupported otherwise);
 * - BucketOwnerPreferred: the writer owns it, unless it sends bucket-owner-full-control;
 * - ObjectWriter (and no ownership controls): the writer owns it.
 * BlockPublicAcls refuses a public ACL. `acl` undefined: private to the owner.
 */
export function newObjectAcl(
  h: Record<string, string | undefined>,
  bucket: BucketRecord,
  writer: string,
): { ownerAccountId: string; acl?: AclGrant[] } {
  const ownership = ownershipOf(bucket)
  if (ownership === 'BucketOwnerEnforced') {
    if (!hasAclHeaders(h)) return { ownerAccountId: bucket.ownerAccountId }
    const grants = aclFromHeaders(h, 'object', bucket.ownerAccountId, bucket.ownerAccountId)!
    if (!onlyFullControlOf(grants, bucket.ownerAccountId)) throw new S3Error('AccessControlListNotSupported')
    return { ownerAccountId: bucket.ownerAccountId }
  }
  const preferred = ownership === 'BucketOwnerPreferred' && h[AMZ_ACL]?.trim() === 'bucket-owner-full-control'
  const owner = preferred ? bucket.ownerAccountId : writer
  const grants = aclFromHeaders(h, 'object', owner, bucket.ownerAccountId)
  refusePublicAcl(bucket, grants)
  return grants === undefined || sameGrants(grants, privateAcl(owner))
    ? { ownerAccountId: owner }
    : { ownerAccountId: owner, acl: grants }
}

/** Whether two grant lists hold the same grants (any order). */
export function sameGrants(a: readonly AclGrant[], b: readonly AclGrant[]): boolean {
  const key = (g: AclGrant) => `${g.permission} ${g.grantee.type === 'CanonicalUser' ? g.grantee.id : g.grantee.uri}`
  const as = new Set(a.map(key))
  const bs = new Set(b.map(key))
  return as.size === bs.size && [...as].every((k) => bs.has(k))
}
