/**
 * @module The one authorization decision for bucket-scoped requests (contract §1.4 step 4,
 * §5.6): the bucket owner's account, then the bucket policy. Builds the request context a policy
 * sees from the parsed request — the encryption keys are the REQUEST HEADERS, never the bucket
 * default — and runs before any data is written or any KMS call is made.
 */
import type { BucketRecord } from '../../../storage/types.js'
import type { S3Request } from '../context.js'
import { S3Error } from '../errors.js'
import { AMZ_COPY_SOURCE, AMZ_METADATA_DIRECTIVE, AMZ_SSE, AMZ_SSE_C_ALGORITHM, AMZ_SSE_KMS_KEY_ID } from '../headers.js'
import { queryValue } from '../route.js'
import { resolveWriteSse } from '../sse-headers.js'
import { accessFor, type Access } from './actions.js'
import type { RequestContext } from './conditions.js'
import { decide, type Caller } from './evaluate.js'
import { parsePolicy, type Policy } from './parse.js'

export type { Access } from './actions.js'

/** Operations whose request carries the new object's encryption (contract §5.6 [C]). */
const SSE_KEY_OPS = new Set(['PutObject', 'CopyObject', 'CreateMultipartUpload'])
/** The owner account's root can always manage the policy, even if it denies (AWS's lockout rule). */
const POLICY_ACTIONS = new Set(['s3:getbucketpolicy', 's3:putbucketpolicy', 's3:deletebucketpolicy'])
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

export function callerOf(req: S3Request): Caller {
  return req.auth ? { anonymous: false, accountId: req.principal.accountId, arn: req.principal.principalArn } : { anonymous: true }
}

function peerAddress(req: S3Request): string | undefined {
  const a = req.incoming.socket?.remoteAddress
  return a?.startsWith('::ffff:') ? a.slice(7) : a
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
  // aws:SecureTransport is about the connection only: loopback plain HTTP is not secure here.
  set('aws:securetransport', (req.incoming.socket as { encrypted?: boolean } | undefined)?.encrypted ? 'true' : 'false')
  set('aws:sourceip', peerAddress(req))
  const now = Date.now()
  set('aws:currenttime', new Date(now).toISOString())
  set('aws:epochtime', String(Math.floor(now / 1000)))
  if (req.auth) {
    set('aws:principalaccount', req.principal.accountId)
    set('aws:principalarn', req.principal.principalArn)
    set('aws:principaltype', 'Account')
    set('s3:authtype', queryValue(req.query, 'X-Amz-Signature') !== undefined ? 'REST-QUERY-STRING' : 'REST-HEADER')
    set('s3:signatureversion', 'AWS4-HMAC-SHA256')
  }
  if (!access.source && SSE_KEY_OPS.has(req.op.kind)) {
    set('s3:x-amz-server-side-encryption', h[AMZ_SSE])
    const kid = h[AMZ_SSE_KMS_KEY_ID]
    // A bare key id names a key of the caller's account; policies compare against the key ARN.
    set('s3:x-amz-server-side-encryption-aws-kms-key-id', kid !== undefined && UUID.test(kid) ? `arn:aws:kms:${region}:${req.principal.accountId}:key/${kid}` : kid)
  }
  set('s3:x-amz-server-side-encryption-customer-algorithm', h[AMZ_SSE_C_ALGORITHM])
  if (req.op.kind === 'CopyObject' || req.op.kind === 'UploadPartCopy') set('s3:x-amz-copy-source', h[AMZ_COPY_SOURCE])
  if (req.op.kind === 'CopyObject') set('s3:x-amz-metadata-directive', h[AMZ_METADATA_DIRECTIVE])
  if (req.op.kind === 'ListObjects' || req.op.kind === 'ListObjectsV2') {
    set('s3:prefix', queryValue(req.query, 'prefix') ?? '')
    set('s3:delimiter', queryValue(req.query, 'delimiter'))
    set('s3:max-keys', queryValue(req.query, 'max-keys'))
  }
  return ctx
}

