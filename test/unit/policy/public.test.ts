/**
 * Unit: the one "is this bucket policy public" predicate (GetBucketPolicyStatus, BlockPublicPolicy,
 * RestrictPublicBuckets), as a table after S3's "The meaning of public"; and principal ARNs with
 * wildcards refused as IAM refuses them.
 */
import { describe, expect, it } from 'vitest'
import { isPublic } from '../../../server/s3/policy/public.js'
import { PolicyError, parsePolicy } from '../../../server/s3/policy/parse.js'

const B = 'bkt'
const allow = (extra: object) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${B}/*`, ...extra }],
})
const cond = (Condition: object) => allow({ Condition })

const TABLE: Array<[string, object, boolean]> = [
  ['Principal * with no condition', allow({}), true],
  ['Principal {AWS: *}', allow({ Principal: { AWS: '*' } }), true],
  ['one account', allow({ Principal: { AWS: '111122223333' } }), false],
  ['an IAM role ARN', allow({ Principal: { AWS: 'arn:aws:iam::111122223333:role/r' } }), false],
  ['a service principal', allow({ Principal: { Service: 'logging.s3.amazonaws.com' } }), false],
  [
    'NotPrincipal with Allow (admits everyone else)',
    allow({ Principal: undefined, NotPrincipal: { AWS: '111122223333' } }),
    true,
  ],
  ['Deny with Principal *', allow({ Effect: 'Deny' }), false],
  ['aws:SourceIp IpAddress on a CIDR', cond({ IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }), false],
  ['aws:SourceIp IpAddress 0.0.0.0/0 (every address)', cond({ IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }), true],
  ['aws:SourceIp IpAddress ::/0 beside a CIDR', cond({ IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '::/0'] } }), true],
  ['aws:SourceIp NotIpAddress (admits everyone else)', cond({ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }), true],
  ['aws:SourceAccount StringEquals', cond({ StringEquals: { 'aws:SourceAccount': '111122223333' } }), false],
  [
    'aws:SourceAccount StringNotEquals (admits every other account)',
    cond({ StringNotEquals: { 'aws:SourceAccount': '111122223333' } }),
    true,
  ],
  [
    'aws:SourceAccount StringEqualsIfExists (admits requests without it)',
    cond({ StringEqualsIfExists: { 'aws:SourceAccount': '111122223333' } }),
    true,
  ],
  ['aws:SourceAccount StringLike with a wildcard', cond({ StringLike: { 'aws:SourceAccount': '1111*' } }), true],
  ['aws:SourceVpc StringLike without a wildcard', cond({ StringLike: { 'aws:SourceVpc': 'vpc-1a2b3c' } }), false],
  ['aws:SourceVpc StringLike vpc-*', cond({ StringLike: { 'aws:SourceVpc': 'vpc-*' } }), true],
  ['aws:PrincipalOrgID StringEquals', cond({ StringEquals: { 'aws:PrincipalOrgID': 'o-abc123' } }), false],
  [
    'aws:SourceArn ArnEquals',
    cond({ ArnEquals: { 'aws:SourceArn': 'arn:aws:cloudfront::111122223333:distribution/E1' } }),
    false,
  ],
  [
    'a policy variable is not a fixed value',
    cond({ StringEquals: { 'aws:SourceAccount': '${aws:PrincipalAccount}' } }),
    true,
  ],
  [
    'ForAllValues (vacuously true without the key)',
    cond({ 'ForAllValues:StringEquals': { 'aws:SourceAccount': '111122223333' } }),
    true,
  ],
  [
    's3:x-amz-server-side-encryption-aws-kms-key-id fixed',
    cond({
      StringEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:us-east-1:111122223333:key/k' },
    }),
    false,
  ],
  ['aws:userid of a role with any session (AROLEID:*)', cond({ StringLike: { 'aws:userid': 'AROAEXAMPLE:*' } }), true],
  ['aws:userid fixed', cond({ StringEquals: { 'aws:userid': 'AIDAEXAMPLE' } }), false],
  [
    'a condition on another key (aws:SecureTransport) restricts nobody',
    cond({ Bool: { 'aws:SecureTransport': 'true' } }),
    true,
  ],
]

describe('isPublic: a bucket policy is public unless every Allow to everyone is pinned to fixed values', () => {
  for (const [name, policy, want] of TABLE) {
    it(`${name} -> ${want ? 'public' : 'not public'}`, () =>
      expect(isPublic(parsePolicy(JSON.stringify(policy), B))).toBe(want))
  }
  it('one public statement among restricted ones makes the policy public', () => {
    const p = {
      Version: '2012-10-17',
      Statement: [...cond({ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }).Statement, ...allow({}).Statement],
    }
    expect(isPublic(parsePolicy(JSON.stringify(p), B))).toBe(true)
  })
})

describe('principal ARNs with wildcards are refused (MalformedPolicy "Invalid principal in policy")', () => {
  for (const arn of [
    'arn:aws:iam::*:root',
    'arn:aws:iam::111122223333:user/*',
    'arn:aws:iam::111122223333:role/app-?',
    'arn:aws:sts::*:assumed-role/r/s',
  ]) {
    it(arn, () => {
      expect(() => parsePolicy(JSON.stringify(allow({ Principal: { AWS: arn } })), B)).toThrowError(
        new PolicyError('Invalid principal in policy'),
      )
    })
  }
  it('the whole principal may still be *', () =>
    expect(() => parsePolicy(JSON.stringify(allow({ Principal: { AWS: '*' } })), B)).not.toThrow())
})
