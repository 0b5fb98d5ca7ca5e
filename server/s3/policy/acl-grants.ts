/**
 * @module ACL grants as the policy engine sees them: each grant that names the caller becomes an
 * Allow statement of the resource policy, with the actions its permission maps to (S3 User Guide,
 * "Mapping of ACL permissions and access policy permissions"), so one evaluation judges identity
 * policies, the bucket policy and ACLs together: an explicit Deny anywhere wins, a grant to
 * another account counts as a resource grant to that account (its root, or its users with their
 * identity policies), AllUsers is everyone including anonymous callers, AuthenticatedUsers every
 * signed request. Pure: no HTTP, no storage.
 */
import type { AclGrant, AclPermission } from '../../../storage/types.js'
import { ALL_USERS, AUTHENTICATED_USERS, canonicalId, privateAcl, type AclTarget } from '../acl.js'
import type { PrincipalSpec, Statement } from './parse.js'

const BUCKET_ACTIONS: Record<Exclude<AclPermission, 'FULL_CONTROL'>, string[]> = {
  READ: ['s3:ListBucket', 's3:ListBucketVersions', 's3:ListBucketMultipartUploads'],
  WRITE: [
    's3:PutObject',
    's3:DeleteObject',
    's3:DeleteObjectVersion',
    's3:AbortMultipartUpload',
    's3:ListMultipartUploadParts',
  ],
  READ_ACP: ['s3:GetBucketAcl'],
  WRITE_ACP: ['s3:PutBucketAcl'],
}
const OBJECT_ACTIONS: Record<Exclude<AclPermission, 'FULL_CONTROL'>, string[]> = {
  READ: ['s3:GetObject', 's3:GetObjectVersion'],
  WRITE: [],
  READ_ACP: ['s3:GetObjectAcl', 's3:GetObjectVersionAcl'],
  WRITE_ACP: ['s3:PutObjectAcl', 's3:PutObjectVersionAcl'],
}

/** The actions an ACL permission allows on a bucket or an object. */
export function aclActions(permission: AclPermission, target: AclTarget): string[] {
  const table = target === 'bucket' ? BUCKET_ACTIONS : OBJECT_ACTIONS
  if (permission === 'FULL_CONTROL') return Object.values(table).flat()
  return table[permission]
}

export interface AclCaller {
  /** Undefined: an anonymous request. */
  accountId?: string
}

/**
 * The Allow statements an ACL gives the caller on `resource`. `grants` undefined: private to
 * `ownerAccountId`. `ignorePublic` (IgnorePublicAcls) drops the AllUsers and AuthenticatedUsers grants.
 */
export function aclStatements(
  grants: readonly AclGrant[] | undefined,
  ownerAccountId: string,
  target: AclTarget,
  resource: string,
  caller: AclCaller,
  ignorePublic: boolean,
): Statement[] {
  const out: Statement[] = []
  const callerId = caller.accountId === undefined ? undefined : canonicalId(caller.accountId)
  for (const g of grants ?? privateAcl(ownerAccountId)) {
    let principal: PrincipalSpec | undefined
    if (g.grantee.type === 'CanonicalUser') {
      if (callerId !== undefined && g.grantee.id === callerId)
        principal = { any: false, aws: [caller.accountId!], other: [] }
    } else if (g.grantee.uri === ALL_USERS) {
      if (!ignorePublic) principal = { any: true }
    } else if (g.grantee.uri === AUTHENTICATED_USERS) {
      if (!ignorePublic && caller.accountId !== undefined)
        principal = { any: false, aws: [caller.accountId], other: [] }
    }
    const actions = aclActions(g.permission, target)
    if (principal && actions.length > 0)
      out.push({ sid: 'ACL', effect: 'Allow', principal, actions, resources: [resource], conditions: [] })
  }
  return out
}
