/**
 * @module The IAM part of the accounts file: users with inline identity policies and access keys,
 * roles with a trust policy, inline policies and a maximum session duration. Validated at start;
 * every fault names where it is and never quotes a secret.
 *
 *   "users": [{"name": "app", "policies": {"read": {<policy>}}, "keys": [{"accessKeyId": …, "secretAccessKey": …}]}],
 * "roles": [{"name": "reader", "trustPolicy": {<policy>}, "policies": {"read": {<policy>}}, "maxSessionDuration":
 * 3600}]
 */
import { PolicyError, parsePolicyDocument, type PolicyKind } from '../s3/policy/parse.js'
import { uniqueId, type IamIdentity, type IamRole, type InlinePolicy } from './identity.js'

/** IAM user and role names: 1-64 of `[\w+=,.@-]`. */
export const IAM_NAME_RE = /^[\w+=,.@-]{1,64}$/
/** Inline policy names: 1-128 of `[\w+=,.@-]`. */
const POLICY_NAME_RE = /^[\w+=,.@-]{1,128}$/

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A policy given as a JSON object or a JSON string, parsed as `kind`. */
export function policyOf(
  value: unknown,
  kind: PolicyKind,
  at: string,
  fail: (msg: string) => never,
): InlinePolicy['policy'] {
  const text = typeof value === 'string' ? value : isObject(value) ? JSON.stringify(value) : undefined
  if (text === undefined) return fail(`${at} must be a policy document (a JSON object)`)
  try {
    return parsePolicyDocument(text, kind)
  } catch (err) {
    if (err instanceof PolicyError) return fail(`${at}: ${err.message}`)
    throw err
  }
}

/** `"policies": {"name": <document>, …}`: inline identity policies. */
function inlinePolicies(value: unknown, at: string, fail: (msg: string) => never): InlinePolicy[] {
  if (value === undefined) return []
  if (!isObject(value)) return fail(`${at}.policies must be an object of policy name to policy document`)
  return Object.entries(value).map(([name, doc]) => {
    if (!POLICY_NAME_RE.test(name))
      fail(`${at}.policies: "${name}" is not a valid policy name (1-128 characters of letters, digits and _+=,.@-)`)
    return { name, policy: policyOf(doc, 'identity', `${at}.policies["${name}"]`, fail) }
  })
}

export interface ParsedUser {
  identity: IamIdentity
  keys: unknown
  at: string
}

/** The `users` of one account (their keys are checked by the caller, with the account's other keys). */
export function parseUsers(
  value: unknown,
  accountId: string,
  where: string,
  fail: (msg: string) => never,
): ParsedUser[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) return fail(`${where}: "users" must be an array`)
  const names = new Set<string>()
  return value.map((user: unknown, i) => {
    const at = `${where}.users[${i}]`
    if (!isObject(user)) return fail(`${at} must be an object`)
    if (typeof user.name !== 'string' || !IAM_NAME_RE.test(user.name))
      return fail(`${at}: "name" must be 1-64 characters of letters, digits and _+=,.@-`)
    if (names.has(user.name.toLowerCase())) return fail(`${at}: duplicate user name ${user.name}`)
    names.add(user.name.toLowerCase())
    const arn = `arn:aws:iam::${accountId}:user/${user.name}`
    const identity: IamIdentity = {
      kind: 'user',
      accountId,
      arn,
      userId: uniqueId('AIDA', arn),
      userName: user.name,
      policies: inlinePolicies(user.policies, at, fail),
    }
    return { identity, keys: user.keys, at }
  })
}

/** The `roles` of one account. */
export function parseRoles(value: unknown, accountId: string, where: string, fail: (msg: string) => never): IamRole[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) return fail(`${where}: "roles" must be an array`)
  const names = new Set<string>()
  return value.map((role: unknown, i) => {
    const at = `${where}.roles[${i}]`
    if (!isObject(role)) return fail(`${at} must be an object`)
    if (typeof role.name !== 'string' || !IAM_NAME_RE.test(role.name))
      return fail(`${at}: "name" must be 1-64 characters of letters, digits and _+=,.@-`)
    if (names.has(role.name.toLowerCase())) return fail(`${at}: duplicate role name ${role.name}`)
    names.add(role.name.toLowerCase())
    if (role.trustPolicy === undefined) return fail(`${at}: missing "trustPolicy"`)
    const max = role.maxSessionDuration ?? 3600
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 3600 || max > 43200) {
      return fail(`${at}: "maxSessionDuration" must be a whole number of seconds from 3600 to 43200`)
    }
    const arn = `arn:aws:iam::${accountId}:role/${role.name}`
    return {
      name: role.name,
      accountId,
      arn,
      roleId: uniqueId('AROA', arn),
      trustPolicy: policyOf(role.trustPolicy, 'trust', `${at}.trustPolicy`, fail),
      policies: inlinePolicies(role.policies, at, fail),
      maxSessionDuration: max,
    }
  })
}
