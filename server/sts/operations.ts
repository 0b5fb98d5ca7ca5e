/**
 * @module The STS operations (AWS Security Token Service API Reference): GetCallerIdentity,
 * GetSessionToken and AssumeRole, over typed parameters. Trust policies are judged by the one
 * policy engine; temporary credentials come from the session store. No HTTP here (handler.ts).
 */
import type { IamIdentity, IamRole } from '../iam/identity.js'
import { evaluateAccess } from '../iam/engine.js'
import type { SessionStore, TemporaryCredential } from '../iam/sessions.js'
import { PolicyError, parsePolicyDocument } from '../s3/policy/parse.js'

/** An STS fault: `ErrorResponse/Error` with Type Sender, Code, Message and an HTTP status. */
export class StsError extends Error {
  override readonly name = 'StsError'
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

const validation = (message: string) => new StsError(400, 'ValidationError', message)
const SESSION_NAME_RE = /^[\w+=,.@-]{2,64}$/
const EXTERNAL_ID_RE = /^[\w+=,.@:/-]{2,1224}$/
/** Parameters this store does not implement: refused, never ignored. */
const NOT_IMPLEMENTED = [
  'PolicyArns.member.',
  'Tags.member.',
  'TransitiveTagKeys.member.',
  'SourceIdentity',
  'SerialNumber',
  'TokenCode',
  'ProvidedContexts.member.',
]

export interface StsCall {
  identity: IamIdentity
  /** Temporary credentials signed the request. */
  viaSession: boolean
  params: URLSearchParams
  /** The request's global condition keys (the principal's added here). */
  context: Record<string, string[]>
  roles: readonly IamRole[]
  sessions: SessionStore
  now: number
}

function refuseUnimplemented(params: URLSearchParams): void {
  for (const name of params.keys()) {
    if (NOT_IMPLEMENTED.some((p) => (p.endsWith('.') ? name.startsWith(p) : name === p))) {
      throw new StsError(
        501,
        'NotImplemented',
        `The parameter ${name.replace(/\.\d+$/, '')} is not implemented by this store.`,
      )
    }
  }
}

/** DurationSeconds: an integer within [min, max], else AWS's validation message. */
function duration(params: URLSearchParams, fallback: number, min: number, max: number): number {
  const raw = params.get('DurationSeconds')
  if (raw === null) return fallback
  if (!/^-?\d+$/.test(raw))
    throw validation(
      `1 validation error detected: Value '${raw}' at 'durationSeconds' failed to satisfy constraint: Member must be a number`,
    )
  const n = Number(raw)
  if (n < min)
    throw validation(
      `1 validation error detected: Value '${raw}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to ${min}`,
    )
  if (n > max)
    throw validation(
      `1 validation error detected: Value '${raw}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    )
  return n
}

export function getCallerIdentity(call: StsCall): Record<string, string> {
  return { Arn: call.identity.arn, UserId: call.identity.userId, Account: call.identity.accountId }
}

export interface IssuedCredentials {
  credentials: TemporaryCredential
  assumedRole?: { arn: string; assumedRoleId: string }
  packedPolicySize?: number
}

/** GetSessionToken: IAM users (and root, at most one hour) only, not session credentials. */
export function getSessionToken(call: StsCall): IssuedCredentials {
  refuseUnimplemented(call.params)
  if (call.viaSession) throw new StsError(403, 'AccessDenied', 'Cannot call GetSessionToken with session credentials')
  let seconds = duration(call.params, 43200, 900, 129600)
  // The root user's sessions last at most an hour (longer requests get an hour, as on AWS).
  if (call.identity.kind === 'root') seconds = Math.min(seconds, 3600)
  const identity: IamIdentity = { ...call.identity, session: 'GetSessionToken' }
  return { credentials: call.sessions.issue(identity, seconds, call.now) }
}

/**
 * AssumeRole: the role's trust policy (a resource policy on the role) and, across accounts, the
 * caller's identity policies must allow sts:AssumeRole; the session acts as
 * `arn:aws:sts::<acct>:assumed-role/<role>/<session>` with the role's policies, narrowed by the
 * optional session `Policy`.
 */
export function assumeRole(call: StsCall): IssuedCredentials {
  refuseUnimplemented(call.params)
  const p = call.params
  const roleArn = p.get('RoleArn')
  const sessionName = p.get('RoleSessionName')
  if (roleArn === null)
    throw validation(
      "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
    )
  if (sessionName === null)
    throw validation(
      "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null",
    )
  if (roleArn.length < 20 || roleArn.length > 2048)
    throw validation(
      `1 validation error detected: Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20`,
    )
  if (!SESSION_NAME_RE.test(sessionName)) {
    throw validation(
      `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    )
  }
  const externalId = p.get('ExternalId')
  if (externalId !== null && !EXTERNAL_ID_RE.test(externalId)) {
    throw validation(
      `1 validation error detected: Value '${externalId}' at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*`,
    )
  }
  const caller = call.identity
  const deny = (detail = '') =>
    new StsError(
      403,
      'AccessDenied',
      `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}${detail}`,
    )
  if (caller.kind === 'root') throw new StsError(403, 'AccessDenied', 'Roles may not be assumed by root accounts.')
  // An unknown role is refused like a forbidden one: its existence is not revealed.
  const role = call.roles.find((r) => r.arn === roleArn)
  if (!role) throw deny()
  const context: Record<string, string[]> = { ...call.context, 'sts:rolesessionname': [sessionName] }
  if (externalId !== null) context['sts:externalid'] = [externalId]
  const d = evaluateAccess({
    identity: caller,
    action: 'sts:AssumeRole',
    resource: role.arn,
    resourceAccount: role.accountId,
    resourcePolicy: { type: 'trust', policy: role.trustPolicy },
    context,
  })
  if (!d.allowed) throw Object.assign(deny(caller.accountId === role.accountId ? ` ${d.detail}` : ''), { decision: d })
  const chained = caller.kind === 'assumed-role'
  const seconds = duration(p, 3600, 900, 43200)
  if (chained && seconds > 3600)
    throw validation(
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    )
  if (seconds > role.maxSessionDuration)
    throw validation('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.')
  const policyText = p.get('Policy')
  let sessionPolicy: IamIdentity['sessionPolicy']
  let packedPolicySize: number | undefined
  if (policyText !== null) {
    try {
      sessionPolicy = { name: 'session', policy: parsePolicyDocument(policyText, 'session') }
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err
      if (err.message === 'Policy exceeds the maximum allowed document size.')
        throw new StsError(
          400,
          'PackedPolicyTooLarge',
          'Packed policy consumes 100% of allotted space, please use smaller policy.',
        )
      throw new StsError(400, 'MalformedPolicyDocument', err.message)
    }
    packedPolicySize = Math.min(100, Math.ceil((Buffer.byteLength(policyText) / 2048) * 100))
  }
  const assumedRoleId = `${role.roleId}:${sessionName}`
  const arn = `arn:aws:sts::${role.accountId}:assumed-role/${role.name}/${sessionName}`
  const identity: IamIdentity = {
    kind: 'assumed-role',
    accountId: role.accountId,
    arn,
    userId: assumedRoleId,
    roleArn: role.arn,
    roleName: role.name,
    sessionName,
    policies: role.policies,
    sessionPolicy,
    session: 'AssumeRole',
  }
  return {
    credentials: call.sessions.issue(identity, seconds, call.now),
    assumedRole: { arn, assumedRoleId },
    packedPolicySize,
  }
}
