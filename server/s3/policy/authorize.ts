/**
 * @module The authorization of S3 requests: the caller's identity and session policies and the
 * bucket policy, judged by the one engine (iam/engine.ts); actions on no bucket by identity
 * policies alone. Builds the request context a policy
 * sees from the parsed request — the encryption keys are the REQUEST HEADERS, never the bucket
 * default — and runs before any data is written or any KMS call is made.
 */
import type { AclGrant, BucketRecord } from '../../../storage/types.js'
import type { S3Request } from '../context.js'
import { S3Error } from '../errors.js'
import {
  AMZ_COPY_SOURCE,
  AMZ_METADATA_DIRECTIVE,
  AMZ_SSE,
  AMZ_SSE_C_ALGORITHM,
  AMZ_SSE_KMS_KEY_ID,
} from '../headers.js'
import { queryValue } from '../route.js'
import { resolveWriteSse } from '../sse-headers.js'
import { globalContext } from '../../iam/request.js'
import { accessFor, type Access } from './actions.js'
import type { RequestContext } from './conditions.js'
import { parsePolicy, type Policy, type Statement } from './parse.js'
import { aclStatements } from './acl-grants.js'
import { isPublic } from './public.js'
import { AMZ_ACL, GRANT_HEADERS, aclsEnabled } from '../acl.js'
import type { AuditLog } from '../../audit.js'
import { denialMessage, evaluateAccess, type AccessDecision } from '../../iam/engine.js'
import { defaultIdentity } from '../../iam/identity.js'

export type { Access } from './actions.js'

/** Operations whose request carries the new object's encryption (docs/s3-sse-rules.md §5.6 [C]). */
const SSE_KEY_OPS = new Set(['PutObject', 'CopyObject', 'CreateMultipartUpload'])
/** The owner account's root can always manage the policy, even if it denies (AWS's lockout rule). */
const POLICY_ACTIONS = new Set(['s3:getbucketpolicy', 's3:putbucketpolicy', 's3:deletebucketpolicy'])
/** Operations whose ACL headers are condition keys (s3:x-amz-acl, s3:x-amz-grant-*). */
const ACL_HEADER_OPS = new Set([
  'PutObject',
  'CopyObject',
  'CreateMultipartUpload',
  'PutObjectAcl',
  'PutBucketAcl',
  'CreateBucket',
])
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Parsed policies by bucket and text: a stored policy is parsed once, not per request. */
const cache = new Map<string, Policy>()

function policyOf(bucket: BucketRecord, text: string): Policy {
  const id = `${bucket.name}\n${text}`
  let p = cache.get(id)
  if (!p) {
    p = parsePolicy(text, bucket.name)
    if (cache.size >= 256) cache.clear()
    cache.set(id, p)
  }
  return p
}

/**
 * The condition keys of a request (lowercase names). `access.source`: the copy source's read,
 * which carries no destination encryption keys.
 */
