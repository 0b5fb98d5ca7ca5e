/**
 * @module Policy documents: bucket policies (PutBucketPolicy, POL-06), IAM identity
 * and session policies, KMS key policies and role trust policies, validated into the one typed
 * Policy the evaluator reads. Knows no HTTP: every refusal is a PolicyError carrying AWS's
 * MalformedPolicy message; the operation turns it into the 400.
 *
 * Hostile input is bounded before it is parsed: the document is at most 20 KB (AWS's bucket-policy
 * quota), so JSON.parse never sees more, and nesting deeper than the grammar allows is refused
 * by type checks (a Condition value is a string, number, boolean or a flat array of them).
 */
import { isKnownAction, isKnownPolicyAction } from './actions.js'
import { CONDITION_OPERATORS } from './conditions.js'
import { wildcardMatch } from './match.js'

/** AWS's bucket-policy size quota (20 KB). */
export const MAX_POLICY_BYTES = 20 * 1024

/**
 * Which kind of document: a resource policy names principals (`bucket`, `key`, `trust`); an
 * identity or session policy must not. Sizes are AWS's quotas: role inline policies 10,240
 * characters, session policies 2,048, key policies 32 KB, trust policies 4,096 (raised quota).
 */
export type PolicyKind = 'bucket' | 'identity' | 'session' | 'key' | 'trust'
const MAX_BYTES: Record<PolicyKind, number> = {
  bucket: MAX_POLICY_BYTES,
  identity: 10240,
  session: 2048,
  key: 32768,
  trust: 4096,
}

export class PolicyError extends Error {
  override readonly name = 'PolicyError'
}

export const MSG = {
  json: "Policies must be valid JSON and the first byte must be '{'",
  size: 'Policy exceeds the maximum allowed document size.',
  action: 'Policy has invalid action',
  resource: 'Policy has invalid resource',
  principal: 'Invalid principal in policy',
  missing: (field: string) => `Missing required field ${field}`,
  unknownField: (field: string) => `Unknown field ${field}`,
  effect: (v: string) => `Invalid effect: ${v}`,
  condition: (op: string) => `Invalid Condition type : ${op}`,
  conditionKey: 'Policy has an invalid condition key',
  version: 'The policy must contain a valid version string',
  conditionValue: 'Invalid Condition value',
  principalNotAllowed: 'Policy document should not specify a principal.',
  resourceNotAllowed: 'Has prohibited field Resource',
} as const

/** One principal pattern: `*` (everyone, anonymous included) or an account id / IAM ARN. */
export type PrincipalSpec = { any: true } | { any: false; aws: string[]; other: string[] }

export interface Condition {
  /** The base operator (StringEquals, Null, …), without prefix or IfExists. */
  op: string
  ifExists: boolean
  set?: 'ForAnyValue' | 'ForAllValues'
  key: string
  values: string[]
}

export interface Statement {
  sid?: string
  effect: 'Allow' | 'Deny'
  principal?: PrincipalSpec
  notPrincipal?: PrincipalSpec
  actions?: string[]
  notActions?: string[]
  resources?: string[]
  notResources?: string[]
  conditions: Condition[]
}

export interface Policy {
  version?: string
  statements: Statement[]
}

const TOP_FIELDS = new Set(['Version', 'Id', 'Statement'])
const STATEMENT_FIELDS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
])
const ACCOUNT_ID = /^\d{12}$/
/**
 * IAM principal ARNs S3 accepts: the account root, users, roles, assumed-role sessions. A wildcard
 * anywhere inside an ARN (`arn:aws:iam::*:root`, `…:user/*`) is refused, as IAM refuses it ("You
 * cannot use a wildcard to match part of a principal name or ARN", IAM JSON policy reference,
 * Principal): only the whole principal may be `*`.
 */
const IAM_ARN =
  /^arn:aws:(iam|sts)::\d{12}:(root|user\/[^*?]+|role\/[^*?]+|assumed-role\/[^*?]+|federated-user\/[^*?]+)$/
