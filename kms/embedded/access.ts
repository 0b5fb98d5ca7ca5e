/**
 * @module Who may use a key of the embedded KMS (KMS Developer Guide, "Authentication and access
 * control"): the key policy — AWS's default one when none was set, the AWS-managed policy for
 * `alias/aws/s3` — judged together with the caller's IAM policies by an injected judge (the
 * server's policy engine; this module knows no IAM), then grants. Without a judge the single-account
 * rule applies (a caller of another account is denied).
 */
import type { EncryptionContext, KmsCaller } from '../types.js'
import type { StoredGrant, StoredKey } from './store.js'

export interface KeyAccessRequest {
  caller: KmsCaller
  /** e.g. `kms:Decrypt`. */
  action: string
  /** The key ARN, or `*` for actions on no key (CreateKey, ListKeys, ListRetirableGrants). */
  resource: string
  /** The account owning the KMS that serves the call. */
  resourceAccount: string
  /** The key policy (JSON text); absent for actions on no key. */
  keyPolicy?: string
  /** `kms:` condition keys of the request, lowercase (the judge adds the caller's global keys). */
  context: Record<string, string[]>
}

export interface KeyAccessVerdict {
  decision: 'allow' | 'deny' | 'implicit'
  /** AWS's wording after the resource: `because no identity-based policy allows the kms:Decrypt action`. */
  detail: string
  /** Which policy type decided, and the Sid of the deciding statement (audit log). */
  policyType?: string
  sid?: string
}

export interface KeyAccessJudge {
  decide(req: KeyAccessRequest): KeyAccessVerdict
  /** Whether `principal` (a grant's grantee or retiring principal) names the caller (a role names its sessions). */
  isPrincipal(caller: KmsCaller, principal: string): boolean
  /** Why a key policy document is refused (MalformedPolicyDocumentException's message), undefined if valid. */
  validatePolicy(text: string): string | undefined
}

/** AWS's default key policy: the account root may do everything, so IAM policies then decide. */
export function defaultKeyPolicy(accountId: string): string {
  return JSON.stringify(
    {
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [
        {
          Sid: 'Enable IAM User Permissions',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${accountId}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    },
    null,
    2,
  )
}

/** The policy AWS gives the account's `aws/s3` key: use through S3 by the account, metadata directly. */
export function awsManagedS3Policy(accountId: string, region: string): string {
  return JSON.stringify(
    {
      Version: '2012-10-17',
      Id: 'auto-s3-2',
      Statement: [
        {
          Sid: 'Allow access through S3 for all principals in the account that are authorized to use S3',
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
          Resource: '*',
          Condition: {
            StringEquals: { 'kms:CallerAccount': accountId, 'kms:ViaService': `s3.${region}.amazonaws.com` },
          },
        },
        {
          Sid: 'Allow direct access to key metadata to the account',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${accountId}:root` },
          Action: ['kms:Describe*', 'kms:Get*', 'kms:List*'],
          Resource: '*',
        },
      ],
    },
    null,
    2,
  )
}

/** The key policy in force for `key`. */
export function keyPolicyOf(key: StoredKey, accountId: string, region: string): string {
  if (key.manager === 'AWS') return awsManagedS3Policy(accountId, region)
  return key.policy ?? defaultKeyPolicy(accountId)
}

/**
 * The `kms:` condition keys of a call: kms:CallerAccount, kms:ViaService (S3 calling for the
 * requester), kms:EncryptionContext:<k> and kms:EncryptionContextKeys, plus `extra`
 * (kms:GrantOperations…).
 */
export function kmsConditionContext(
  caller: KmsCaller,
  context: EncryptionContext | undefined,
  extra: Record<string, string[]> = {},
): Record<string, string[]> {
  const out: Record<string, string[]> = { 'kms:calleraccount': [caller.accountId], ...extra }
  if (caller.viaService) out['kms:viaservice'] = [caller.viaService]
  if (context) {
    const names = Object.keys(context)
    if (names.length > 0) out['kms:encryptioncontextkeys'] = names
    // Condition keys compare case-insensitively by name; the context key's own case is kept in the value.
    for (const k of names) out[`kms:encryptioncontext:${k.toLowerCase()}`] = [context[k]]
  }
  return out
}

/** Whether a grant's encryption-context constraint holds for the request's context. */
export function constraintsHold(grant: StoredGrant, context: EncryptionContext | undefined): boolean {
  const c = grant.constraints
  if (!c) return true
  const ctx = context ?? {}
  if (c.EncryptionContextEquals) {
    const want = c.EncryptionContextEquals
    const names = Object.keys(ctx)
    return names.length === Object.keys(want).length && names.every((k) => Object.hasOwn(want, k) && want[k] === ctx[k])
  }
  if (c.EncryptionContextSubset) {
    return Object.entries(c.EncryptionContextSubset).every(([k, v]) => Object.hasOwn(ctx, k) && ctx[k] === v)
  }
  return true
}

/** The first grant on `key` letting the caller do `operation` with `context`. */
export function grantFor(
  judge: KeyAccessJudge,
  grants: Iterable<StoredGrant>,
  caller: KmsCaller,
  operation: string,
  context: EncryptionContext | undefined,
): StoredGrant | undefined {
  for (const g of grants) {
    if (
      g.operations.includes(operation) &&
      judge.isPrincipal(caller, g.granteePrincipal) &&
      constraintsHold(g, context)
    )
      return g
  }
  return undefined
}
