/**
 * @module Whether a bucket policy is "public" in S3's sense (S3 User Guide, "Blocking public access
 * to your Amazon S3 storage", "The meaning of public"; PublicAccessBlockConfiguration in the S3 API
 * reference): the one predicate behind GetBucketPolicyStatus, BlockPublicPolicy and
 * RestrictPublicBuckets. Pure: no HTTP, no storage.
 *
 * A policy is public when some Allow statement admits everyone: `Principal: "*"` (or `{"AWS": "*"}`)
 * or any `NotPrincipal`, unless one of its conditions pins the request to fixed values of a key that
 * only a known party can meet:
 * - aws:SourceIp with `IpAddress` on a set of CIDRs (not one covering every address, `/0`);
 * - aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:SourceOwner, aws:SourceAccount,
 *   aws:PrincipalOrgID, aws:PrincipalAccount, aws:PrincipalArn,
 *   s3:x-amz-server-side-encryption-aws-kms-key-id, or aws:userid outside the pattern `AROLEID:*`,
 *   with a positive operator (…Equals, or …Like on a value without wildcards).
 * A "fixed" value holds no wildcard (`*`, `?`) and no policy variable (`${…}`). Negated operators
 * (StringNotEquals, NotIpAddress), `…IfExists` and `ForAllValues:` admit requests that lack the key
 * or carry another value, so they pin nothing.
 */
import type { Condition, Policy, Statement } from './parse.js'

const FIXED_KEYS = new Set([
  'aws:sourcearn',
  'aws:sourcevpc',
  'aws:sourcevpce',
  'aws:sourceowner',
  'aws:sourceaccount',
  'aws:principalorgid',
  'aws:principalaccount',
  'aws:principalarn',
  's3:x-amz-server-side-encryption-aws-kms-key-id',
  'aws:userid',
])
const POSITIVE_STRING_OPS = new Set(['StringEquals', 'StringEqualsIgnoreCase', 'StringLike', 'ArnEquals', 'ArnLike'])

const isFixed = (v: string): boolean => !/[*?]/.test(v) && !v.includes('${')

function cidrCoversAll(cidr: string): boolean {
  const bits = cidr.split('/')[1]
  return bits !== undefined && Number(bits) === 0
}

/** Whether this one condition pins the request to fixed values of a restricting key. */
function restricts(c: Condition): boolean {
  if (c.ifExists || c.set === 'ForAllValues' || c.values.length === 0) return false
  const key = c.key.toLowerCase()
  if (key === 'aws:sourceip') return c.op === 'IpAddress' && c.values.every((v) => !cidrCoversAll(v))
  if (!FIXED_KEYS.has(key) || !POSITIVE_STRING_OPS.has(c.op) || !c.values.every(isFixed)) return false
  // A role session's aws:userid is `AROLEID:session`: naming a role id with any session stays public.
  if (key === 'aws:userid') return c.values.every((v) => !v.endsWith(':'))
  return true
}

/** Whether the statement admits every principal before its conditions are applied. */
function admitsEveryone(st: Statement): boolean {
  return st.notPrincipal !== undefined || st.principal?.any === true
}

/** A statement that makes its policy public. */
export function isPublicStatement(st: Statement): boolean {
  return st.effect === 'Allow' && admitsEveryone(st) && !st.conditions.some(restricts)
}

/** GetBucketPolicyStatus IsPublic; BlockPublicPolicy and RestrictPublicBuckets use the same answer. */
export function isPublic(policy: Policy): boolean {
  return policy.statements.some(isPublicStatement)
}