export function requestContext(req: S3Request, access: Access, region: string): RequestContext {
  const h = req.headers
  const ctx: Record<string, string[]> = {}
  const set = (k: string, v: string | undefined) => {
    if (v !== undefined) ctx[k] = [v]
  }
  // The request's and the principal's global keys (iam/request.ts): aws:SourceIp,
  // aws:SecureTransport (the connection only: loopback plain HTTP is not secure), aws:PrincipalArn…
  Object.assign(ctx, req.principal.requestContext ?? globalContext(req.incoming, null))
  if (req.auth) {
    set('s3:authtype', queryValue(req.query, 'X-Amz-Signature') !== undefined ? 'REST-QUERY-STRING' : 'REST-HEADER')
    set('s3:signatureversion', 'AWS4-HMAC-SHA256')
  }
  if (!access.source && SSE_KEY_OPS.has(req.op.kind)) {
    set('s3:x-amz-server-side-encryption', h[AMZ_SSE])
    const kid = h[AMZ_SSE_KMS_KEY_ID]
    // A bare key id names a key of the caller's account; policies compare against the key ARN.
    set(
      's3:x-amz-server-side-encryption-aws-kms-key-id',
      kid !== undefined && UUID.test(kid) ? `arn:aws:kms:${region}:${req.principal.accountId}:key/${kid}` : kid,
    )
  }
  set('s3:x-amz-server-side-encryption-customer-algorithm', h[AMZ_SSE_C_ALGORITHM])
  if (ACL_HEADER_OPS.has(req.op.kind))
    for (const name of [AMZ_ACL, ...GRANT_HEADERS.map(([g]) => g)]) set(`s3:${name}`, h[name])
  if (req.op.kind === 'CopyObject' || req.op.kind === 'UploadPartCopy') set('s3:x-amz-copy-source', h[AMZ_COPY_SOURCE])
  if (req.op.kind === 'CopyObject') set('s3:x-amz-metadata-directive', h[AMZ_METADATA_DIRECTIVE])
  if (!access.source && SSE_KEY_OPS.has(req.op.kind)) Object.assign(ctx, lockContext(h))
  if (!access.source) {
    for (const [k, v] of Object.entries(req.requestTags ?? {})) set(`s3:requestobjecttag/${k.toLowerCase()}`, v)
    if (req.requestTags) ctx['s3:requestobjecttagkeys'] = Object.keys(req.requestTags)
    for (const [k, v] of Object.entries(req.existingTags ?? {})) set(`s3:existingobjecttag/${k.toLowerCase()}`, v)
  }
  if (req.op.kind === 'ListObjects' || req.op.kind === 'ListObjectsV2') {
    set('s3:prefix', queryValue(req.query, 'prefix') ?? '')
    set('s3:delimiter', queryValue(req.query, 'delimiter'))
    set('s3:max-keys', queryValue(req.query, 'max-keys'))
  }
  return ctx
}

/**
 * The Object Lock condition keys of a write's lock headers: s3:object-lock-mode,
 * -retain-until-date, -remaining-retention-days (whole days left) and -legal-hold.
 */
function lockContext(h: Record<string, string>): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  const mode = h['x-amz-object-lock-mode']
  const until = h['x-amz-object-lock-retain-until-date']
  const hold = h['x-amz-object-lock-legal-hold']
  if (mode !== undefined) out['s3:object-lock-mode'] = [mode]
  if (hold !== undefined) out['s3:object-lock-legal-hold'] = [hold]
  if (until !== undefined) {
    out['s3:object-lock-retain-until-date'] = [until]
    const ms = Date.parse(until)
    if (Number.isFinite(ms))
      out['s3:object-lock-remaining-retention-days'] = [String(Math.max(0, Math.floor((ms - Date.now()) / 86_400_000)))]
  }
  return out
}

const SSE_KEYS: ReadonlySet<string> = new Set([
  's3:x-amz-server-side-encryption',
  's3:x-amz-server-side-encryption-aws-kms-key-id',
])
const OTHER_PUT_OPS = new Set(['UploadPart', 'UploadPartCopy', 'CompleteMultipartUpload'])

/**
 * The s3:PutObject requests that cannot carry the new object's SSE headers (UploadPart,
 * UploadPartCopy, CompleteMultipartUpload) and a copy's read of its source are not judged on the
 * SSE header keys (docs/s3-sse-rules.md §5.6 [C]): otherwise the classic "deny unencrypted uploads" policy
 * would refuse every part of an upload it let start.
 */
function inapplicableKeys(req: S3Request, access: Access): ReadonlySet<string> | undefined {
  return access.source || OTHER_PUT_OPS.has(req.op.kind) ? SSE_KEYS : undefined
}

/** §1.4 step 3 before step 4: the TLS and SSE-header errors of a write win over a policy's deny (TLS-06). */
function validateBeforePolicy(req: S3Request, bucket: BucketRecord, access: Access): void {
  if (access.source || !SSE_KEY_OPS.has(req.op.kind) || !('key' in req.op)) return
  const copy = req.op.kind === 'CopyObject'
  resolveWriteSse(
    req.headers,
    bucket,
    { secure: req.secure, copy },
    copy ? 's3:CopyObject' : 's3:PutObject',
    req.op.key,
  )
}

/** The ACL of the object version a request addresses (its grants; undefined = private to its owner). */
export interface ObjectAcl {
  ownerAccountId: string
  acl?: AclGrant[]
}

