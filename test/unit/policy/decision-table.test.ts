/**
 * @module The combined decision table: identity, session, bucket, key and trust policies, KMS
 * grants, same and cross account, through the one engine (server/iam/engine.ts) and the embedded
 * KMS with its judge. Each row names the AWS documentation rule it follows.
 */
import { describe, expect, it } from 'vitest'
import { EmbeddedKms } from '../../../kms/embedded/service.js'
import { MemoryKmsStore } from '../../../kms/embedded/store.js'
import type { KmsCaller } from '../../../kms/types.js'
import { evaluateAccess, type AccessRequest } from '../../../server/iam/engine.js'
import { identityContext, type IamIdentity } from '../../../server/iam/identity.js'
import { kmsJudge } from '../../../server/iam/kms-judge.js'
import { parsePolicyDocument, type PolicyKind } from '../../../server/s3/policy/parse.js'
import { FakeKeyring } from '../kms/helpers.js'

const A = '111122223333'
const B = '444455556666'
const R = {
  EVAL: 'IAM User Guide, "Policy evaluation logic": an explicit deny in any policy overrides any allow',
  IMPLICIT: 'IAM User Guide, "Policy evaluation logic": by default all requests are implicitly denied',
  SAME: 'IAM User Guide, "Policy evaluation for requests within a single account": identity OR resource policy',
  CROSS: 'IAM User Guide, "Cross-account policy evaluation logic": identity AND resource policy',
  PRINCIPAL: 'IAM User Guide, "AWS JSON policy elements: Principal": an account principal delegates to the account',
  ROOT: 'IAM User Guide, "AWS account root user": full access to the account\'s resources',
  SESSION:
    'IAM User Guide, "Session policies": the session gets the intersection; a resource policy naming the session ARN is not limited',
  ROLE_PRINCIPAL:
    'IAM User Guide, "Principal: IAM role sessions": a role ARN in a resource policy matches its sessions',
  NOTACTION: 'IAM User Guide, "IAM JSON policy elements: NotAction / NotResource"',
  NOTPRINCIPAL: 'IAM User Guide, "IAM JSON policy elements: NotPrincipal"',
  COND: 'IAM User Guide, "IAM JSON policy elements: Condition operators"',
  IFEXISTS: 'IAM User Guide, "...IfExists condition operators" and "Condition with multiple keys or values"',
  VARS: 'IAM User Guide, "IAM policy elements: Variables and tags"',
  GLOBAL:
    'IAM User Guide, "AWS global condition context keys" (aws:PrincipalArn, aws:userid, aws:username, aws:SourceIp, aws:SecureTransport)',
  WILDCARD: 'IAM User Guide, "IAM JSON policy elements: Action / Resource" (wildcards)',
  TRUST:
    'IAM User Guide, "Granting a user permissions to switch roles": trust policy and, across accounts, identity policy',
  KMS_DEFAULT: 'KMS Developer Guide, "Default key policy": allows the account, so IAM policies apply',
  KMS_GATE: 'KMS Developer Guide, "Key policies": no IAM policy alone gives access to a KMS key',
  KMS_CROSS: 'KMS Developer Guide, "Allowing users in other accounts to use a KMS key": key policy AND IAM policy',
  KMS_VIA: 'KMS Developer Guide, "kms:ViaService"',
  KMS_CALLER: 'KMS Developer Guide, "kms:CallerAccount"',
  KMS_CTX: 'KMS Developer Guide, "kms:EncryptionContext:context-key" and "kms:EncryptionContextKeys"',
  KMS_GRANTOPS: 'KMS Developer Guide, "kms:GrantOperations"',
  KMS_GRANTS: 'KMS Developer Guide, "Grants in AWS KMS": a grant allows its grantee the listed operations',
  KMS_CONSTRAINTS: 'KMS Developer Guide, "Grant constraints": EncryptionContextEquals / EncryptionContextSubset',
  KMS_GRANT_DENY: 'KMS Developer Guide, "Authorization: explicit deny in a key policy or IAM policy overrides grants"',
  AWS_MANAGED: 'KMS Developer Guide, "AWS managed keys": aws/s3 allows use through S3 by principals of the account',
  S3_KEYS: 'S3 User Guide, "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys": the context is the bucket ARN',
} as const

const P = (kind: PolicyKind, ...Statement: object[]) =>
  parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement }), kind, 'b')
const id = (...Statement: object[]) => [{ name: 'p', policy: P('identity', ...Statement) }]
const allow = (Action: string | string[], Resource: string | string[] = '*', more: object = {}) => ({
  Effect: 'Allow',
  Action,
  Resource,
  ...more,
})
const deny = (Action: string | string[], Resource: string | string[] = '*', more: object = {}) => ({
  Effect: 'Deny',
  Action,
  Resource,
  ...more,
})

