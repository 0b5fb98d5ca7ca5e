/**
 * Unit: the bucket-policy engine as a table of (policy, request) -> decision (docs/s3-sse-rules.md §5.6,
 * POL-01..04 at the engine level, the published AWS example policies, IAM evaluation rules).
 */
import { describe, expect, it } from 'vitest'
import { decide, isPublic, type Caller, type Decision } from '../../../server/s3/policy/evaluate.js'
import { parsePolicy } from '../../../server/s3/policy/parse.js'
import { accessFor } from '../../../server/s3/policy/actions.js'
import {
  KEY_ARN,
  denyInsecureTransport,
  denySseC,
  denyUnencrypted,
  publicRead,
  requireKmsKey,
} from '../../support/policies.js'

const B = 'bkt'
const OWNER: Caller = { anonymous: false, accountId: '000000000000', arn: 'arn:aws:iam::000000000000:root' }
const ALICE: Caller = { anonymous: false, accountId: '111122223333', arn: 'arn:aws:iam::111122223333:root' }
const ANON: Caller = { anonymous: true }

interface Row {
  name: string
  policy: object
  caller?: Caller
  action?: string
  resource?: string
  ctx?: Record<string, string | string[]>
  want: Decision
}

function run(row: Row): Decision {
  const context: Record<string, string[]> = {}
  for (const [k, v] of Object.entries(row.ctx ?? {})) context[k.toLowerCase()] = Array.isArray(v) ? v : [v]
  return decide(parsePolicy(JSON.stringify(row.policy), B), {
    caller: row.caller ?? OWNER,
    action: row.action ?? 's3:PutObject',
    resource: row.resource ?? `arn:aws:s3:::${B}/k`,
    context,
  })
}

const SSE = 's3:x-amz-server-side-encryption'
const KID = 's3:x-amz-server-side-encryption-aws-kms-key-id'
const SSEC = 's3:x-amz-server-side-encryption-customer-algorithm'
const TLS = 'aws:SecureTransport'

const stmt = (extra: object) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: `arn:aws:s3:::${B}/*`, ...extra }],
})