/**
 * Options of authorize: ownership (ops/common.ts `isOwner`), region, the access judged, where
 * denials are logged, and the ACL of the object addressed (GetObject, Get/PutObjectAcl).
 */
export interface AuthorizeOptions {
  owner: boolean
  region: string
  access?: Access
  audit?: AuditLog
  object?: ObjectAcl
}

/**
 * Decides whether the caller may perform `access` (default: the request's own operation) on the
 * bucket with the one engine (iam/engine.ts): the caller's identity and session policies and the
 * bucket policy; same account: either allows, another account: both must. Root and account keys
 * hold the account's full authority. Throws 403 AccessDenied otherwise, with AWS's detail for a
 * caller of the bucket's account ("… because no identity-based policy allows the s3:GetObject
 * action"); every denial goes to the audit log with the policy type and Sid that decided it. The
 * owner account's root can always manage the bucket policy (AWS's lockout rule). `perKey`
 * (DeleteObjects): only validation here, each key with `authorizeKey`.
 */
export function authorize(req: S3Request, bucket: BucketRecord, opts: AuthorizeOptions): void {
  const a = opts.access ?? accessFor(req.op)
  if (!a) throw new S3Error('AccessDenied')
  const owner = opts.owner && req.auth !== null
  // Another account with no bucket policy to grant it anything is refused before any work.
  if (bucket.policy === undefined && !owner && !aclsEnabled(bucket))
    throw denied(req, bucket, a, { allowed: false, reason: 'implicit-deny', policyType: 'bucket', detail: '' }, opts)
  if (bucket.policy !== undefined) validateBeforePolicy(req, bucket, a)
  if (a.perKey) return
  const d = decision(req, bucket, opts.region, a, opts.object)
  if (d.allowed) {
    // Another account never manages the bucket policy, whatever the policy says.
    if (POLICY_ACTIONS.has(a.action.toLowerCase()) && !owner) throw new S3Error('AccessDenied')
    return
  }
  if (lockoutExempt(req, opts.owner, a)) return
  throw denied(req, bucket, a, d, opts)
}

/** The bucket owner's root (and account keys, which act as it) may always manage the bucket policy. */
function lockoutExempt(req: S3Request, owner: boolean, a: Access): boolean {
  const kind = req.principal.identity?.kind
  return (
    owner &&
    req.auth !== null &&
    (kind === 'root' || kind === 'account-key') &&
    POLICY_ACTIONS.has(a.action.toLowerCase())
  )
}

function resourceOf(bucket: BucketRecord, a: Access): string {
  return a.key === undefined ? `arn:aws:s3:::${bucket.name}` : `arn:aws:s3:::${bucket.name}/${a.key}`
}

/** AccessDenied with AWS's detail for same-account callers, logged with what decided it. */
function denied(
  req: S3Request,
  bucket: BucketRecord | undefined,
  a: Access,
  d: AccessDecision,
  opts: { audit?: AuditLog },
): S3Error {
  const resource = bucket ? resourceOf(bucket, a) : (a.key ?? '*')
  auditDenial(opts.audit, req, a.action, resource, d, bucket?.name, a.key)
  const sameAccount = req.auth !== null && (bucket === undefined || bucket.ownerAccountId === req.principal.accountId)
  if (!sameAccount) return new S3Error('AccessDenied')
  return new S3Error('AccessDenied', {
    message: denialMessage(req.principal.principalArn, a.action, `"${resource}"`, d),
  })
}

/** One audit line per denial: the action, the policy type and the Sid that decided (CloudTrail does not say). */
export function auditDenial(
  audit: AuditLog | undefined,
  req: S3Request,
  action: string,
  resource: string,
  d: AccessDecision,
  bucket?: string,
  key?: string,
): void {
  audit?.audit({
    requestId: req.requestId,
    operation: req.op.kind,
    action: 'deny',
    outcome: d.reason,
    principal: req.auth ? { accessKeyId: req.principal.accessKeyId, accountId: req.principal.accountId } : undefined,
    principalArn: req.principal.principalArn,
    iamAction: action,
    resource,
    bucket,
    key,
    policyType: d.policyType,
    sid: d.sid,
  })
}