const PRINCIPAL_TYPES = new Set(['AWS', 'Service', 'CanonicalUser', 'Federated'])
/** `prefix:name` keys; the name may carry a `/tag-key` (aws:PrincipalTag/x, s3:ExistingObjectTag/x). */
const CONDITION_KEY = /^[A-Za-z0-9-]+:[A-Za-z0-9._\-/:*]+$/

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A field that may be one string or a non-empty list of strings. */
function stringList(v: unknown, message: string): string[] {
  const list = Array.isArray(v) ? v : [v]
  if (list.length === 0) throw new PolicyError(message)
  for (const item of list) if (typeof item !== 'string' || item === '') throw new PolicyError(message)
  return list as string[]
}

function parsePrincipal(v: unknown): PrincipalSpec {
  if (v === '*') return { any: true }
  if (!isObject(v)) throw new PolicyError(MSG.principal)
  const entries = Object.entries(v)
  if (entries.length === 0) throw new PolicyError(MSG.principal)
  const aws: string[] = []
  const other: string[] = []
  for (const [type, value] of entries) {
    if (!PRINCIPAL_TYPES.has(type)) throw new PolicyError(MSG.principal)
    const ids = stringList(value, MSG.principal)
    if (type !== 'AWS') {
      other.push(...ids.map((id) => `${type}:${id}`))
      continue
    }
    for (const id of ids) {
      if (id === '*') return { any: true }
      if (!ACCOUNT_ID.test(id) && !IAM_ARN.test(id)) throw new PolicyError(MSG.principal)
      aws.push(id)
    }
  }
  return { any: false, aws, other }
}

function parseActions(v: unknown, kind: PolicyKind): string[] {
  const list = stringList(v, MSG.action)
  for (const a of list)
    if (!(kind === 'bucket' ? isKnownAction(a) : isKnownPolicyAction(a, kind))) throw new PolicyError(MSG.action)
  return list
}

/** Resources of identity, session and key policies: `*` or an ARN (wildcards allowed). */
function parseAnyResources(v: unknown): string[] {
  const list = stringList(v, MSG.resource)
  for (const r of list) if (r !== '*' && !r.startsWith('arn:')) throw new PolicyError(MSG.resource)
  return list
}

/** Resources must name this bucket (`arn:aws:s3:::bucket` or `…/key-pattern`), wildcards allowed. */
function parseResources(v: unknown, bucket: string): string[] {
  const list = stringList(v, MSG.resource)
  for (const r of list) {
    if (!r.startsWith('arn:aws:s3:::')) throw new PolicyError(MSG.resource)
    const rest = r.slice('arn:aws:s3:::'.length)
    const slash = rest.indexOf('/')
    const bucketPart = slash < 0 ? rest : rest.slice(0, slash)
    if (!bucketPart || !wildcardMatch(bucketPart, bucket)) throw new PolicyError(MSG.resource)
  }
  return list
}

function parseConditions(v: unknown): Condition[] {
  if (!isObject(v)) throw new PolicyError(MSG.conditionValue)
  const out: Condition[] = []
  for (const [rawOp, block] of Object.entries(v)) {
    let name = rawOp
    let set: Condition['set']
    const colon = name.indexOf(':')
    if (colon >= 0) {
      const prefix = name.slice(0, colon)
      if (prefix !== 'ForAnyValue' && prefix !== 'ForAllValues') throw new PolicyError(MSG.condition(rawOp))
      set = prefix
      name = name.slice(colon + 1)
    }
    let ifExists = false
    if (name.endsWith('IfExists') && name !== 'IfExists') {
      ifExists = true
      name = name.slice(0, -'IfExists'.length)
      if (name === 'Null') throw new PolicyError(MSG.condition(rawOp))
    }
    if (!CONDITION_OPERATORS.has(name)) throw new PolicyError(MSG.condition(rawOp))
    if (!isObject(block)) throw new PolicyError(MSG.conditionValue)
    for (const [key, raw] of Object.entries(block)) {
      if (!CONDITION_KEY.test(key)) throw new PolicyError(MSG.conditionKey)
      const list = Array.isArray(raw) ? raw : [raw]
      const values: string[] = []
      for (const item of list) {
        if (typeof item === 'string') values.push(item)
        else if (typeof item === 'number' && Number.isFinite(item)) values.push(String(item))
        else if (typeof item === 'boolean') values.push(String(item))
        else throw new PolicyError(MSG.conditionValue)
      }
      if (values.length === 0) throw new PolicyError(MSG.conditionValue)
      out.push({ op: name, ifExists, set, key, values })
    }
  }
  return out
}

