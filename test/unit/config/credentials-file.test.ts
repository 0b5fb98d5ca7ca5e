/**
 * @module The accounts file (`--credentials-file`): a good file gives every key a
 * Credential with its account id and principal ARN; every malformed file stops loadConfig with a
 * ConfigError naming the problem, and no message ever holds a secret access key.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../../server/config.js'

const SECRET = 'SuperSecret/Value+123'
let dir: string
let n = 0

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'strongroom-creds-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function fileWith(text: string): Promise<string> {
  const f = path.join(dir, `c${++n}.json`)
  await writeFile(f, text)
  return f
}

const load = (file: string, env: NodeJS.ProcessEnv = {}) => loadConfig(['--credentials-file', file], env)

/** Loads `doc` and returns the ConfigError's message (failing if it loads). */
async function failureOf(doc: unknown, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const f = await fileWith(typeof doc === 'string' ? doc : JSON.stringify(doc))
  let err: unknown
  try {
    load(f, env)
  } catch (e) {
    err = e
  }
  expect(err, 'expected a ConfigError').toBeInstanceOf(ConfigError)
  const msg = (err as Error).message
  expect(msg).toContain(f)
  expect(msg).not.toContain(SECRET)
  return msg
}

const key = (accessKeyId: string, extra: Record<string, unknown> = {}) => ({
  accessKeyId,
  secretAccessKey: SECRET,
  ...extra,
})
const account = (accountId: unknown, keys: unknown[], extra: Record<string, unknown> = {}) => ({
  name: 'alice',
  accountId,
  keys,
  ...extra,
})

describe('credentials file: valid files', () => {
  it('adds every key of every account after the root pair, with root principal ARNs by default', async () => {
    const f = await fileWith(
      JSON.stringify({
        accounts: [
          account('111122223333', [key('AK1'), key('AK2', { userName: 'dev' })]),
          { name: 'bob', accountId: '444455556666', keys: [key('BK1')], futureField: true },
        ],
        version: 7,
      }),
    )
    const cfg = load(f)
    expect(cfg.credentials).toEqual([
      {
        accessKeyId: 'test',
        secretAccessKey: 'test',
        accountId: '000000000000',
        principalArn: 'arn:aws:iam::000000000000:root',
      },
      {
        accessKeyId: 'AK1',
        secretAccessKey: SECRET,
        accountId: '111122223333',
        principalArn: 'arn:aws:iam::111122223333:root',
      },
      {
        accessKeyId: 'AK2',
        secretAccessKey: SECRET,
        accountId: '111122223333',
        principalArn: 'arn:aws:iam::111122223333:user/dev',
      },
      {
        accessKeyId: 'BK1',
        secretAccessKey: SECRET,
        accountId: '444455556666',
        principalArn: 'arn:aws:iam::444455556666:root',
      },
    ])
    expect(cfg.accountId).toBe('000000000000')
  })

  it('is read from STRONGROOM_CREDENTIALS_FILE too', async () => {
    const f = await fileWith(JSON.stringify({ accounts: [account('111122223333', [key('AK1')])] }))
    const cfg = loadConfig([], { STRONGROOM_CREDENTIALS_FILE: f })
    expect(cfg.credentials.map((c) => c.accessKeyId)).toEqual(['test', 'AK1'])
  })

  it('without a file there is only the root pair', () => {
    expect(loadConfig([], {}).credentials).toHaveLength(1)
  })

  it('the redacted config shows no secret', async () => {
    const { redactConfig } = await import('../../../server/config.js')
    const f = await fileWith(JSON.stringify({ accounts: [account('111122223333', [key('AK1')])] }))
    expect(JSON.stringify(redactConfig(load(f)))).not.toContain(SECRET)
  })
})

