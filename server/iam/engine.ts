/**
 * @module The one access decision for S3, KMS and STS, after the IAM User Guide's "Policy
 * evaluation logic":
 * 1. an applicable Deny in any policy (identity, session, resource) decides: explicit deny;
 * 2. same account: an Allow in the identity policies OR one in the resource policy naming the
 *    principal grants ("Policy evaluation for requests within a single account");
 * 3. another account: the identity policies AND the resource policy must both allow
 *    ("Cross-account policy evaluation logic");
 * 4. a session policy limits identity-based permissions and resource grants to the role, not
 *    grants naming the session's own ARN ("Session policies");
 * 5. a resource policy naming an account (`arn:aws:iam::<acct>:root` or the id) delegates to
 *    that account: it grants its root user, and for its other principals it counts only together
 *    with their identity policies ("Specifying a principal");
 * 6. KMS key policies gate identity policies: those apply only where the key policy allows the
 *    account ("Default key policy: allows IAM policies", KMS Developer Guide).
 * Pure: no HTTP, no storage. Policy variables (`${aws:username}`…) are resolved here.
 */
import { actionMatches } from '../s3/policy/actions.js'
import { conditionHolds, type RequestContext } from '../s3/policy/conditions.js'
import { wildcardMatch } from '../s3/policy/match.js'
import type { Condition, Policy, PrincipalSpec, Statement } from '../s3/policy/parse.js'
import type { IamIdentity } from './identity.js'

export type PolicyType = 'identity' | 'session' | 'bucket' | 'key' | 'trust'

export interface AccessRequest {
  /** null: an anonymous request. */
  identity: IamIdentity | null
  /** e.g. `s3:GetObject`, `kms:Decrypt`, `sts:AssumeRole`. */
  action: string
  resource: string
  /** The account owning the resource; undefined: the caller's own (s3:ListAllMyBuckets, kms:CreateKey). */
  resourceAccount?: string
  resourcePolicy?: { type: 'bucket' | 'key' | 'trust'; policy: Policy }
  /** Rule 6 (KMS key policies). */
  keyPolicyGate?: boolean
  /** Lowercase condition keys (the principal's included: identity.ts identityContext). */
  context: RequestContext
  /** Lowercase keys the operation is not judged on (conditionHolds). */
  inapplicable?: ReadonlySet<string>
}

export interface AccessDecision {
  allowed: boolean
  reason: 'allowed' | 'explicit-deny' | 'implicit-deny'
  /** Denials: the policy type whose Deny decided, or whose missing Allow did. Allows: what granted. */
  policyType?: PolicyType
  /** The Sid of the deciding statement, when one decided and has a Sid. */
  sid?: string
  /** AWS's wording after the resource: `because no identity-based policy allows the s3:GetObject action`. */
  detail: string
}

/**
 * How a resource-policy principal matched: by name, by the role of a session (`role`), by the session's own ARN, or by
 * account.
 */
type PrincipalMatch = 'direct' | 'role' | 'session' | 'account' | undefined

function principalMatch(spec: PrincipalSpec, id: IamIdentity | null): PrincipalMatch {
  if (spec.any) return 'direct'
  if (!id) return undefined
  let best: PrincipalMatch
  for (const p of spec.aws) {
    if (p === id.accountId || p === `arn:aws:iam::${id.accountId}:root`) {
      if (id.kind === 'root') return 'direct'
      best ??= 'account'
      continue
    }
    if (id.kind === 'assumed-role' && wildcardMatch(p, id.arn)) return 'session'
    if (id.roleArn && wildcardMatch(p, id.roleArn)) best = 'role'
    else if (!id.roleArn && wildcardMatch(p, id.arn)) return 'direct'
  }
  return best
}

const VARIABLE = /\$\{([^}]*)\}/g