/**
 * The resource policy a request is judged by: the bucket policy and, where Object Ownership allows
 * ACLs, the grants of the bucket ACL and of the addressed object's ACL (policy/acl-grants.ts).
 * RestrictPublicBuckets: while the bucket policy is public, only its Deny statements apply to
 * callers outside the bucket owner's account. IgnorePublicAcls: grants to AllUsers and
 * AuthenticatedUsers count for nothing.
 */
function resourcePolicy(req: S3Request, bucket: BucketRecord, a: Access, object?: ObjectAcl): Policy | undefined {
  const policy = bucket.policy === undefined ? undefined : policyOf(bucket, bucket.policy)
  const acls = aclsEnabled(bucket)
  if (!acls && !bucket.publicAccessBlock?.restrictPublicBuckets) return policy
  const pab = bucket.publicAccessBlock
  const outsider = !req.auth || req.principal.accountId !== bucket.ownerAccountId
  let statements: Statement[] = policy?.statements ?? []
  if (policy && pab?.restrictPublicBuckets && outsider && isPublic(policy))
    statements = statements.filter((st) => st.effect === 'Deny')
  if (acls) {
    const resource = resourceOf(bucket, a)
    const caller = { accountId: req.auth ? req.principal.accountId : undefined }
    const ignore = pab?.ignorePublicAcls === true
    statements = [
      ...statements,
      ...aclStatements(bucket.acl, bucket.ownerAccountId, 'bucket', resource, caller, ignore),
    ]
    if (object && a.key !== undefined)
      statements = [
        ...statements,
        ...aclStatements(object.acl, object.ownerAccountId, 'object', resource, caller, ignore),
      ]
  }
  if (statements.length === 0) return undefined
  return { version: policy?.version, statements }
}

function decision(req: S3Request, bucket: BucketRecord, region: string, a: Access, object?: ObjectAcl): AccessDecision {
  const policy = resourcePolicy(req, bucket, a, object)
  const identity = req.auth
    ? (req.principal.identity ?? defaultIdentity(req.principal.accountId, req.principal.principalArn))
    : null
  return evaluateAccess({
    identity,
    action: a.action,
    resource: resourceOf(bucket, a),
    resourceAccount: bucket.ownerAccountId,
    resourcePolicy: policy && { type: 'bucket', policy },
    context: requestContext(req, a, region),
    inapplicable: inapplicableKeys(req, a),
  })
}

/** DeleteObjects: whether one key may be deleted (its entry answers AccessDenied otherwise). */
export function authorizeKey(
  req: S3Request,
  bucket: BucketRecord,
  opts: AuthorizeOptions,
  key: string,
  action = 's3:DeleteObject',
): boolean {
  const a: Access = { action, key }
  const d = decision(req, bucket, opts.region, a)
  if (!d.allowed) auditDenial(opts.audit, req, a.action, resourceOf(bucket, a), d, bucket.name, key)
  return d.allowed
}

/**
 * Whether the caller may perform `action` on one key, without a denial in the audit log: for what
 * a request gains when allowed (the governance bypass, the lock headers of GET/HEAD), never for
 * the request's own operation.
 */
export function mayPerform(
  req: S3Request,
  bucket: BucketRecord,
  opts: Pick<AuthorizeOptions, 'owner' | 'region'>,
  key: string,
  action: string,
): boolean {
  if (bucket.policy === undefined && !(opts.owner && req.auth !== null)) return false
  return decision(req, bucket, opts.region, { action, key }).allowed
}

/**
 * Actions on no bucket (s3:ListAllMyBuckets, s3:CreateBucket): the caller's identity policies
 * alone decide (no resource policy exists yet). Throws AccessDenied with AWS's detail.
 */
export function authorizeIdentity(req: S3Request, action: string, resource: string, audit?: AuditLog): void {
  if (!req.auth) throw new S3Error('AccessDenied')
  const identity = req.principal.identity ?? defaultIdentity(req.principal.accountId, req.principal.principalArn)
  const d = evaluateAccess({ identity, action, resource, context: { ...req.principal.requestContext } })
  if (d.allowed) return
  auditDenial(audit, req, action, resource, d)
  throw new S3Error('AccessDenied', { message: denialMessage(req.principal.principalArn, action, `"${resource}"`, d) })
}
