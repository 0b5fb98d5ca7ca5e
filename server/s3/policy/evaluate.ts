/**
 * @module Bucket-policy evaluation (AWS "policy evaluation logic", resource-based policy only):
 * a matching Deny statement wins over everything; otherwise a matching Allow allows; otherwise
 * the policy says nothing ('implicit'), and the caller decides (the bucket owner's account is
 * allowed by identity, everyone else is refused). Pure: no HTTP, no storage.
 */
import { actionMatches } from './actions.js'
import { conditionHolds, type RequestContext } from './conditions.js'
import { wildcardMatch } from './match.js'
import type { Policy, PrincipalSpec, Statement } from './parse.js'

export type Decision = 'allow' | 'deny' | 'implicit'

/** Who is asking: an account's principal, or nobody (anonymous). */
export type Caller = { anonymous: true } | { anonymous: false; accountId: string; arn: string }

export interface PolicyRequest {
  caller: Caller
  /** e.g. `s3:PutObject`. */
  action: string
  /** `arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/key`. */
  resource: string
  context: RequestContext
  /** Lowercase keys the operation is not judged on (see conditionHolds). */
  inapplicable?: ReadonlySet<string>
}

/**
 * `*` matches everyone, anonymous included; an account id or `arn:aws:iam::<acct>:root` matches
 * every principal of that account; another IAM ARN matches that principal exactly (wildcards
 * allowed in the account position only as `*`, as IAM does). Service/CanonicalUser/Federated
 * principals never match a request made with this store's credentials.
 */
export function principalMatches(spec: PrincipalSpec, caller: Caller): boolean {
  if (spec.any) return true
  if (caller.anonymous) return false
  return spec.aws.some(
    (p) => p === caller.accountId || p === `arn:aws:iam::${caller.accountId}:root` || wildcardMatch(p, caller.arn),
  )
}

function statementApplies(st: Statement, req: PolicyRequest): boolean {
  if (st.principal && !principalMatches(st.principal, req.caller)) return false
  if (st.notPrincipal && principalMatches(st.notPrincipal, req.caller)) return false
  if (st.actions && !st.actions.some((a) => actionMatches(a, req.action))) return false
  if (st.notActions && st.notActions.some((a) => actionMatches(a, req.action))) return false
  if (st.resources && !st.resources.some((r) => wildcardMatch(r, req.resource))) return false
  if (st.notResources && st.notResources.some((r) => wildcardMatch(r, req.resource))) return false
  return st.conditions.every((c) => conditionHolds(c, req.context, req.inapplicable))
}

/** Explicit Deny wins, then Allow; 'implicit' when no statement applies. */
export function decide(policy: Policy, req: PolicyRequest): Decision {
  let allowed = false
  for (const st of policy.statements) {
    if (!statementApplies(st, req)) continue
    if (st.effect === 'Deny') return 'deny'
    allowed = true
  }
  return allowed ? 'allow' : 'implicit'
}

export { isPublic } from './public.js'