const SSE_KEYS: ReadonlySet<string> = new Set(['s3:x-amz-server-side-encryption', 's3:x-amz-server-side-encryption-aws-kms-key-id'])
const OTHER_PUT_OPS = new Set(['UploadPart', 'UploadPartCopy', 'CompleteMultipartUpload'])

/**
 * The s3:PutObject requests that cannot carry the new object's SSE headers (UploadPart,
 * UploadPartCopy, CompleteMultipartUpload) and a copy's read of its source are not judged on the
 * SSE header keys (contract §5.6 [C]): otherwise the classic "deny unencrypted uploads" policy
 * would refuse every part of an upload it let start.
 */
function inapplicableKeys(req: S3Request, access: Access): ReadonlySet<string> | undefined {
  return access.source || OTHER_PUT_OPS.has(req.op.kind) ? SSE_KEYS : undefined
}

/** §1.4 step 3 before step 4: the TLS and SSE-header errors of a write win over a policy's deny (TLS-06). */
function validateBeforePolicy(req: S3Request, bucket: BucketRecord, access: Access): void {
  if (access.source || !SSE_KEY_OPS.has(req.op.kind) || !('key' in req.op)) return
  const copy = req.op.kind === 'CopyObject'
  resolveWriteSse(req.headers, bucket, { secure: req.secure, copy }, copy ? 's3:CopyObject' : 's3:PutObject', req.op.key)
}

/**
 * Decides whether the caller may perform `access` (default: the request's own operation) on the
 * bucket; throws 403 AccessDenied otherwise. `owner`: the caller's account owns the bucket
 * (ops/common.ts `isOwner`, the one ownership rule). The owner's account is allowed unless the policy
 * explicitly denies; another account or an anonymous caller needs an Allow. `perKey`
 * (DeleteObjects): only the owner/policy presence is checked here, each key with `authorizeKey`.
 */
export function authorize(req: S3Request, bucket: BucketRecord, opts: { owner: boolean; region: string; access?: Access }): void {
  const a = opts.access ?? accessFor(req.op)
  if (!a) throw new S3Error('AccessDenied')
  const { region } = opts
  const owner = opts.owner && req.auth !== null
  if (bucket.policy === undefined) {
    if (!owner) throw new S3Error('AccessDenied')
    return
  }
  validateBeforePolicy(req, bucket, a)
  if (a.perKey) return
  const d = decision(req, bucket, region, a)
  const managesPolicy = POLICY_ACTIONS.has(a.action.toLowerCase())
  if (d === 'deny') {
    if (owner && managesPolicy) return
    throw new S3Error('AccessDenied')
  }
  if (owner) return
  // Another account or anonymous: only an Allow grants, and never the policy management actions.
  if (d === 'allow' && !managesPolicy) return
  throw new S3Error('AccessDenied')
}

function decision(req: S3Request, bucket: BucketRecord, region: string, a: Access) {
  const policy = policyOf(bucket, bucket.policy!)
  const resource = a.key === undefined ? `arn:aws:s3:::${bucket.name}` : `arn:aws:s3:::${bucket.name}/${a.key}`
  return decide(policy, { caller: callerOf(req), action: a.action, resource, context: requestContext(req, a, region), inapplicable: inapplicableKeys(req, a) })
}

/** DeleteObjects: whether one key may be deleted (its entry answers AccessDenied otherwise). */
export function authorizeKey(req: S3Request, bucket: BucketRecord, opts: { owner: boolean; region: string }, key: string, action = 's3:DeleteObject'): boolean {
  const owner = opts.owner && req.auth !== null
  const region = opts.region
  if (bucket.policy === undefined) return owner
  const a: Access = { action, key }
  const d = decision(req, bucket, region, a)
  return d === 'allow' || (d === 'implicit' && owner)
}
