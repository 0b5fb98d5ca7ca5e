/**
 * @module The IAM part of the credentials file: users with inline policies and keys, roles with a
 * trust policy; the original format keeps working; every fault names where it is and no message
 * carries a secret.
 */
import { describe, expect, it } from 'vitest'
import { CredentialsFileError, parseAccountsDocument } from '../../../server/credentials-file.js'

const SECRET = 'never-in-a-message-1234'
const read = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }],
}
const trust = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:user/app' }, Action: 'sts:AssumeRole' }],
}
const acct = (extra: object) => ({ accounts: [{ name: 'a', accountId: '111122223333', ...extra }] })

function failure(doc: unknown): string {
  try {
    parseAccountsDocument(doc)
  } catch (err) {
    expect(err).toBeInstanceOf(CredentialsFileError)
    expect((err as Error).message).not.toContain(SECRET)
    return (err as Error).message
  }
  throw new Error('expected a CredentialsFileError')
}

describe('credentials file: IAM users and roles', () => {
  it("users get their policies and an AIDA id; roles an AROA id; keys stay the account's full authority", () => {
    const { credentials, roles } = parseAccountsDocument(
      acct({
        keys: [{ accessKeyId: 'AK1', secretAccessKey: SECRET }],
        users: [{ name: 'app', policies: { read }, keys: [{ accessKeyId: 'AK2', secretAccessKey: SECRET }] }],
        roles: [{ name: 'reader', trustPolicy: trust, policies: { read }, maxSessionDuration: 7200 }],
      }),
    )
    expect(credentials.map((c) => [c.accessKeyId, c.principalArn, c.identity?.kind])).toEqual([
      ['AK1', 'arn:aws:iam::111122223333:root', undefined],
      ['AK2', 'arn:aws:iam::111122223333:user/app', 'user'],
    ])
    expect(credentials[1].identity?.userId).toMatch(/^AIDA[A-Z2-7]{17}$/)
    expect(credentials[1].identity?.policies?.map((p) => p.name)).toEqual(['read'])
    expect(roles).toHaveLength(1)
    expect(roles[0]).toMatchObject({
      name: 'reader',
      arn: 'arn:aws:iam::111122223333:role/reader',
      maxSessionDuration: 7200,
    })
    expect(roles[0].roleId).toMatch(/^AROA[A-Z2-7]{17}$/)
  })

  it('an account of users only needs no "keys"', () => {
    expect(
      parseAccountsDocument(acct({ users: [{ name: 'u', keys: [{ accessKeyId: 'AK3', secretAccessKey: SECRET }] }] }))
        .credentials,
    ).toHaveLength(1)
  })

  it.each([
    ['a bad user name', acct({ users: [{ name: 'a b', keys: [] }] }), /users\[0\]: "name" must be 1-64/],
    [
      'a duplicate user',
      acct({
        users: [
          { name: 'u', keys: [] },
          { name: 'U', keys: [] },
        ],
      }),
      /users\[1\]: duplicate user name U/,
    ],
    ['user keys not an array', acct({ users: [{ name: 'u' }] }), /users\[0\]: "keys" must be an array/],
    [
      'a user key without secret',
      acct({ users: [{ name: 'u', keys: [{ accessKeyId: 'AK9' }] }] }),
      /users\[0\]\.keys\[0\]: missing "secretAccessKey"/,
    ],
    [
      'a duplicate key across users',
      acct({
        keys: [{ accessKeyId: 'AK1', secretAccessKey: SECRET }],
        users: [{ name: 'u', keys: [{ accessKeyId: 'AK1', secretAccessKey: SECRET }] }],
      }),
      /duplicate accessKeyId AK1/,
    ],
    [
      'a policy with a Principal',
      acct({
        users: [{ name: 'u', keys: [], policies: { p: { Statement: [{ ...read.Statement[0], Principal: '*' }] } } }],
      }),
      /policies\["p"\]: Policy document should not specify a principal/,
    ],
    [
      'a policy with an unknown action',
      acct({
        users: [
          {
            name: 'u',
            keys: [],
            policies: { p: { Statement: [{ Effect: 'Allow', Action: 's3:Nope', Resource: '*' }] } },
          },
        ],
      }),
      /Policy has invalid action/,
    ],
    [
      'policies not an object',
      acct({ users: [{ name: 'u', keys: [], policies: [read] }] }),
      /policies must be an object/,
    ],
    [
      'a bad policy name',
      acct({ users: [{ name: 'u', keys: [], policies: { 'a b': read } }] }),
      /"a b" is not a valid policy name/,
    ],
    ['a role without trust policy', acct({ roles: [{ name: 'r' }] }), /roles\[0\]: missing "trustPolicy"/],
    [
      'a trust policy with a Resource',
      acct({ roles: [{ name: 'r', trustPolicy: { Statement: [{ ...trust.Statement[0], Resource: '*' }] } }] }),
      /Has prohibited field Resource/,
    ],
    [
      'a trust policy without Principal',
      acct({ roles: [{ name: 'r', trustPolicy: { Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] } }] }),
      /Missing required field Principal/,
    ],
    [
      'a session duration too long',
      acct({ roles: [{ name: 'r', trustPolicy: trust, maxSessionDuration: 50000 }] }),
      /"maxSessionDuration" must be a whole number of seconds from 3600 to 43200/,
    ],
    [
      'a duplicate role',
      acct({
        roles: [
          { name: 'r', trustPolicy: trust },
          { name: 'r', trustPolicy: trust },
        ],
      }),
      /duplicate role name r/,
    ],
  ])('%s', (_what, doc, want) => {
    expect(failure(doc)).toMatch(want)
  })
})