describe('credentials file: every malformed file stops the start with a clear message', () => {
  it('a file that cannot be read', async () => {
    const missing = path.join(dir, 'nope.json')
    expect(() => load(missing)).toThrow(ConfigError)
    expect(() => load(missing)).toThrow(/cannot be read \(ENOENT\)/)
    if (process.getuid?.() !== 0) {
      const f = await fileWith('{}')
      await chmod(f, 0o000)
      expect(() => load(f)).toThrow(/cannot be read \(EACCES\)/)
    }
  })

  it.each([
    [
      'not JSON',
      `{"accounts":[{"accountId":"111122223333","keys":[{"accessKeyId":"AK1","secretAccessKey":"${SECRET}"`,
      /not valid JSON/,
    ],
    ['not an object', '[1,2]', /must hold a JSON object/],
    ['null', 'null', /must hold a JSON object/],
    ['no accounts', {}, /"accounts" must be an array/],
    ['accounts not an array', { accounts: { a: 1 } }, /"accounts" must be an array/],
    ['empty accounts', { accounts: [] }, /"accounts" is empty/],
    ['an account that is not an object', { accounts: ['alice'] }, /accounts\[0\] must be an object/],
    [
      'an empty name',
      { accounts: [account('111122223333', [key('AK1')], { name: '' })] },
      /accounts\[0\]\.name must be a non-empty string/,
    ],
    [
      'a missing account id',
      { accounts: [{ name: 'alice', keys: [key('AK1')] }] },
      /accounts\[0\] \("alice"\): missing "accountId"/,
    ],
    [
      'an account id of 11 digits',
      { accounts: [account('11112222333', [key('AK1')])] },
      /"accountId" must be a string of 12 digits/,
    ],
    [
      'an account id with letters',
      { accounts: [account('11112222333a', [key('AK1')])] },
      /"accountId" must be a string of 12 digits/,
    ],
    [
      'a numeric account id',
      { accounts: [account(111122223333, [key('AK1')])] },
      /"accountId" must be a string of 12 digits/,
    ],
    [
      'a duplicate account id',
      { accounts: [account('111122223333', [key('AK1')]), account('111122223333', [key('AK2')], { name: 'bob' })] },
      /accounts\[1\] \("bob"\): duplicate accountId 111122223333/,
    ],
    ['no keys', { accounts: [{ accountId: '111122223333' }] }, /"keys" must be a non-empty array/],
    ['empty keys', { accounts: [account('111122223333', [])] }, /"keys" must be a non-empty array/],
    ['a key that is not an object', { accounts: [account('111122223333', ['AK1'])] }, /keys\[0\] must be an object/],
    [
      'a missing access key id',
      { accounts: [account('111122223333', [{ secretAccessKey: SECRET }])] },
      /keys\[0\]: missing "accessKeyId"/,
    ],
    [
      'an empty access key id',
      { accounts: [account('111122223333', [key('')])] },
      /"accessKeyId" must be a non-empty string/,
    ],
    [
      'an access key id with a slash',
      { accounts: [account('111122223333', [key('AK/1')])] },
      /"accessKeyId" may hold only/,
    ],
    [
      'a duplicate access key id',
      { accounts: [account('111122223333', [key('AK1')]), account('444455556666', [key('AK1')], { name: 'bob' })] },
      /accounts\[1\] \("bob"\)\.keys\[0\]: duplicate accessKeyId AK1 \(also in accounts\[0\] \("alice"\)\.keys\[0\]\)/,
    ],
    [
      'the root access key id again',
      { accounts: [account('111122223333', [key('test')])] },
      /duplicate accessKeyId test \(also in the root credentials\)/,
    ],
    [
      'a missing secret',
      { accounts: [account('111122223333', [{ accessKeyId: 'AK1' }])] },
      /keys\[0\]: missing "secretAccessKey"/,
    ],
    [
      'an empty secret',
      { accounts: [account('111122223333', [{ accessKeyId: 'AK1', secretAccessKey: '' }])] },
      /"secretAccessKey" is empty/,
    ],
    [
      'a secret that is not a string',
      { accounts: [account('111122223333', [{ accessKeyId: 'AK1', secretAccessKey: 12 }])] },
      /"secretAccessKey" must be a string/,
    ],
    [
      'a bad user name',
      { accounts: [account('111122223333', [key('AK1', { userName: 'a b' })])] },
      /"userName" must be 1-64 characters/,
    ],
  ])('%s', async (_what, doc, want) => {
    expect(await failureOf(doc)).toMatch(want)
  })

  it('a duplicate of a root access key id set in the environment', async () => {
    const msg = await failureOf(
      { accounts: [account('111122223333', [key('ROOTKEY')])] },
      { STRONGROOM_ACCESS_KEY_ID: 'ROOTKEY', STRONGROOM_SECRET_ACCESS_KEY: 'x' },
    )
    expect(msg).toMatch(/duplicate accessKeyId ROOTKEY \(also in the root credentials\)/)
  })

  it('a later error does not echo the secrets of earlier, valid keys', async () => {
    const msg = await failureOf({
      accounts: [account('111122223333', [key('AK1'), { accessKeyId: 'AK2', secretAccessKey: SECRET, userName: 7 }])],
    })
    expect(msg).toMatch(/keys\[1\]: "userName"/)
  })
})
