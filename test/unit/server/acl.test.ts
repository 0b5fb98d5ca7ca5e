/** Unit: ACLs from canned names, grant headers and AccessControlPolicy XML (acl.ts); their policy statements. */
import { describe, expect, it } from 'vitest'
import {
  ALL_USERS,
  AUTHENTICATED_USERS,
  aclFromHeaders,
  cannedAcl,
  canonicalId,
  isPublicAcl,
  newObjectAcl,
  ownershipOf,
  parseAccessControlPolicy,
  refusePublicAcl,
} from '../../../server/s3/acl.js'
import { aclStatements } from '../../../server/s3/policy/acl-grants.js'
import type { BucketRecord } from '../../../storage/types.js'

const OWNER = '111122223333'
const OTHER = '444455556666'
const ownerId = canonicalId(OWNER)
const otherId = canonicalId(OTHER)
const bucket = (extra: Partial<BucketRecord> = {}): BucketRecord => ({
  v: 1,
  name: 'b',
  region: 'us-east-1',
  ownerAccountId: OWNER,
  createdAt: 0,
  blockedEncryptionTypes: [],
  ...extra,
})
const codeOf = (f: () => unknown) => {
  try {
    f()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return 'no error'
}

describe('canned ACLs', () => {
  it('private is the owner FULL_CONTROL; public-read adds AllUsers READ', () => {
    expect(cannedAcl('private', 'object', OWNER, OWNER)).toEqual([
      { grantee: { type: 'CanonicalUser', id: ownerId }, permission: 'FULL_CONTROL' },
    ])
    expect(cannedAcl('public-read', 'object', OWNER, OWNER)).toContainEqual({
      grantee: { type: 'Group', uri: ALL_USERS },
      permission: 'READ',
    })
  })
  it("bucket-owner-full-control on another account's object adds the bucket owner; on a bucket it is private", () => {
    expect(cannedAcl('bucket-owner-full-control', 'object', OTHER, OWNER)).toEqual([
      { grantee: { type: 'CanonicalUser', id: otherId }, permission: 'FULL_CONTROL' },
      { grantee: { type: 'CanonicalUser', id: ownerId }, permission: 'FULL_CONTROL' },
    ])
    expect(cannedAcl('bucket-owner-full-control', 'bucket', OWNER, OWNER)).toHaveLength(1)
  })
  it('an unknown name is 400 InvalidArgument; aws-exec-read 501', () => {
    expect(codeOf(() => cannedAcl('public', 'object', OWNER, OWNER))).toBe('InvalidArgument')
    expect(codeOf(() => cannedAcl('aws-exec-read', 'object', OWNER, OWNER))).toBe('NotImplemented')
  })
})

describe('grant headers', () => {
  it('id= and uri= values, quoted or not, several per header; the owner is not added', () => {
    const grants = aclFromHeaders(
      { 'x-amz-grant-read': `id="${otherId}", uri=${AUTHENTICATED_USERS}`, 'x-amz-grant-write-acp': `id=${otherId}` },
      'object',
      OWNER,
      OWNER,
    )
    expect(grants).toEqual([
      { grantee: { type: 'CanonicalUser', id: otherId }, permission: 'READ' },
      { grantee: { type: 'Group', uri: AUTHENTICATED_USERS }, permission: 'READ' },
      { grantee: { type: 'CanonicalUser', id: otherId }, permission: 'WRITE_ACP' },
    ])
    expect(isPublicAcl(grants)).toBe(true)
  })
  it('refuses a canned ACL with grant headers, a malformed id, an unknown group and e-mail grantees', () => {
    expect(
      codeOf(() =>
        aclFromHeaders({ 'x-amz-acl': 'private', 'x-amz-grant-read': `id=${otherId}` }, 'object', OWNER, OWNER),
      ),
    ).toBe('InvalidRequest')
    expect(codeOf(() => aclFromHeaders({ 'x-amz-grant-read': 'id=abc' }, 'object', OWNER, OWNER))).toBe(
      'InvalidArgument',
    )
    expect(
      codeOf(() => aclFromHeaders({ 'x-amz-grant-read': 'uri=http://example.com/group' }, 'object', OWNER, OWNER)),
    ).toBe('InvalidArgument')
    expect(
      codeOf(() => aclFromHeaders({ 'x-amz-grant-read': 'emailAddress="a@example.com"' }, 'object', OWNER, OWNER)),
    ).toBe('UnresolvableGrantByEmailAddress')
  })
})

describe('AccessControlPolicy XML', () => {
  const xml = (grants: string, owner = `<Owner><ID>${ownerId}</ID></Owner>`) =>
    `<?xml version="1.0" encoding="UTF-8"?><AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${owner}<AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`
  const grant = (grantee: string, permission: string) =>
    `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="x">${grantee}</Grantee><Permission>${permission}</Permission></Grant>`

  it('reads one or several grants, the grantee kind from the element it carries', () => {
    const one = parseAccessControlPolicy(xml(grant(`<ID>${otherId}</ID>`, 'READ')))
    expect(one).toEqual({ ownerId, grants: [{ grantee: { type: 'CanonicalUser', id: otherId }, permission: 'READ' }] })
    const two = parseAccessControlPolicy(
      xml(grant(`<ID>${ownerId}</ID>`, 'FULL_CONTROL') + grant(`<URI>${ALL_USERS}</URI>`, 'READ')),
    )
    expect(two.grants).toHaveLength(2)
  })
  it('decodes character references (&#34;-style and named) in element text', () => {
    const uri = ALL_USERS.replace(/\//g, '&#47;').replace('http', '&#x68;ttp')
    const parsed = parseAccessControlPolicy(xml(grant(`<URI>${uri}</URI>`, '&#82;EAD')))
    expect(parsed.grants).toEqual([{ grantee: { type: 'Group', uri: ALL_USERS }, permission: 'READ' }])
  })
  it('refuses what is not an ACL: bad XML, unknown permission, a grantee with two kinds, an unknown entity', () => {
    for (const body of [
      '<AccessControlPolicy><AccessControlList>',
      xml(grant(`<ID>${otherId}</ID>`, 'OWN')),
      xml(grant(`<ID>${otherId}</ID><URI>${ALL_USERS}</URI>`, 'READ')),
      xml(grant(`<URI>&bogus;</URI>`, 'READ')),
      '<AccessControlPolicy><Owner><ID>x</ID></Owner></AccessControlPolicy>',
    ])
      expect(
        codeOf(() => parseAccessControlPolicy(body)),
        body,
      ).toBe('MalformedACLError')
  })
})

describe('ownership and Block Public Access on a new object', () => {
  it('BucketOwnerEnforced: no ACL, private and bucket-owner-full-control pass; public-read and grants to others do not', () => {
    const b = bucket()
    expect(newObjectAcl({}, b, OTHER)).toEqual({ ownerAccountId: OWNER })
    expect(newObjectAcl({ 'x-amz-acl': 'bucket-owner-full-control' }, b, OWNER)).toEqual({ ownerAccountId: OWNER })
    expect(newObjectAcl({ 'x-amz-acl': 'private' }, b, OWNER)).toEqual({ ownerAccountId: OWNER })
    expect(codeOf(() => newObjectAcl({ 'x-amz-acl': 'public-read' }, b, OWNER))).toBe('AccessControlListNotSupported')
    expect(codeOf(() => newObjectAcl({ 'x-amz-grant-read': `id=${otherId}` }, b, OWNER))).toBe(
      'AccessControlListNotSupported',
    )
  })
  it('ObjectWriter: the writer owns it; BucketOwnerPreferred with bucket-owner-full-control: the bucket owner', () => {
    expect(newObjectAcl({}, bucket({ objectOwnership: 'ObjectWriter' }), OTHER)).toEqual({ ownerAccountId: OTHER })
    expect(
      newObjectAcl(
        { 'x-amz-acl': 'bucket-owner-full-control' },
        bucket({ objectOwnership: 'BucketOwnerPreferred' }),
        OTHER,
      ).ownerAccountId,
    ).toBe(OWNER)
  })
  it('BlockPublicAcls refuses a public ACL with 403', () => {
    const b = bucket({
      objectOwnership: 'ObjectWriter',
      publicAccessBlock: {
        blockPublicAcls: true,
        ignorePublicAcls: false,
        blockPublicPolicy: false,
        restrictPublicBuckets: false,
      },
    })
    expect(codeOf(() => newObjectAcl({ 'x-amz-acl': 'public-read' }, b, OWNER))).toBe('AccessDenied')
  })
})

describe('a bucket record written before ownership controls and Block Public Access existed', () => {
  it('is BucketOwnerEnforced (ACL headers refused as before) and has no Block Public Access (public ACL checks do not apply)', () => {
    const legacy = bucket()
    expect(ownershipOf(legacy)).toBe('BucketOwnerEnforced')
    expect(codeOf(() => newObjectAcl({ 'x-amz-acl': 'public-read' }, legacy, OWNER))).toBe(
      'AccessControlListNotSupported',
    )
    expect(codeOf(() => refusePublicAcl(legacy, cannedAcl('public-read', 'bucket', OWNER, OWNER)))).toBe('no error')
  })
})

describe('ACL grants as policy statements', () => {
  const res = 'arn:aws:s3:::b/k'
  it('AllUsers READ on an object gives anyone s3:GetObject, unless IgnorePublicAcls', () => {
    const grants = cannedAcl('public-read', 'object', OWNER, OWNER)
    const st = aclStatements(grants, OWNER, 'object', res, {}, false)
    expect(st).toEqual([
      expect.objectContaining({
        effect: 'Allow',
        principal: { any: true },
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
      }),
    ])
    expect(aclStatements(grants, OWNER, 'object', res, {}, true)).toEqual([])
  })
  it('a grant to another account names that account, and only for that caller', () => {
    const grants = aclFromHeaders({ 'x-amz-grant-write': `id=${otherId}` }, 'bucket', OWNER, OWNER)
    expect(aclStatements(grants, OWNER, 'bucket', 'arn:aws:s3:::b', { accountId: OTHER }, false)[0]).toMatchObject({
      principal: { any: false, aws: [OTHER] },
    })
    expect(aclStatements(grants, OWNER, 'bucket', 'arn:aws:s3:::b', { accountId: '999999999999' }, false)).toEqual([])
  })
})