const root = (acct = A): IamIdentity => ({
  kind: 'root',
  accountId: acct,
  arn: `arn:aws:iam::${acct}:root`,
  userId: acct,
})
const user = (name: string, policies: IamIdentity['policies'], acct = A): IamIdentity => ({
  kind: 'user',
  accountId: acct,
  arn: `arn:aws:iam::${acct}:user/${name}`,
  userId: `AIDA${name.toUpperCase().padEnd(17, 'X')}`,
  userName: name,
  policies,
})
const session = (role: string, policies: IamIdentity['policies'], sessionPolicy?: object[], acct = A): IamIdentity => ({
  kind: 'assumed-role',
  accountId: acct,
  arn: `arn:aws:sts::${acct}:assumed-role/${role}/s`,
  userId: 'AROAEXAMPLEEXAMPLE:s',
  roleArn: `arn:aws:iam::${acct}:role/${role}`,
  roleName: role,
  sessionName: 's',
  policies,
  sessionPolicy: sessionPolicy && { name: 'session', policy: P('session', ...sessionPolicy) },
})
const bucketPolicy = (...Statement: object[]) => ({ type: 'bucket' as const, policy: P('bucket', ...Statement) })
const grantTo = (
  principal: unknown,
  Action: string | string[],
  Resource: string | string[] = 'arn:aws:s3:::b/*',
  more: object = {},
) => ({ Effect: 'Allow', Principal: principal, Action, Resource, ...more })

interface Row {
  name: string
  rule: string
  identity: IamIdentity | null
  action?: string
  resource?: string
  /** Default: account A owns the resource. */
  owner?: string
  rp?: AccessRequest['resourcePolicy']
  context?: Record<string, string[]>
  want: 'allow' | 'explicit-deny' | 'implicit-deny'
  type?: string
  sid?: string
}

