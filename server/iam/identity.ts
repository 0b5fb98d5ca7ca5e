/**
 * @module IAM principals as the store knows them: account root, IAM users, account keys (the
 * original credentials-file format: the account's full authority), roles and assumed-role
 * sessions; their identifiers and the global condition keys a request made by one carries.
 */
import { createHash } from 'node:crypto'
import type { Policy } from '../s3/policy/parse.js'

/** A named inline policy (identity, session, trust) as parsed at start or at AssumeRole. */
export interface InlinePolicy {
  name: string
  policy: Policy
}

export interface IamIdentity {
  /** `account-key`: a key of the original credentials-file format, with the account's full authority. */
  kind: 'root' | 'user' | 'account-key' | 'assumed-role'
  accountId: string
  /** The principal ARN (`…:user/x`, `…:root`, `arn:aws:sts::…:assumed-role/role/session`). */
  arn: string
  /** `aws:userid`: the account id for root, `AIDA…` for users, `AROA…:session` for role sessions. */
  userId: string
  /** `aws:username`: IAM users only. */
  userName?: string
  /** Assumed-role sessions: the role's ARN (`aws:PrincipalArn`) and names. */
  roleArn?: string
  roleName?: string
  sessionName?: string
  /** Inline identity policies; undefined: the account's full authority (root, account keys). */
  policies?: readonly InlinePolicy[]
  /** AssumeRole's optional `Policy`: the session can do only what both allow. */
  sessionPolicy?: InlinePolicy
  /** Temporary credentials: the STS call that made them. */
  session?: 'GetSessionToken' | 'AssumeRole'
}

export interface IamRole {
  name: string
  accountId: string
  arn: string
  /** `AROA…`: the unique id AWS gives a role. */
  roleId: string
  trustPolicy: Policy
  policies: readonly InlinePolicy[]
  /** Longest AssumeRole session, seconds (3600–43200, AWS's default 3600). */
  maxSessionDuration: number
}

/** A stable AWS-style unique id (`AIDA…`, `AROA…`): prefix + 17 characters derived from the ARN. */
export function uniqueId(prefix: 'AIDA' | 'AROA', arn: string): string {
  const digest = createHash('sha256').update(`strongroom-iam-id:${arn}`).digest()
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let out = ''
  for (let i = 0; i < 17; i++) out += alphabet[digest[i] % 32]
  return prefix + out
}

/** The identity of a long-term credential that carries none: the account root or an account key. */
export function defaultIdentity(accountId: string, principalArn: string): IamIdentity {
  if (principalArn === `arn:aws:iam::${accountId}:root`)
    return { kind: 'root', accountId, arn: principalArn, userId: accountId }
  const userName = principalArn.slice(principalArn.lastIndexOf('/') + 1)
  return { kind: 'account-key', accountId, arn: principalArn, userId: uniqueId('AIDA', principalArn), userName }
}

/**
 * The global condition keys of the principal (IAM "AWS global condition context keys"), lowercase:
 * aws:PrincipalArn (the role's ARN for a role session), aws:PrincipalAccount, aws:userid,
 * aws:username (IAM users only), aws:PrincipalType.
 */
export function identityContext(id: IamIdentity): Record<string, string[]> {
  const ctx: Record<string, string[]> = {
    'aws:principalarn': [id.roleArn ?? id.arn],
    'aws:principalaccount': [id.accountId],
    'aws:userid': [id.userId],
    'aws:principaltype': [id.kind === 'root' ? 'Account' : id.kind === 'assumed-role' ? 'AssumedRole' : 'User'],
  }
  if (id.userName !== undefined && id.kind !== 'assumed-role') ctx['aws:username'] = [id.userName]
  return ctx
}