/**
 * Resolves policy variables in one value (IAM "Policy variables"): `${key}` from the request
 * context, `${key, 'default'}`, and the escapes `${*}`, `${?}`, `${$}`. Undefined when a key is
 * absent without a default: the value then matches nothing. Only Version 2012-10-17 documents
 * have variables; in older ones `${…}` is literal text.
 */
export function substitute(value: string, ctx: RequestContext, versioned: boolean): string | undefined {
  if (!versioned || !value.includes('${')) return value
  let missing = false
  const out = value.replace(VARIABLE, (_, inner: string) => {
    const body = inner.trim()
    if (body === '*' || body === '?' || body === '$') return body
    const m = /^([^,]+?)\s*(?:,\s*'([^']*)')?$/.exec(body)
    const got = m ? ctx[m[1].trim().toLowerCase()] : undefined
    if (got && got.length === 1) return got[0]
    if (m && m[2] !== undefined) return m[2]
    missing = true
    return ''
  })
  return missing ? undefined : out
}

function conditionsHold(st: Statement, req: AccessRequest, versioned: boolean): boolean {
  return st.conditions.every((c) => {
    const values = c.values
      .map((v) => substitute(v, req.context, versioned))
      .filter((v): v is string => v !== undefined)
    // A value whose variable cannot be resolved matches nothing.
    const resolved: Condition = { ...c, values: values.length > 0 ? values : ['\u0000unresolved'] }
    return conditionHolds(resolved, req.context, req.inapplicable)
  })
}

function resourceMatches(patterns: readonly string[], req: AccessRequest, versioned: boolean): boolean {
  return patterns.some((r) => {
    const p = substitute(r, req.context, versioned)
    return p !== undefined && wildcardMatch(p, req.resource)
  })
}

/** Whether a statement's action, resource and conditions apply (principals are judged apart). */
function applies(st: Statement, req: AccessRequest, versioned: boolean): boolean {
  if (st.actions && !st.actions.some((a) => actionMatches(a, req.action))) return false
  if (st.notActions && st.notActions.some((a) => actionMatches(a, req.action))) return false
  if (st.resources && !resourceMatches(st.resources, req, versioned)) return false
  if (st.notResources && resourceMatches(st.notResources, req, versioned)) return false
  return conditionsHold(st, req, versioned)
}

interface Hit {
  type: PolicyType
  sid?: string
  match?: PrincipalMatch
}

interface Scan {
  deny?: Hit
  allow?: Hit
}

/** Identity or session policies: the first applicable Deny, the first applicable Allow. */
function scanIdentity(policies: readonly Policy[], type: PolicyType, req: AccessRequest): Scan {
  const out: Scan = {}
  for (const policy of policies) {
    const versioned = policy.version === '2012-10-17'
    for (const st of policy.statements) {
      if (!applies(st, req, versioned)) continue
      if (st.effect === 'Deny') return { deny: { type, sid: st.sid } }
      out.allow ??= { type, sid: st.sid }
    }
  }
  return out
}

/** The resource policy: a Deny naming the principal or its account; the best Allow (direct over account). */
function scanResource(req: AccessRequest): { deny?: Hit; direct?: Hit; account?: Hit } {
  const rp = req.resourcePolicy
  if (!rp) return {}
  const versioned = rp.policy.version === '2012-10-17'
  const out: { deny?: Hit; direct?: Hit; account?: Hit } = {}
  for (const st of rp.policy.statements) {
    let match: PrincipalMatch
    if (st.principal) match = principalMatch(st.principal, req.identity)
    else if (st.notPrincipal) match = principalMatch(st.notPrincipal, req.identity) === undefined ? 'direct' : undefined
    if (match === undefined || !applies(st, req, versioned)) continue
    const hit: Hit = { type: rp.type, sid: st.sid, match }
    if (st.effect === 'Deny') return { deny: hit }
    if (match === 'account') out.account ??= hit
    else if (!out.direct || (match === 'session' && out.direct.match !== 'session')) out.direct = hit
  }
  return out
}