const S3_ROWS: Row[] = [
  { name: 'root of the owner account, no policies', rule: R.ROOT, identity: root(), want: 'allow' },
  { name: 'user with no policies', rule: R.IMPLICIT, identity: user('u', []), want: 'implicit-deny', type: 'identity' },
  {
    name: 'user allowed by identity policy',
    rule: R.SAME,
    identity: user('u', id(allow('s3:GetObject'))),
    want: 'allow',
  },
  { name: 'user allowed by s3:* wildcard', rule: R.WILDCARD, identity: user('u', id(allow('s3:*'))), want: 'allow' },
  {
    name: 'user allowed by s3:Get* wildcard',
    rule: R.WILDCARD,
    identity: user('u', id(allow('s3:Get*'))),
    want: 'allow',
  },
  {
    name: 'user allowed for another action only',
    rule: R.IMPLICIT,
    identity: user('u', id(allow('s3:PutObject'))),
    want: 'implicit-deny',
    type: 'identity',
  },
  {
    name: 'user allowed on another resource only',
    rule: R.IMPLICIT,
    identity: user('u', id(allow('s3:GetObject', 'arn:aws:s3:::other/*'))),
    want: 'implicit-deny',
  },
  {
    name: 'resource wildcard b/* matches',
    rule: R.WILDCARD,
    identity: user('u', id(allow('s3:GetObject', 'arn:aws:s3:::b/*'))),
    want: 'allow',
  },
  {
    name: 'resource ? wildcard',
    rule: R.WILDCARD,
    identity: user('u', id(allow('s3:GetObject', 'arn:aws:s3:::b/?'))),
    want: 'allow',
  },
  {
    name: 'action names compare case-insensitively',
    rule: R.WILDCARD,
    identity: user('u', id(allow('S3:GETOBJECT'))),
    want: 'allow',
  },
  {
    name: 'identity deny beats identity allow',
    rule: R.EVAL,
    identity: user('u', id(allow('s3:*'), { Sid: 'NoGet', ...deny('s3:GetObject') })),
    want: 'explicit-deny',
    type: 'identity',
    sid: 'NoGet',
  },
  {
    name: 'identity deny beats bucket policy allow',
    rule: R.EVAL,
    identity: user('u', id(deny('s3:*'))),
    rp: bucketPolicy(grantTo({ AWS: `arn:aws:iam::${A}:user/u` }, 's3:GetObject')),
    want: 'explicit-deny',
    type: 'identity',
  },
  {
    name: 'bucket deny beats identity allow',
    rule: R.EVAL,
    identity: user('u', id(allow('s3:*'))),
    rp: bucketPolicy({ Sid: 'Lock', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }),
    want: 'explicit-deny',
    type: 'bucket',
    sid: 'Lock',
  },
  {
    name: 'bucket deny applies to root too',
    rule: R.EVAL,
    identity: root(),
    rp: bucketPolicy({ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }),
    want: 'explicit-deny',
    type: 'bucket',
  },
  {
    name: 'bucket deny naming the account applies to its users',
    rule: R.PRINCIPAL,
    identity: user('u', id(allow('s3:*'))),
    rp: bucketPolicy({ Effect: 'Deny', Principal: { AWS: A }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }),
    want: 'explicit-deny',
  },
  {
    name: 'same account: bucket policy naming the user allows without identity policy',
    rule: R.SAME,
    identity: user('u', []),
    rp: bucketPolicy(grantTo({ AWS: `arn:aws:iam::${A}:user/u` }, 's3:GetObject')),
    want: 'allow',
    type: 'bucket',
  },
  {
    name: 'same account: bucket policy naming the account does not grant a user',
    rule: R.PRINCIPAL,
    identity: user('u', []),
    rp: bucketPolicy(grantTo({ AWS: `arn:aws:iam::${A}:root` }, 's3:GetObject')),
    want: 'implicit-deny',
    type: 'identity',
  },
  {
    name: 'same account: bucket policy Principal * allows',
    rule: R.SAME,
    identity: user('u', []),
    rp: bucketPolicy(grantTo('*', 's3:GetObject')),
    want: 'allow',
  },
  {
    name: 'same account: bucket policy for another user does not',
    rule: R.IMPLICIT,
    identity: user('u', []),
    rp: bucketPolicy(grantTo({ AWS: `arn:aws:iam::${A}:user/v` }, 's3:GetObject')),
    want: 'implicit-deny',
  },
  {
    name: 'cross account: identity allow alone is not enough',
    rule: R.CROSS,
    identity: user('x', id(allow('s3:GetObject')), B),
    want: 'implicit-deny',
    type: 'bucket',
  },
  {
    name: 'cross account: bucket policy alone is not enough',
    rule: R.CROSS,
    identity: user('x', [], B),
    rp: bucketPolicy(grantTo({ AWS: `arn:aws:iam::${B}:user/x` }, 's3:GetObject')),
    want: 'implicit-deny',
    type: 'identity',
  },
  {
    name: 'cross account: both allow',
    rule: R.CROSS,
    identity: user('x', id(allow('s3:GetObject')), B),
    rp: bucketPolicy(grantTo({ AWS: `arn:aws:iam::${B}:user/x` }, 's3:GetObject')),
    want: 'allow',
  },
  {
    name: 'cross account: bucket policy naming the account + identity allow',
    rule: R.PRINCIPAL,
    identity: user('x', id(allow('s3:GetObject')), B),
    rp: bucketPolicy(grantTo({ AWS: B }, 's3:GetObject')),
    want: 'allow',
  },
  {
    name: 'cross account: root of the other account with account grant',
    rule: R.CROSS,
    identity: root(B),
    rp: bucketPolicy(grantTo({ AWS: `arn:aws:iam::${B}:root` }, 's3:GetObject')),
    want: 'allow',
  },
  {
    name: 'cross account: root of the other account without grant',
    rule: R.CROSS,
    identity: root(B),
    want: 'implicit-deny',
    type: 'bucket',
  },
  {
    name: 'cross account: grant to another account does not match',
    rule: R.CROSS,
    identity: user('x', id(allow('s3:*')), B),
    rp: bucketPolicy(grantTo({ AWS: '999988887777' }, 's3:GetObject')),
    want: 'implicit-deny',
  },
  {
    name: 'anonymous: Principal * allows',
    rule: R.SAME,
    identity: null,
    rp: bucketPolicy(grantTo('*', 's3:GetObject')),
    want: 'allow',
  },
  {
    name: 'anonymous: account principal does not',
    rule: R.PRINCIPAL,
    identity: null,
    rp: bucketPolicy(grantTo({ AWS: A }, 's3:GetObject')),
    want: 'implicit-deny',
  },
  { name: 'anonymous: no policy', rule: R.IMPLICIT, identity: null, want: 'implicit-deny' },
  {
    name: 'role session: identity policy of the role allows',
    rule: R.SAME,
    identity: session('r', id(allow('s3:GetObject'))),
    want: 'allow',
  },
  {
    name: 'role session: bucket policy naming the role allows',
    rule: R.ROLE_PRINCIPAL,
    identity: session('r', []),
    rp: bucketPolicy(grantTo({ AWS: `arn:aws:iam::${A}:role/r` }, 's3:GetObject')),
    want: 'allow',
  },
  {
    name: 'role session: bucket policy naming the session allows',
    rule: R.ROLE_PRINCIPAL,
    identity: session('r', []),
    rp: bucketPolicy(grantTo({ AWS: `arn:aws:sts::${A}:assumed-role/r/s` }, 's3:GetObject')),
    want: 'allow',
  },
  {
    name: 'session policy: allows what both allow',
    rule: R.SESSION,
    identity: session('r', id(allow('s3:*')), [allow('s3:GetObject')]),
    want: 'allow',
  },
  {
    name: 'session policy: narrows the role',
    rule: R.SESSION,
    identity: session('r', id(allow('s3:*')), [allow('s3:PutObject')]),
    want: 'implicit-deny',
    type: 'session',
  },
  {
    name: 'session policy: cannot widen the role',
    rule: R.SESSION,
    identity: session('r', id(allow('s3:PutObject')), [allow('s3:*')]),
    want: 'implicit-deny',
    type: 'identity',
  },
  {
    name: 'session policy: deny wins',
    rule: R.EVAL,
    identity: session('r', id(allow('s3:*')), [allow('s3:*'), { Sid: 'S', ...deny('s3:GetObject') }]),
    want: 'explicit-deny',
    type: 'session',
    sid: 'S',
  },
  {
    name: 'session policy limits a grant to the role',
    rule: R.SESSION,
    identity: session('r', [], [allow('s3:PutObject')]),
    rp: bucketPolicy(grantTo({ AWS: `arn:aws:iam::${A}:role/r` }, 's3:GetObject')),
    want: 'implicit-deny',
    type: 'session',
  },
  {
    name: 'session policy does not limit a grant to the session ARN',
    rule: R.SESSION,
    identity: session('r', [], [allow('s3:PutObject')]),
    rp: bucketPolicy(grantTo({ AWS: `arn:aws:sts::${A}:assumed-role/r/s` }, 's3:GetObject')),
    want: 'allow',
  },
  {
    name: 'cross-account role session: both sides',
    rule: R.CROSS,
    identity: session('r', id(allow('s3:GetObject')), undefined, B),
    rp: bucketPolicy(grantTo({ AWS: `arn:aws:iam::${B}:role/r` }, 's3:GetObject')),
    want: 'allow',
  },
  {
    name: 'NotAction: everything but DeleteObject',
    rule: R.NOTACTION,
    identity: user('u', id({ Effect: 'Allow', NotAction: 's3:DeleteObject', Resource: '*' })),
    want: 'allow',
  },
  {
    name: 'NotAction excludes the action',
    rule: R.NOTACTION,
    identity: user('u', id({ Effect: 'Allow', NotAction: 's3:GetObject', Resource: '*' })),
    want: 'implicit-deny',
  },
  {
    name: 'NotResource excludes the resource',
    rule: R.NOTACTION,
    identity: user('u', id({ Effect: 'Allow', Action: 's3:*', NotResource: 'arn:aws:s3:::b/k' })),
    want: 'implicit-deny',
  },
  {
    name: 'NotPrincipal deny spares the named principal',
    rule: R.NOTPRINCIPAL,
    identity: user('u', id(allow('s3:*'))),
    rp: bucketPolicy({
      Effect: 'Deny',
      NotPrincipal: { AWS: `arn:aws:iam::${A}:user/u` },
      Action: 's3:*',
      Resource: 'arn:aws:s3:::b/*',
    }),
    want: 'allow',
  },
  {
    name: 'NotPrincipal deny hits others',
    rule: R.NOTPRINCIPAL,
    identity: user('v', id(allow('s3:*'))),
    rp: bucketPolicy({
      Effect: 'Deny',
      NotPrincipal: { AWS: `arn:aws:iam::${A}:user/u` },
      Action: 's3:*',
      Resource: 'arn:aws:s3:::b/*',
    }),
    want: 'explicit-deny',
  },
  {
    name: 'aws:SecureTransport false denied',
    rule: R.GLOBAL,
    identity: user('u', id(allow('s3:*'))),
    rp: bucketPolicy({
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: 'arn:aws:s3:::b/*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    }),
    context: { 'aws:securetransport': ['false'] },
    want: 'explicit-deny',
  },
  {
    name: 'aws:SecureTransport true passes',
    rule: R.GLOBAL,
    identity: user('u', id(allow('s3:*'))),
    rp: bucketPolicy({
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: 'arn:aws:s3:::b/*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    }),
    context: { 'aws:securetransport': ['true'] },
    want: 'allow',
  },
  {
    name: 'aws:SourceIp in range',
    rule: R.GLOBAL,
    identity: user('u', id(allow('s3:*', '*', { Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } } }))),
    context: { 'aws:sourceip': ['127.0.0.1'] },
    want: 'allow',
  },
  {
    name: 'aws:SourceIp out of range',
    rule: R.GLOBAL,
    identity: user('u', id(allow('s3:*', '*', { Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }))),
    context: { 'aws:sourceip': ['127.0.0.1'] },
    want: 'implicit-deny',
  },
  {
    name: 'aws:PrincipalArn of a session is the role ARN',
    rule: R.GLOBAL,
    identity: session(
      'r',
      id(allow('s3:*', '*', { Condition: { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${A}:role/r` } } })),
    ),
    want: 'allow',
  },
  {
    name: 'aws:PrincipalAccount in a bucket policy',
    rule: R.GLOBAL,
    identity: user('u', []),
    rp: bucketPolicy(
      grantTo('*', 's3:GetObject', 'arn:aws:s3:::b/*', { Condition: { StringEquals: { 'aws:PrincipalAccount': A } } }),
    ),
    want: 'allow',
  },
  {
    name: 'aws:PrincipalAccount of another account fails',
    rule: R.GLOBAL,
    identity: user('u', [], B),
    rp: bucketPolicy(
      grantTo('*', 's3:GetObject', 'arn:aws:s3:::b/*', { Condition: { StringEquals: { 'aws:PrincipalAccount': A } } }),
    ),
    want: 'implicit-deny',
  },
  {
    name: 'aws:username condition',
    rule: R.GLOBAL,
    identity: user('u', id(allow('s3:*', '*', { Condition: { StringEquals: { 'aws:username': 'u' } } }))),
    want: 'allow',
  },
  {
    name: 'aws:userid condition (role session)',
    rule: R.GLOBAL,
    identity: session('r', id(allow('s3:*', '*', { Condition: { StringLike: { 'aws:userid': 'AROA*:s' } } }))),
    want: 'allow',
  },
  {
    name: 'aws:username is absent for role sessions',
    rule: R.GLOBAL,
    identity: session('r', id(allow('s3:*', '*', { Condition: { StringEquals: { 'aws:username': 'r' } } }))),
    want: 'implicit-deny',
  },
  {
    name: 'policy variable ${aws:username} in Resource',
    rule: R.VARS,
    identity: user('u', id(allow('s3:GetObject', 'arn:aws:s3:::b/home/${aws:username}/*'))),
    resource: 'arn:aws:s3:::b/home/u/x',
    want: 'allow',
  },
  {
    name: 'policy variable for another user',
    rule: R.VARS,
    identity: user('v', id(allow('s3:GetObject', 'arn:aws:s3:::b/home/${aws:username}/*'))),
    resource: 'arn:aws:s3:::b/home/u/x',
    want: 'implicit-deny',
  },
  {
    name: 'policy variable missing: no match',
    rule: R.VARS,
    identity: session('r', id(allow('s3:GetObject', 'arn:aws:s3:::b/home/${aws:username}/*'))),
    resource: 'arn:aws:s3:::b/home/r/x',
    want: 'implicit-deny',
  },
  {
    name: 'policy variable default value',
    rule: R.VARS,
    identity: session('r', id(allow('s3:GetObject', "arn:aws:s3:::b/home/${aws:username, 'shared'}/*"))),
    resource: 'arn:aws:s3:::b/home/shared/x',
    want: 'allow',
  },
  {
    name: 'policy variable in a condition value',
    rule: R.VARS,
    identity: user(
      'u',
      id(allow('s3:ListBucket', '*', { Condition: { StringLike: { 's3:prefix': 'home/${aws:username}/*' } } })),
    ),
    action: 's3:ListBucket',
    context: { 's3:prefix': ['home/u/a'] },
    want: 'allow',
  },
  {
    name: 'variables are literal in 2008-10-17 policies',
    rule: R.VARS,
    identity: user('u', [
      {
        name: 'old',
        policy: parsePolicyDocument(
          JSON.stringify({
            Version: '2008-10-17',
            Statement: [allow('s3:GetObject', 'arn:aws:s3:::b/${aws:username}')],
          }),
          'identity',
        ),
      },
    ]),
    resource: 'arn:aws:s3:::b/u',
    want: 'implicit-deny',
  },
  {
    name: 'StringEquals on a missing key is false',
    rule: R.COND,
    identity: user('u', id(allow('s3:*', '*', { Condition: { StringEquals: { 's3:prefix': 'a' } } }))),
    want: 'implicit-deny',
  },
  {
    name: 'StringNotEquals on a missing key is true',
    rule: R.COND,
    identity: user('u', id(allow('s3:*', '*', { Condition: { StringNotEquals: { 's3:prefix': 'a' } } }))),
    want: 'allow',
  },
  {
    name: 'StringEqualsIfExists on a missing key is true',
    rule: R.IFEXISTS,
    identity: user('u', id(allow('s3:*', '*', { Condition: { StringEqualsIfExists: { 's3:prefix': 'a' } } }))),
    want: 'allow',
  },
  {
    name: 'Null true on a missing key',
    rule: R.COND,
    identity: user('u', id(allow('s3:*', '*', { Condition: { Null: { 's3:prefix': 'true' } } }))),
    want: 'allow',
  },
  {
    name: 'two keys in one block are ANDed',
    rule: R.IFEXISTS,
    identity: user(
      'u',
      id(allow('s3:*', '*', { Condition: { StringEquals: { 'aws:username': 'u', 'aws:PrincipalAccount': B } } })),
    ),
    want: 'implicit-deny',
  },
  {
    name: 'values of one key are ORed',
    rule: R.IFEXISTS,
    identity: user('u', id(allow('s3:*', '*', { Condition: { StringEquals: { 'aws:username': ['v', 'u'] } } }))),
    want: 'allow',
  },
  {
    name: 'CreateBucket: identity-only action, no policy',
    rule: R.IMPLICIT,
    identity: user('u', []),
    action: 's3:CreateBucket',
    resource: 'arn:aws:s3:::n',
    owner: '',
    want: 'implicit-deny',
  },
  {
    name: 'ListAllMyBuckets allowed by identity',
    rule: R.SAME,
    identity: user('u', id(allow('s3:ListAllMyBuckets'))),
    action: 's3:ListAllMyBuckets',
    resource: '*',
    owner: '',
    want: 'allow',
  },
]

/** A same-account AssumeRole (the trust policy is the role's resource policy). */
const trustOf = (...Statement: object[]) => ({ type: 'trust' as const, policy: P('trust', ...Statement) })
const TRUST_ROWS: Row[] = [
  {
    name: 'trust naming the user: no identity policy needed (same account)',
    rule: R.TRUST,
    identity: user('u', []),
    action: 'sts:AssumeRole',
    resource: `arn:aws:iam::${A}:role/r`,
    rp: trustOf({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/u` }, Action: 'sts:AssumeRole' }),
    want: 'allow',
  },
  {
    name: 'trust naming the account: identity policy needed',
    rule: R.TRUST,
    identity: user('u', []),
    action: 'sts:AssumeRole',
    resource: `arn:aws:iam::${A}:role/r`,
    rp: trustOf({ Effect: 'Allow', Principal: { AWS: A }, Action: 'sts:AssumeRole' }),
    want: 'implicit-deny',
    type: 'identity',
  },
  {
    name: 'trust naming the account + identity allow',
    rule: R.TRUST,
    identity: user('u', id(allow('sts:AssumeRole'))),
    action: 'sts:AssumeRole',
    resource: `arn:aws:iam::${A}:role/r`,
    rp: trustOf({ Effect: 'Allow', Principal: { AWS: A }, Action: 'sts:AssumeRole' }),
    want: 'allow',
  },
  {
    name: "cross-account AssumeRole needs the caller's identity policy",
    rule: R.TRUST,
    identity: user('x', [], B),
    action: 'sts:AssumeRole',
    resource: `arn:aws:iam::${A}:role/r`,
    rp: trustOf({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:user/x` }, Action: 'sts:AssumeRole' }),
    want: 'implicit-deny',
    type: 'identity',
  },
  {
    name: 'cross-account AssumeRole with both',
    rule: R.TRUST,
    identity: user('x', id(allow('sts:AssumeRole')), B),
    action: 'sts:AssumeRole',
    resource: `arn:aws:iam::${A}:role/r`,
    rp: trustOf({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:user/x` }, Action: 'sts:AssumeRole' }),
    want: 'allow',
  },
  {
    name: 'sts:ExternalId condition met',
    rule: R.TRUST,
    identity: user('u', []),
    action: 'sts:AssumeRole',
    resource: `arn:aws:iam::${A}:role/r`,
    rp: trustOf({
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${A}:user/u` },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'sts:ExternalId': 'e-1' } },
    }),
    context: { 'sts:externalid': ['e-1'] },
    want: 'allow',
  },
  {
    name: 'sts:ExternalId condition missing',
    rule: R.TRUST,
    identity: user('u', []),
    action: 'sts:AssumeRole',
    resource: `arn:aws:iam::${A}:role/r`,
    rp: trustOf({
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${A}:user/u` },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'sts:ExternalId': 'e-1' } },
    }),
    want: 'implicit-deny',
  },
  {
    name: 'identity deny of sts:AssumeRole wins over the trust policy',
    rule: R.EVAL,
    identity: user('u', id(deny('sts:AssumeRole'))),
    action: 'sts:AssumeRole',
    resource: `arn:aws:iam::${A}:role/r`,
    rp: trustOf({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/u` }, Action: 'sts:AssumeRole' }),
    want: 'explicit-deny',
  },
]

function run(row: Row) {
  const identity = row.identity
  return evaluateAccess({
    identity,
    action: row.action ?? 's3:GetObject',
    resource: row.resource ?? 'arn:aws:s3:::b/k',
    resourceAccount: row.owner === '' ? undefined : (row.owner ?? A),
    resourcePolicy: row.rp,
    context: { ...(identity ? identityContext(identity) : {}), ...row.context },
  })
}

describe('decision table: identity, session, bucket and trust policies', () => {
  it.each([...S3_ROWS, ...TRUST_ROWS].map((r) => [`${r.name} — ${r.rule}`, r] as const))('%s', (_, row) => {
    const d = run(row)
    expect(d.reason).toBe(row.want === 'allow' ? 'allowed' : row.want)
    if (row.type) expect(d.policyType).toBe(row.type)
    if (row.sid) expect(d.sid).toBe(row.sid)
  })
})

// ---- KMS: key policies, IAM policies, grants, through the embedded KMS and its judge.

interface KmsRow {
  name: string
  rule: string
  caller: IamIdentity
  /** The key policy (statements); absent: AWS's default one. */
  keyPolicy?: object[]
  op: 'Encrypt' | 'Decrypt' | 'GenerateDataKey' | 'DescribeKey' | 'CreateGrant'
  context?: Record<string, string>
  via?: boolean
  grant?: { operations: string[]; grantee: string; constraints?: object }
  grantOps?: string[]
  managed?: boolean
  want: 'allow' | 'deny'
}

const keyRoot = {
  Sid: 'Root',
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${A}:root` },
  Action: 'kms:*',
  Resource: '*',
}
const KMS_ROWS: KmsRow[] = [
  { name: 'default policy: root may use the key', rule: R.KMS_DEFAULT, caller: root(), op: 'Encrypt', want: 'allow' },
  {
    name: 'default policy: user with kms:Encrypt',
    rule: R.KMS_DEFAULT,
    caller: user('u', id(allow('kms:Encrypt'))),
    op: 'Encrypt',
    want: 'allow',
  },
  {
    name: 'default policy: user without IAM permission',
    rule: R.KMS_DEFAULT,
    caller: user('u', []),
    op: 'Encrypt',
    want: 'deny',
  },
  {
    name: 'no root statement: IAM policy alone is not enough',
    rule: R.KMS_GATE,
    caller: user('u', id(allow('kms:*'))),
    keyPolicy: [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/admin` }, Action: 'kms:*', Resource: '*' },
    ],
    op: 'Encrypt',
    want: 'deny',
  },
  {
    name: 'key policy naming the user allows without IAM policy',
    rule: R.KMS_GATE,
    caller: user('u', []),
    keyPolicy: [
      keyRoot,
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/u` }, Action: 'kms:Encrypt', Resource: '*' },
    ],
    op: 'Encrypt',
    want: 'allow',
  },
  {
    name: 'key policy root statement limited to Describe: IAM kms:* cannot Encrypt',
    rule: R.KMS_GATE,
    caller: user('u', id(allow('kms:*'))),
    keyPolicy: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${A}:root` },
        Action: ['kms:Describe*', 'kms:Put*', 'kms:Get*'],
        Resource: '*',
      },
    ],
    op: 'Encrypt',
    want: 'deny',
  },
  {
    name: 'key policy deny beats IAM allow',
    rule: R.EVAL,
    caller: user('u', id(allow('kms:*'))),
    keyPolicy: [
      keyRoot,
      { Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${A}:user/u` }, Action: 'kms:Encrypt', Resource: '*' },
    ],
    op: 'Encrypt',
    want: 'deny',
  },
  {
    name: 'IAM deny beats key policy allow',
    rule: R.EVAL,
    caller: user('u', id(deny('kms:Encrypt'))),
    keyPolicy: [
      keyRoot,
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/u` }, Action: 'kms:Encrypt', Resource: '*' },
    ],
    op: 'Encrypt',
    want: 'deny',
  },
  {
    name: 'role named in key policy: its session may use the key',
    rule: R.ROLE_PRINCIPAL,
    caller: session('r', []),
    keyPolicy: [
      keyRoot,
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:role/r` }, Action: 'kms:Decrypt', Resource: '*' },
    ],
    op: 'Decrypt',
    want: 'allow',
  },
  {
    name: 'kms:ViaService met through S3',
    rule: R.KMS_VIA,
    caller: session('r', []),
    keyPolicy: [
      keyRoot,
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${A}:role/r` },
        Action: 'kms:Decrypt',
        Resource: '*',
        Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } },
      },
    ],
    op: 'Decrypt',
    via: true,
    want: 'allow',
  },
  {
    name: 'kms:ViaService not met directly',
    rule: R.KMS_VIA,
    caller: session('r', []),
    keyPolicy: [
      keyRoot,
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${A}:role/r` },
        Action: 'kms:Decrypt',
        Resource: '*',
        Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } },
      },
    ],
    op: 'Decrypt',
    want: 'deny',
  },
  {
    name: 'kms:EncryptionContext:aws:s3:arn object ARN matches',
    rule: R.KMS_CTX,
    caller: user(
      'u',
      id(
        allow('kms:GenerateDataKey', '*', {
          Condition: { StringLike: { 'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::b/*' } },
        }),
      ),
    ),
    op: 'GenerateDataKey',
    context: { 'aws:s3:arn': 'arn:aws:s3:::b/k' },
    want: 'allow',
  },
  {
    name: 'bucket key context (bucket ARN) breaks an object-ARN condition',
    rule: R.S3_KEYS,
    caller: user(
      'u',
      id(
        allow('kms:GenerateDataKey', '*', {
          Condition: { StringLike: { 'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::b/*' } },
        }),
      ),
    ),
    op: 'GenerateDataKey',
    context: { 'aws:s3:arn': 'arn:aws:s3:::b' },
    want: 'deny',
  },
  {
    name: 'kms:EncryptionContextKeys ForAllValues',
    rule: R.KMS_CTX,
    caller: user(
      'u',
      id(
        allow('kms:Encrypt', '*', {
          Condition: { 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['aws:s3:arn'] } },
        }),
      ),
    ),
    op: 'Encrypt',
    context: { 'aws:s3:arn': 'x', other: 'y' },
    want: 'deny',
  },
  {
    name: 'kms:CallerAccount of the account',
    rule: R.KMS_CALLER,
    caller: user('u', []),
    keyPolicy: [
      keyRoot,
      {
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: 'kms:Encrypt',
        Resource: '*',
        Condition: { StringEquals: { 'kms:CallerAccount': A } },
      },
    ],
    op: 'Encrypt',
    want: 'allow',
  },
  {
    name: 'cross account: key policy and IAM policy both allow',
    rule: R.KMS_CROSS,
    caller: user('x', id(allow('kms:Encrypt')), B),
    keyPolicy: [
      keyRoot,
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: 'kms:Encrypt', Resource: '*' },
    ],
    op: 'Encrypt',
    want: 'allow',
  },
  {
    name: 'cross account: key policy allows the account, IAM does not',
    rule: R.KMS_CROSS,
    caller: user('x', [], B),
    keyPolicy: [
      keyRoot,
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: 'kms:Encrypt', Resource: '*' },
    ],
    op: 'Encrypt',
    want: 'deny',
  },
  {
    name: 'cross account: IAM allows, default key policy does not',
    rule: R.KMS_CROSS,
    caller: user('x', id(allow('kms:*')), B),
    op: 'Encrypt',
    want: 'deny',
  },
  {
    name: 'grant allows a user with no permission',
    rule: R.KMS_GRANTS,
    caller: user('u', []),
    op: 'Encrypt',
    grant: { operations: ['Encrypt'], grantee: `arn:aws:iam::${A}:user/u` },
    want: 'allow',
  },
  {
    name: 'grant for another operation does not',
    rule: R.KMS_GRANTS,
    caller: user('u', []),
    op: 'Encrypt',
    grant: { operations: ['Decrypt'], grantee: `arn:aws:iam::${A}:user/u` },
    want: 'deny',
  },
  {
    name: 'grant to a role covers its sessions',
    rule: R.KMS_GRANTS,
    caller: session('r', []),
    op: 'GenerateDataKey',
    grant: { operations: ['GenerateDataKey'], grantee: `arn:aws:iam::${A}:role/r` },
    want: 'allow',
  },
  {
    name: 'grant to another principal does not',
    rule: R.KMS_GRANTS,
    caller: user('u', []),
    op: 'Encrypt',
    grant: { operations: ['Encrypt'], grantee: `arn:aws:iam::${A}:user/v` },
    want: 'deny',
  },
  {
    name: 'grant EncryptionContextSubset met',
    rule: R.KMS_CONSTRAINTS,
    caller: user('u', []),
    op: 'Encrypt',
    context: { a: '1', b: '2' },
    grant: {
      operations: ['Encrypt'],
      grantee: `arn:aws:iam::${A}:user/u`,
      constraints: { EncryptionContextSubset: { a: '1' } },
    },
    want: 'allow',
  },
  {
    name: 'grant EncryptionContextEquals with an extra pair fails',
    rule: R.KMS_CONSTRAINTS,
    caller: user('u', []),
    op: 'Encrypt',
    context: { a: '1', b: '2' },
    grant: {
      operations: ['Encrypt'],
      grantee: `arn:aws:iam::${A}:user/u`,
      constraints: { EncryptionContextEquals: { a: '1' } },
    },
    want: 'deny',
  },
  {
    name: 'grant does not beat an explicit deny',
    rule: R.KMS_GRANT_DENY,
    caller: user('u', id(deny('kms:Encrypt'))),
    op: 'Encrypt',
    grant: { operations: ['Encrypt'], grantee: `arn:aws:iam::${A}:user/u` },
    want: 'deny',
  },
  {
    name: 'kms:GrantOperations limits CreateGrant',
    rule: R.KMS_GRANTOPS,
    caller: user(
      'u',
      id(
        allow('kms:CreateGrant', '*', {
          Condition: { 'ForAllValues:StringEquals': { 'kms:GrantOperations': ['Decrypt'] } },
        }),
      ),
    ),
    op: 'CreateGrant',
    grantOps: ['Decrypt', 'Encrypt'],
    want: 'deny',
  },
  {
    name: 'kms:GrantOperations within the allowed set',
    rule: R.KMS_GRANTOPS,
    caller: user(
      'u',
      id(
        allow('kms:CreateGrant', '*', {
          Condition: { 'ForAllValues:StringEquals': { 'kms:GrantOperations': ['Decrypt'] } },
        }),
      ),
    ),
    op: 'CreateGrant',
    grantOps: ['Decrypt'],
    want: 'allow',
  },
  {
    name: 'aws/s3: any principal of the account through S3',
    rule: R.AWS_MANAGED,
    caller: user('u', []),
    managed: true,
    op: 'GenerateDataKey',
    via: true,
    want: 'allow',
  },
  {
    name: 'aws/s3: not directly, even for root',
    rule: R.AWS_MANAGED,
    caller: root(),
    managed: true,
    op: 'Encrypt',
    want: 'deny',
  },
  {
    name: 'aws/s3: DescribeKey directly for the account',
    rule: R.AWS_MANAGED,
    caller: user('u', id(allow('kms:DescribeKey'))),
    managed: true,
    op: 'DescribeKey',
    want: 'allow',
  },
  {
    name: 'aws/s3: not for another account, even through S3',
    rule: R.AWS_MANAGED,
    caller: user('x', id(allow('kms:*')), B),
    managed: true,
    op: 'GenerateDataKey',
    via: true,
    want: 'deny',
  },
]