const TABLE: Row[] = [
  // Published example: deny unencrypted object uploads (docs/s3-sse-rules.md §5.6).
  {
    name: 'POL-01 deny-unencrypted: PutObject without the SSE header is denied',
    policy: denyUnencrypted(B),
    ctx: {},
    want: 'deny',
  },
  {
    name: 'POL-02 deny-unencrypted: PutObject with AES256 is denied',
    policy: denyUnencrypted(B),
    ctx: { [SSE]: 'AES256' },
    want: 'deny',
  },
  {
    name: 'POL-03 deny-unencrypted: PutObject with aws:kms is not denied',
    policy: denyUnencrypted(B),
    ctx: { [SSE]: 'aws:kms' },
    want: 'implicit',
  },
  {
    name: 'deny-unencrypted: GetObject is not concerned',
    policy: denyUnencrypted(B),
    action: 's3:GetObject',
    want: 'implicit',
  },
  {
    name: 'deny-unencrypted: the bucket ARN is not an object resource',
    policy: denyUnencrypted(B),
    resource: `arn:aws:s3:::${B}`,
    want: 'implicit',
  },
  // Published example: require SSE-KMS with a specific key.
  {
    name: 'require-key: the named key ARN passes',
    policy: requireKmsKey(B),
    ctx: { [SSE]: 'aws:kms', [KID]: KEY_ARN },
    want: 'implicit',
  },
  {
    name: 'require-key: another key is denied',
    policy: requireKmsKey(B),
    ctx: { [SSE]: 'aws:kms', [KID]: KEY_ARN.replace('1234abcd', 'ffffffff') },
    want: 'deny',
  },
  {
    name: 'require-key: no key header (StringNotEquals on a missing key is true) is denied',
    policy: requireKmsKey(B),
    ctx: { [SSE]: 'aws:kms' },
    want: 'deny',
  },
  // Published example: deny SSE-C.
  { name: 'deny-SSE-C: an SSE-C upload is denied', policy: denySseC(B), ctx: { [SSEC]: 'AES256' }, want: 'deny' },
  {
    name: 'deny-SSE-C: an SSE-S3 upload is not denied',
    policy: denySseC(B),
    ctx: { [SSE]: 'AES256' },
    want: 'implicit',
  },
  {
    name: 'deny-SSE-C: an UploadPart with the algorithm header is denied (s3:PutObject)',
    policy: denySseC(B),
    ctx: { [SSEC]: 'AES256' },
    want: 'deny',
  },
  // Published example: deny insecure transport.
  {
    name: 'deny-insecure-transport: plain HTTP is denied for any action',
    policy: denyInsecureTransport(B),
    action: 's3:ListBucket',
    resource: `arn:aws:s3:::${B}`,
    ctx: { [TLS]: 'false' },
    want: 'deny',
  },
  {
    name: 'deny-insecure-transport: TLS passes',
    policy: denyInsecureTransport(B),
    ctx: { [TLS]: 'true' },
    want: 'implicit',
  },
  {
    name: 'deny-insecure-transport: applies to other accounts and anonymous too',
    policy: denyInsecureTransport(B),
    caller: ANON,
    action: 's3:GetObject',
    ctx: { [TLS]: 'false' },
    want: 'deny',
  },
  // Principals.
  { name: 'Principal * allows anonymous', policy: publicRead(B), caller: ANON, action: 's3:GetObject', want: 'allow' },
  {
    name: 'public-read does not grant PutObject',
    policy: publicRead(B),
    caller: ANON,
    action: 's3:PutObject',
    want: 'implicit',
  },
  {
    name: 'Principal {"AWS": account id} matches that account',
    policy: stmt({ Principal: { AWS: '111122223333' } }),
    caller: ALICE,
    want: 'allow',
  },
  {
    name: 'Principal {"AWS": account root ARN} matches that account',
    policy: stmt({ Principal: { AWS: ['arn:aws:iam::111122223333:root'] } }),
    caller: ALICE,
    want: 'allow',
  },
  {
    name: 'an account principal does not match anonymous',
    policy: stmt({ Principal: { AWS: '111122223333' } }),
    caller: ANON,
    want: 'implicit',
  },
  {
    name: 'an account principal does not match another account',
    policy: stmt({ Principal: { AWS: '111122223333' } }),
    caller: OWNER,
    want: 'implicit',
  },
  {
    name: 'Principal {"AWS": "*"} matches everyone',
    policy: stmt({ Principal: { AWS: '*' } }),
    caller: ANON,
    want: 'allow',
  },
  {
    name: 'NotPrincipal with Deny denies everyone else',
    policy: {
      Statement: [
        { Effect: 'Deny', NotPrincipal: { AWS: '111122223333' }, Action: 's3:*', Resource: `arn:aws:s3:::${B}/*` },
      ],
    },
    caller: OWNER,
    want: 'deny',
  },
  {
    name: 'NotPrincipal with Deny spares the named account',
    policy: {
      Statement: [
        { Effect: 'Deny', NotPrincipal: { AWS: '111122223333' }, Action: 's3:*', Resource: `arn:aws:s3:::${B}/*` },
      ],
    },
    caller: ALICE,
    want: 'implicit',
  },
  // Actions.
  { name: 'action wildcard s3:Put* covers PutObject', policy: stmt({ Action: 's3:Put*' }), want: 'allow' },
  { name: 'action names are case-insensitive', policy: stmt({ Action: 'S3:putobject' }), want: 'allow' },
  { name: 'action ? wildcard', policy: stmt({ Action: 's3:?etObject' }), action: 's3:GetObject', want: 'allow' },
  {
    name: 'NotAction excludes the named action',
    policy: stmt({ Action: undefined, NotAction: 's3:PutObject' }),
    want: 'implicit',
  },
  {
    name: 'NotAction covers every other action',
    policy: stmt({ Action: undefined, NotAction: 's3:PutObject' }),
    action: 's3:GetObject',
    want: 'allow',
  },
  // Resources.
  {
    name: 'resource prefix pattern matches a key under it',
    policy: stmt({ Resource: `arn:aws:s3:::${B}/home/*` }),
    resource: `arn:aws:s3:::${B}/home/a/b`,
    want: 'allow',
  },
  {
    name: 'resource prefix pattern does not match another prefix',
    policy: stmt({ Resource: `arn:aws:s3:::${B}/home/*` }),
    resource: `arn:aws:s3:::${B}/other`,
    want: 'implicit',
  },
  {
    name: 'resources are case-sensitive',
    policy: stmt({ Resource: `arn:aws:s3:::${B}/Home/*` }),
    resource: `arn:aws:s3:::${B}/home/x`,
    want: 'implicit',
  },
  {
    name: 'NotResource excludes the pattern',
    policy: stmt({ Resource: undefined, NotResource: `arn:aws:s3:::${B}/secret/*` }),
    resource: `arn:aws:s3:::${B}/secret/x`,
    want: 'implicit',
  },
  // Evaluation order.
  {
    name: 'explicit Deny wins over Allow',
    policy: {
      Statement: [
        stmt({}).Statement[0],
        { Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${B}/*` },
      ],
    },
    want: 'deny',
  },
  // Condition operators and missing keys.
  {
    name: 'StringEquals on a missing key is false',
    policy: stmt({ Condition: { StringEquals: { [SSE]: 'aws:kms' } } }),
    want: 'implicit',
  },
  {
    name: 'StringNotLike on a missing key is true',
    policy: stmt({ Condition: { StringNotLike: { [SSE]: 'aws:*' } } }),
    want: 'allow',
  },
  {
    name: 'StringEqualsIfExists on a missing key is true',
    policy: stmt({ Condition: { StringEqualsIfExists: { [SSE]: 'aws:kms' } } }),
    want: 'allow',
  },
  {
    name: 'StringEqualsIfExists on a present, different key is false',
    policy: stmt({ Condition: { StringEqualsIfExists: { [SSE]: 'aws:kms' } } }),
    ctx: { [SSE]: 'AES256' },
    want: 'implicit',
  },
  {
    name: 'StringLike with wildcards',
    policy: stmt({ Condition: { StringLike: { [SSE]: 'aws:kms*' } } }),
    ctx: { [SSE]: 'aws:kms:dsse' },
    want: 'allow',
  },
  {
    name: 'StringEqualsIgnoreCase',
    policy: stmt({ Condition: { StringEqualsIgnoreCase: { [SSE]: 'AWS:KMS' } } }),
    ctx: { [SSE]: 'aws:kms' },
    want: 'allow',
  },
  {
    name: 'StringNotEqualsIgnoreCase',
    policy: stmt({ Condition: { StringNotEqualsIgnoreCase: { [SSE]: 'AWS:KMS' } } }),
    ctx: { [SSE]: 'aws:kms' },
    want: 'implicit',
  },
  {
    name: 'several values are ORed',
    policy: stmt({ Condition: { StringEquals: { [SSE]: ['AES256', 'aws:kms'] } } }),
    ctx: { [SSE]: 'aws:kms' },
    want: 'allow',
  },
  {
    name: 'a negated operator with several values needs no value to match',
    policy: stmt({ Condition: { StringNotEquals: { [SSE]: ['AES256', 'aws:kms'] } } }),
    ctx: { [SSE]: 'aws:kms' },
    want: 'implicit',
  },
  {
    name: 'several keys are ANDed',
    policy: stmt({ Condition: { StringEquals: { [SSE]: 'aws:kms', [KID]: KEY_ARN } } }),
    ctx: { [SSE]: 'aws:kms' },
    want: 'implicit',
  },
  {
    name: 'condition keys are case-insensitive',
    policy: stmt({ Condition: { Bool: { 'AWS:SECURETRANSPORT': 'true' } } }),
    ctx: { [TLS]: 'true' },
    want: 'allow',
  },
  {
    name: 'Null false: key present',
    policy: stmt({ Condition: { Null: { [SSE]: 'false' } } }),
    ctx: { [SSE]: 'AES256' },
    want: 'allow',
  },
  {
    name: 'Null true: key present is false',
    policy: stmt({ Condition: { Null: { [SSE]: 'true' } } }),
    ctx: { [SSE]: 'AES256' },
    want: 'implicit',
  },
  {
    name: 'Bool on a missing key is false',
    policy: stmt({ Condition: { Bool: { [TLS]: 'false' } } }),
    want: 'implicit',
  },
  {
    name: 'IpAddress with a CIDR',
    policy: stmt({ Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } } }),
    ctx: { 'aws:SourceIp': '127.0.0.1' },
    want: 'allow',
  },
  {
    name: 'NotIpAddress with a CIDR',
    policy: stmt({ Condition: { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] } } }),
    ctx: { 'aws:SourceIp': '127.0.0.1' },
    want: 'allow',
  },
  {
    name: 'IpAddress IPv6',
    policy: stmt({ Condition: { IpAddress: { 'aws:SourceIp': '::1/128' } } }),
    ctx: { 'aws:SourceIp': '::1' },
    want: 'allow',
  },
  {
    name: 'aws:PrincipalAccount',
    policy: stmt({ Condition: { StringEquals: { 'aws:PrincipalAccount': '111122223333' } } }),
    caller: ALICE,
    ctx: { 'aws:PrincipalAccount': '111122223333' },
    want: 'allow',
  },
  {
    name: 's3:prefix for ListBucket',
    policy: stmt({
      Action: 's3:ListBucket',
      Resource: `arn:aws:s3:::${B}`,
      Condition: { StringLike: { 's3:prefix': ['home/*', ''] } },
    }),
    action: 's3:ListBucket',
    resource: `arn:aws:s3:::${B}`,
    ctx: { 's3:prefix': 'home/x' },
    want: 'allow',
  },
  {
    name: 'NumericLessThan',
    policy: stmt({ Condition: { NumericLessThan: { 's3:max-keys': '10' } } }),
    ctx: { 's3:max-keys': '5' },
    want: 'allow',
  },
  {
    name: 'NumericLessThan with a non-number is false',
    policy: stmt({ Condition: { NumericLessThan: { 's3:max-keys': '10' } } }),
    ctx: { 's3:max-keys': 'x' },
    want: 'implicit',
  },
  {
    name: 'ForAnyValue: one value matches',
    policy: stmt({ Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['a', 'b'] } } }),
    ctx: { 'aws:TagKeys': ['z', 'b'] },
    want: 'allow',
  },
  {
    name: 'ForAnyValue: missing key is false',
    policy: stmt({ Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['a'] } } }),
    want: 'implicit',
  },
  {
    name: 'ForAllValues: every value must match',
    policy: stmt({ Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a', 'b'] } } }),
    ctx: { 'aws:TagKeys': ['a', 'z'] },
    want: 'implicit',
  },
  {
    name: 'ForAllValues: missing key is true',
    policy: stmt({ Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a'] } } }),
    want: 'allow',
  },
  {
    name: 'an unknown condition key is absent: positive operator false',
    policy: stmt({ Condition: { StringEquals: { 's3:NoSuchKey': 'x' } } }),
    want: 'implicit',
  },
]

describe('bucket policy engine: (policy, request) -> decision', () => {
  for (const row of TABLE) {
    it(row.name, () => expect(run(row)).toBe(row.want))
  }
})

describe('GetBucketPolicyStatus IsPublic', () => {
  const p = (o: object) => parsePolicy(JSON.stringify(o), B)
  it('a public-read grant to * is public', () => expect(isPublic(p(publicRead(B)))).toBe(true))
  it('Deny-only encryption policies are not public', () => expect(isPublic(p(denyUnencrypted(B)))).toBe(false))
  it('a grant to one account is not public', () =>
    expect(isPublic(p(stmt({ Principal: { AWS: '111122223333' } })))).toBe(false))
  it('a * grant restricted by aws:SourceIp is not public', () =>
    expect(isPublic(p(stmt({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } })))).toBe(false))
})

describe('keys an operation is not judged on (docs/s3-sse-rules.md §5.6 [C])', () => {
  it('deny-unencrypted does not refuse UploadPart/CompleteMultipartUpload, which cannot carry the SSE header', () => {
    const policy = parsePolicy(JSON.stringify(denyUnencrypted(B)), B)
    const req = { caller: OWNER, action: 's3:PutObject', resource: `arn:aws:s3:::${B}/k`, context: {} }
    expect(decide(policy, req)).toBe('deny')
    expect(
      decide(policy, {
        ...req,
        inapplicable: new Set(['s3:x-amz-server-side-encryption', 's3:x-amz-server-side-encryption-aws-kms-key-id']),
      }),
    ).toBe('implicit')
  })
})

describe('the version family of actions', () => {
  it('reads and deletes of a version, version listings and the versioning configuration are their own actions', () => {
    const b = 'bkt'
    expect(accessFor({ kind: 'GetObject', bucket: b, key: 'k' })?.action).toBe('s3:GetObject')
    expect(accessFor({ kind: 'GetObject', bucket: b, key: 'k', versionId: 'null' })?.action).toBe('s3:GetObjectVersion')
    expect(accessFor({ kind: 'HeadObject', bucket: b, key: 'k', versionId: 'null' })?.action).toBe(
      's3:GetObjectVersion',
    )
    expect(accessFor({ kind: 'DeleteObject', bucket: b, key: 'k' })?.action).toBe('s3:DeleteObject')
    expect(accessFor({ kind: 'DeleteObject', bucket: b, key: 'k', versionId: 'null' })?.action).toBe(
      's3:DeleteObjectVersion',
    )
    expect(accessFor({ kind: 'ListObjectVersions', bucket: b })?.action).toBe('s3:ListBucketVersions')
    expect(accessFor({ kind: 'GetBucketVersioning', bucket: b })?.action).toBe('s3:GetBucketVersioning')
    expect(accessFor({ kind: 'PutBucketVersioning', bucket: b })?.action).toBe('s3:PutBucketVersioning')
  })

  it('a grant of s3:GetObject alone does not allow reading an older version', () => {
    const policy = stmt({ Action: 's3:GetObject' })
    expect(run({ name: 'current', policy, caller: ALICE, action: 's3:GetObject', want: 'allow' })).toBe('allow')
    expect(run({ name: 'version', policy, caller: ALICE, action: 's3:GetObjectVersion', want: 'implicit' })).toBe(
      'implicit',
    )
  })
})