const TYPE_WORDS: Record<PolicyType, string> = {
  identity: 'an identity-based policy',
  session: 'a session policy',
  bucket: 'a resource-based policy',
  key: 'a resource-based policy',
  trust: 'a resource-based policy',
}
const NO_WORDS: Record<PolicyType, string> = {
  identity: 'identity-based',
  session: 'session',
  bucket: 'resource-based',
  key: 'resource-based',
  trust: 'resource-based',
}

function explicit(hit: Hit): AccessDecision {
  return {
    allowed: false,
    reason: 'explicit-deny',
    policyType: hit.type,
    sid: hit.sid,
    detail: `with an explicit deny in ${TYPE_WORDS[hit.type]}`,
  }
}

function implicit(type: PolicyType, action: string): AccessDecision {
  return {
    allowed: false,
    reason: 'implicit-deny',
    policyType: type,
    detail: `because no ${NO_WORDS[type]} policy allows the ${action} action`,
  }
}

function allowed(hit: Hit): AccessDecision {
  return { allowed: true, reason: 'allowed', policyType: hit.type, sid: hit.sid, detail: '' }
}

/** Decides a request (rules 1–6 of the module comment). */
export function evaluateAccess(req: AccessRequest): AccessDecision {
  const id = req.identity
  const resourceType: PolicyType = req.resourcePolicy?.type ?? (req.keyPolicyGate ? 'key' : 'bucket')
  const identityScan: Scan = id?.policies
    ? scanIdentity(
        id.policies.map((p) => p.policy),
        'identity',
        req,
      )
    : {}
  const sessionScan: Scan | undefined = id?.sessionPolicy
    ? scanIdentity([id.sessionPolicy.policy], 'session', req)
    : undefined
  const res = scanResource(req)
  // Rule 1: explicit deny anywhere.
  for (const d of [identityScan.deny, sessionScan?.deny, res.deny]) if (d) return explicit(d)
  if (!id) return res.direct ? allowed(res.direct) : implicit(resourceType, req.action)
  // Root and account keys hold the account's full authority (no identity policy limits them).
  const identityAllow: Hit | undefined = id.policies === undefined ? { type: 'identity' } : identityScan.allow
  const sessionOk = (viaSessionArn: boolean) =>
    sessionScan === undefined || viaSessionArn || sessionScan.allow !== undefined
  const identityPath = identityAllow !== undefined && sessionOk(false)
  const directPath = res.direct !== undefined && sessionOk(res.direct.match === 'session')
  const sameAccount = req.resourceAccount === undefined || req.resourceAccount === id.accountId
  const missingSession = sessionScan !== undefined && sessionScan.allow === undefined
  if (req.keyPolicyGate) {
    // Rule 6: the key policy allows the principal itself, or the account and then IAM policies apply.
    if (directPath) return allowed(res.direct!)
    if (res.account && identityPath) return allowed(identityAllow!)
    if (res.direct) return implicit('session', req.action)
    if (res.account) return implicit(identityAllow ? 'session' : 'identity', req.action)
    return implicit(resourceType, req.action)
  }
  if (sameAccount) {
    // Rule 2.
    if (identityPath) return allowed(identityAllow!)
    if (directPath) return allowed(res.direct!)
    return implicit((identityAllow || res.direct) && missingSession ? 'session' : 'identity', req.action)
  }
  // Rule 3: both sides.
  if (!res.direct && !res.account) return implicit(resourceType, req.action)
  if (!identityAllow) return implicit('identity', req.action)
  if (!identityPath) return implicit('session', req.action)
  return allowed(res.direct ?? res.account!)
}

/**
 * AWS's AccessDenied message: `User: <arn> is not authorized to perform: <action> on resource: <resource> <detail>`.
 */
export function denialMessage(
  principalArn: string,
  action: string,
  resource: string,
  decision: AccessDecision,
): string {
  return `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource} ${decision.detail}`
}