describe('decision table: KMS key policies, IAM policies and grants (embedded KMS)', () => {
  it.each(KMS_ROWS.map((r) => [`${r.name} — ${r.rule}`, r] as const))('%s', async (_, row) => {
    const kms = await EmbeddedKms.open({
      store: new MemoryKmsStore(),
      keyring: new FakeKeyring(),
      region: 'us-east-1',
      accountId: A,
      judge: kmsJudge,
    })
    const store: KmsCaller = { accountId: A, principalArn: `arn:aws:iam::${A}:root` }
    let keyId: string
    if (row.managed) keyId = (await kms.describeKey({ KeyId: 'alias/aws/s3' })).KeyMetadata.Arn
    else {
      keyId = (await kms.createKey({})).KeyMetadata.Arn
      if (row.keyPolicy)
        await kms.putKeyPolicy(
          {
            KeyId: keyId,
            Policy: JSON.stringify({ Version: '2012-10-17', Statement: row.keyPolicy }),
            BypassPolicyLockoutSafetyCheck: true,
          },
          store,
        )
    }
    if (row.grant)
      await kms.createGrant(
        {
          KeyId: keyId,
          GranteePrincipal: row.grant.grantee,
          Operations: row.grant.operations,
          Constraints: row.grant.constraints as never,
        },
        store,
      )
    const c = row.caller
    const caller: KmsCaller = {
      accountId: c.accountId,
      principalArn: c.arn,
      identity: c,
      viaService: row.via ? 's3.us-east-1.amazonaws.com' : undefined,
    }
    const ctx = row.context
    const call = () => {
      switch (row.op) {
        case 'Encrypt':
          return kms.encrypt({ KeyId: keyId, Plaintext: Buffer.from('x'), EncryptionContext: ctx }, caller)
        case 'GenerateDataKey':
          return kms.generateDataKey({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: ctx }, caller)
        case 'DescribeKey':
          return kms.describeKey({ KeyId: keyId }, caller)
        case 'CreateGrant':
          return kms.createGrant(
            { KeyId: keyId, GranteePrincipal: `arn:aws:iam::${A}:user/z`, Operations: row.grantOps },
            caller,
          )
        case 'Decrypt':
          return kms
            .encrypt({ KeyId: keyId, Plaintext: Buffer.from('x'), EncryptionContext: ctx }, store)
            .then((e) => kms.decrypt({ CiphertextBlob: e.CiphertextBlob, EncryptionContext: ctx }, caller))
      }
    }
    const outcome = await call().then(
      () => 'allow',
      (err: Error) =>
        err.name === 'KmsError' && (err as { exception?: string }).exception === 'AccessDeniedException'
          ? 'deny'
          : `error ${err.message}`,
    )
    expect(outcome).toBe(row.want)
    await kms.close()
  })

  it('has at least 80 rows across all tables', () => {
    expect(S3_ROWS.length + TRUST_ROWS.length + KMS_ROWS.length).toBeGreaterThanOrEqual(80)
  })
})