function parseStatement(raw: unknown, bucket: string, kind: PolicyKind): Statement {
  if (!isObject(raw)) throw new PolicyError(MSG.missing('Effect'))
  for (const field of Object.keys(raw)) if (!STATEMENT_FIELDS.has(field)) throw new PolicyError(MSG.unknownField(field))
  if (raw.Effect === undefined) throw new PolicyError(MSG.missing('Effect'))
  if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny') throw new PolicyError(MSG.effect(String(raw.Effect)))
  if (raw.Sid !== undefined && typeof raw.Sid !== 'string') throw new PolicyError(MSG.conditionValue)
  const st: Statement = { sid: raw.Sid as string | undefined, effect: raw.Effect, conditions: [] }
  // Exactly one of each pair (AWS refuses both and neither).
  if (kind === 'identity' || kind === 'session') {
    if (raw.Principal !== undefined || raw.NotPrincipal !== undefined) throw new PolicyError(MSG.principalNotAllowed)
  } else {
    if ((raw.Principal === undefined) === (raw.NotPrincipal === undefined))
      throw new PolicyError(MSG.missing('Principal'))
    if (raw.Principal !== undefined) st.principal = parsePrincipal(raw.Principal)
    else st.notPrincipal = parsePrincipal(raw.NotPrincipal)
  }
  if ((raw.Action === undefined) === (raw.NotAction === undefined)) throw new PolicyError(MSG.missing('Action'))
  if (raw.Action !== undefined) st.actions = parseActions(raw.Action, kind)
  else st.notActions = parseActions(raw.NotAction, kind)
  if (kind === 'trust') {
    // A role's trust policy is about the role itself: no Resource element.
    if (raw.Resource !== undefined || raw.NotResource !== undefined) throw new PolicyError(MSG.resourceNotAllowed)
  } else {
    if ((raw.Resource === undefined) === (raw.NotResource === undefined)) throw new PolicyError(MSG.missing('Resource'))
    const resources = kind === 'bucket' ? (r: unknown) => parseResources(r, bucket) : parseAnyResources
    if (raw.Resource !== undefined) st.resources = resources(raw.Resource)
    else st.notResources = resources(raw.NotResource)
  }
  if (raw.Condition !== undefined) st.conditions = parseConditions(raw.Condition)
  return st
}

/**
 * Validates a bucket policy for `bucket` (PutBucketPolicy) and returns it typed. Throws
 * PolicyError with AWS's MalformedPolicy message; never anything else, whatever the input.
 */
export function parsePolicy(text: string, bucket: string): Policy {
  return parsePolicyDocument(text, 'bucket', bucket)
}

/**
 * Validates a policy document of `kind` (`bucket`: resources must name `bucket`). Throws
 * PolicyError with AWS's message; never anything else, whatever the input.
 */
export function parsePolicyDocument(text: string, kind: PolicyKind, bucket = ''): Policy {
  if (Buffer.byteLength(text, 'utf8') > MAX_BYTES[kind]) throw new PolicyError(MSG.size)
  if (!text.startsWith('{')) throw new PolicyError(MSG.json)
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new PolicyError(MSG.json)
  }
  if (!isObject(doc)) throw new PolicyError(MSG.json)
  for (const field of Object.keys(doc)) if (!TOP_FIELDS.has(field)) throw new PolicyError(MSG.unknownField(field))
  if (doc.Version !== undefined && doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17')
    throw new PolicyError(MSG.version)
  if (doc.Id !== undefined && typeof doc.Id !== 'string') throw new PolicyError(MSG.json)
  if (doc.Statement === undefined) throw new PolicyError(MSG.missing('Statement'))
  const raw = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]
  if (raw.length === 0) throw new PolicyError(MSG.missing('Statement'))
  return { version: doc.Version as string | undefined, statements: raw.map((s) => parseStatement(s, bucket, kind)) }
}
