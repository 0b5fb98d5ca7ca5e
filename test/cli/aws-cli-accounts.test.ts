/**
 * @module End-to-end: two accounts with the real aws CLI (v1), from a credentials file. Alice creates a
 * bucket and uploads; bob, another account from the credentials file, gets AccessDenied on
 * `s3 ls`, `s3 cp` (both ways) and `s3api head-bucket`, sees none of alice's buckets, cannot take
 * her bucket name (BucketAlreadyExists), and is refused alice's KMS key by ARN. A missing aws CLI
 * fails the suite (it never skips).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../support/server.js'
import { awsCliEnv, runAws, toolFails } from '../support/aws-cli.js'

const ALICE = { accountId: '111122223333', accessKeyId: 'ALICECLI', secretAccessKey: 'alice-cli-secret' }
const BOB = { accountId: '444455556666', accessKeyId: 'BOBCLI', secretAccessKey: 'bob-cli-secret' }

const runAwsFails = (args: string[], env: NodeJS.ProcessEnv) => toolFails('aws', args, { env })

describe('aws CLI v1: two accounts', () => {
  let server: TestServer
  let work: string
  let aliceEnv: NodeJS.ProcessEnv
  let bobEnv: NodeJS.ProcessEnv
  const envOf = (who: { accessKeyId: string; secretAccessKey: string }) => ({
    ...awsCliEnv(server.endpoint),
    AWS_ACCESS_KEY_ID: who.accessKeyId,
    AWS_SECRET_ACCESS_KEY: who.secretAccessKey,
  })
  const alice = (...args: string[]) => runAws(args, aliceEnv)
  const bob = (...args: string[]) => runAws(args, bobEnv)
  const bobFails = (...args: string[]) => runAwsFails(args, bobEnv)

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'strongroom-cli-accounts-'))
    const creds = path.join(work, 'credentials.json')
    await writeFile(
      creds,
      JSON.stringify({
        accounts: [
          {
            name: 'alice',
            accountId: ALICE.accountId,
            keys: [{ accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey }],
          },
          {
            name: 'bob',
            accountId: BOB.accountId,
            keys: [{ accessKeyId: BOB.accessKeyId, secretAccessKey: BOB.secretAccessKey }],
          },
        ],
      }),
    )
    server = await startTestServer({ args: ['--credentials-file', creds] })
    aliceEnv = envOf(ALICE)
    bobEnv = envOf(BOB)
    await writeFile(path.join(work, 'a.txt'), 'alice file')
    await alice('s3api', 'create-bucket', '--bucket', 'alice-cli')
    await alice('s3', 'cp', path.join(work, 'a.txt'), 's3://alice-cli/a.txt')
    await bob('s3', 'mb', 's3://bob-cli')
  }, 120_000)

  afterAll(async () => {
    await server?.close()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('alice uses her bucket', async () => {
    expect(await alice('s3', 'ls', 's3://alice-cli')).toContain('a.txt')
    await alice('s3', 'cp', 's3://alice-cli/a.txt', path.join(work, 'back.txt'))
    expect(await readFile(path.join(work, 'back.txt'), 'utf8')).toBe('alice file')
  })

  it("bob gets AccessDenied on s3 ls and s3 cp (download, upload, copy out) of alice's bucket", async () => {
    expect(await bobFails('s3', 'ls', 's3://alice-cli')).toMatch(/AccessDenied/)
    expect(await bobFails('s3', 'cp', 's3://alice-cli/a.txt', path.join(work, 'stolen.txt'))).toMatch(
      /403|Forbidden|AccessDenied/,
    )
    expect(await bobFails('s3', 'cp', path.join(work, 'a.txt'), 's3://alice-cli/from-bob.txt')).toMatch(/AccessDenied/)
    expect(await bobFails('s3', 'cp', 's3://alice-cli/a.txt', 's3://bob-cli/copied.txt')).toMatch(
      /403|Forbidden|AccessDenied/,
    )
    expect(await bobFails('s3api', 'head-bucket', '--bucket', 'alice-cli')).toMatch(/403|Forbidden/)
    expect(await bobFails('s3api', 'delete-object', '--bucket', 'alice-cli', '--key', 'a.txt')).toMatch(/AccessDenied/)
    expect(await alice('s3', 'ls', 's3://alice-cli')).not.toContain('from-bob.txt')
  })

  it('each account lists only its own buckets', async () => {
    const aliceList = await alice('s3', 'ls')
    const bobList = await bob('s3', 'ls')
    expect(aliceList).toContain('alice-cli')
    expect(aliceList).not.toContain('bob-cli')
    expect(bobList).toContain('bob-cli')
    expect(bobList).not.toContain('alice-cli')
  })

  it("bob cannot take alice's bucket name: BucketAlreadyExists", async () => {
    expect(await bobFails('s3api', 'create-bucket', '--bucket', 'alice-cli')).toMatch(/BucketAlreadyExists/)
  })

  it("expected bucket owner: alice's own account id passes, bob's is refused", async () => {
    await alice('s3api', 'list-objects-v2', '--bucket', 'alice-cli', '--expected-bucket-owner', ALICE.accountId)
    expect(
      await runAwsFails(
        ['s3api', 'list-objects-v2', '--bucket', 'alice-cli', '--expected-bucket-owner', BOB.accountId],
        aliceEnv,
      ),
    ).toMatch(/AccessDenied/)
  })

  it("KMS keys are per account: bob is refused alice's key by ARN, in KMS and through s3 cp --sse aws:kms", async () => {
    const arn = (await alice('kms', 'create-key', '--query', 'KeyMetadata.Arn', '--output', 'text')).trim()
    expect(arn).toMatch(new RegExp(`^arn:aws:kms:us-east-1:${ALICE.accountId}:key/`))
    expect(await bobFails('kms', 'describe-key', '--key-id', arn)).toMatch(/AccessDeniedException/)
    expect(
      await bobFails(
        's3',
        'cp',
        path.join(work, 'a.txt'),
        's3://bob-cli/k.txt',
        '--sse',
        'aws:kms',
        '--sse-kms-key-id',
        arn,
      ),
    ).toMatch(/AccessDenied.*not authorized to perform: kms:GenerateDataKey/)
    const bobKeys = await bob('kms', 'list-keys', '--output', 'text')
    expect(bobKeys).not.toContain(arn)
  })
})
