/**
 * @module End-to-end: a user's SSE-KMS session with the real aws CLI (v1) against the embedded
 * KMS on the S3 endpoint — `kms create-key`, `kms create-alias`, `s3 cp --sse aws:kms
 * --sse-kms-key-id alias/app`, `s3api head-object`, `s3api put-bucket-encryption` with aws:kms and
 * BucketKeyEnabled, and an SSE-C → SSE-KMS copy (docs/s3-sse-rules.md §4.3, §4.4, §4.6, §4.11, §5). A missing
 * aws CLI fails the suite (it never skips).
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../support/server.js'
import { awsCliEnv, runAws, runTool, type ToolFailure } from '../support/aws-cli.js'

const MiB = 1024 * 1024
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex')

describe('aws CLI v1: SSE-KMS with the embedded KMS (a user session from start to end)', () => {
  let server: TestServer
  let work: string
  let env: NodeJS.ProcessEnv
  let keyId: string
  let keyArn: string

  const aws = (...args: string[]) => runAws(args, env)
  const json = async (...args: string[]): Promise<Record<string, any>> => {
    const out = (await runAws([...args, '--output', 'json'], env)).trim()
    return out === '' ? {} : JSON.parse(out)
  }
  const awsFails = async (...args: string[]): Promise<string> => {
    try {
      await runAws(args, env)
    } catch (e) {
      const err = e as ToolFailure
      if (err.message.startsWith('required tool')) throw err
      return `${err.stderr ?? ''}${err.stdout ?? ''}`
    }
    throw new Error(`aws ${args.join(' ')} succeeded but was expected to fail`)
  }
  const file = async (name: string, size: number) => {
    const data = randomBytes(size)
    const p = path.join(work, name)
    await writeFile(p, data)
    return { path: p, data }
  }
  const head = (bucket: string, key: string, ...extra: string[]) =>
    json('s3api', 'head-object', '--bucket', bucket, '--key', key, ...extra)

  beforeAll(async () => {
    server = await startTestServer()
    env = awsCliEnv(server.endpoint)
    work = await mkdtemp(path.join(tmpdir(), 'strongroom-cli-kms-'))
    const version = await runTool('aws', ['--version'], { env })
    expect(`${version.stdout}${version.stderr}`).toMatch(/aws-cli\/1\./)
    await aws('s3', 'mb', 's3://kms-b')
  })
  afterAll(async () => {
    await server?.close()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('KAPI-01 KAPI-07 kms create-key and kms create-alias --alias-name alias/app against the S3 endpoint', async () => {
    const created = await json('kms', 'create-key')
    keyId = created.KeyMetadata.KeyId
    keyArn = created.KeyMetadata.Arn
    expect(keyArn).toBe(`arn:aws:kms:us-east-1:000000000000:key/${keyId}`)
    expect(created.KeyMetadata).toMatchObject({ KeyState: 'Enabled', KeyManager: 'CUSTOMER' })
    await aws('kms', 'create-alias', '--alias-name', 'alias/app', '--target-key-id', keyId)
    const aliases = await json('kms', 'list-aliases')
    expect(aliases.Aliases.find((a: { AliasName: string }) => a.AliasName === 'alias/app')?.TargetKeyId).toBe(keyId)
    const dk = await json('kms', 'generate-data-key', '--key-id', 'alias/app', '--key-spec', 'AES_256')
    expect(Buffer.from(dk.Plaintext, 'base64')).toHaveLength(32)
    expect(dk.KeyId).toBe(keyArn)
  })

  it('KMS-01 KMS-05 s3 cp --sse aws:kms --sse-kms-key-id alias/app; s3api head-object shows aws:kms and the key ARN; the download is intact', async () => {
    const f = await file('f', 100_000)
    await aws('s3', 'cp', '--no-progress', f.path, 's3://kms-b/f', '--sse', 'aws:kms', '--sse-kms-key-id', 'alias/app')
    const h = await head('kms-b', 'f')
    expect(h).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn, ContentLength: 100_000 })
    expect(h.BucketKeyEnabled).toBeUndefined()
    expect(h.ETag).not.toBe(`"${md5(f.data)}"`)
    const down = path.join(work, 'f.down')
    await aws('s3', 'cp', '--no-progress', 's3://kms-b/f', down)
    expect(sha256(await readFile(down))).toBe(sha256(f.data))
  })

  it('KMS-19 a 20 MiB s3 cp --sse aws:kms is a multipart upload under the key (ETag -3) and downloads intact', async () => {
    const f = await file('big', 20 * MiB)
    await aws('s3', 'cp', '--no-progress', f.path, 's3://kms-b/big', '--sse', 'aws:kms', '--sse-kms-key-id', keyId)
    const h = await head('kms-b', 'big')
    expect(h).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn })
    expect(h.ETag).toMatch(/^"[0-9a-f]{32}-3"$/)
    const down = path.join(work, 'big.down')
    await aws('s3', 'cp', '--no-progress', 's3://kms-b/big', down)
    expect(sha256(await readFile(down))).toBe(sha256(f.data))
  })

  it('BENC-03 KMS-17 s3api put-bucket-encryption aws:kms + alias/app + BucketKeyEnabled; get-bucket-encryption echoes it; a plain s3 cp then answers BK', async () => {
    const config = {
      Rules: [
        {
          ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/app' },
          BucketKeyEnabled: true,
        },
      ],
    }
    await aws(
      's3api',
      'put-bucket-encryption',
      '--bucket',
      'kms-b',
      '--server-side-encryption-configuration',
      JSON.stringify(config),
    )
    const got = await json('s3api', 'get-bucket-encryption', '--bucket', 'kms-b')
    expect(got.ServerSideEncryptionConfiguration.Rules[0]).toMatchObject({
      ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/app' },
      BucketKeyEnabled: true,
    })
    const f = await file('g', 5000)
    await aws('s3', 'cp', '--no-progress', f.path, 's3://kms-b/g')
    expect(await head('kms-b', 'g')).toMatchObject({
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: keyArn,
      BucketKeyEnabled: true,
    })
    const down = path.join(work, 'g.down')
    await aws('s3', 'cp', '--no-progress', 's3://kms-b/g', down)
    expect(sha256(await readFile(down))).toBe(sha256(f.data))
  })

  it('SSE-C -> SSE-KMS: s3 cp --sse-c-copy-source AES256 --sse-c-copy-source-key fileb://k.bin --sse aws:kms (small and multipart-sized)', async () => {
    // New buckets block SSE-C (docs/s3-sse-rules.md §5.4): unblock this one first.
    await aws('s3', 'mb', 's3://kms-c')
    await aws(
      's3api',
      'put-bucket-encryption',
      '--bucket',
      'kms-c',
      '--server-side-encryption-configuration',
      JSON.stringify({
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
            BlockedEncryptionTypes: { EncryptionType: ['NONE'] },
          },
        ],
      }),
    )
    const keyFile = path.join(work, 'k.bin')
    await writeFile(keyFile, randomBytes(32))
    for (const [name, size] of [
      ['small', 70_000],
      ['large', 10 * MiB],
    ] as const) {
      const f = await file(`c-${name}`, size)
      await aws(
        's3',
        'cp',
        '--no-progress',
        f.path,
        `s3://kms-c/${name}`,
        '--sse-c',
        'AES256',
        '--sse-c-key',
        `fileb://${keyFile}`,
      )
      await aws(
        's3',
        'cp',
        '--no-progress',
        `s3://kms-c/${name}`,
        `s3://kms-c/${name}-kms`,
        '--sse-c-copy-source',
        'AES256',
        '--sse-c-copy-source-key',
        `fileb://${keyFile}`,
        '--sse',
        'aws:kms',
      )
      const managed = (await json('kms', 'describe-key', '--key-id', 'alias/aws/s3')).KeyMetadata
      expect(managed.KeyManager).toBe('AWS')
      const h = await head('kms-c', `${name}-kms`)
      expect(h).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: managed.Arn, ContentLength: size })
      expect(h.SSECustomerAlgorithm).toBeUndefined()
      const down = path.join(work, `c-${name}.down`)
      await aws('s3', 'cp', '--no-progress', `s3://kms-c/${name}-kms`, down)
      expect(sha256(await readFile(down))).toBe(sha256(f.data))
      // With an explicit key the copy goes to alias/app.
      await aws(
        's3',
        'cp',
        '--no-progress',
        `s3://kms-c/${name}`,
        `s3://kms-c/${name}-app`,
        '--sse-c-copy-source',
        'AES256',
        '--sse-c-copy-source-key',
        `fileb://${keyFile}`,
        '--sse',
        'aws:kms',
        '--sse-kms-key-id',
        'alias/app',
      )
      expect((await head('kms-c', `${name}-app`)).SSEKMSKeyId).toBe(keyArn)
    }
  })

  it('SSE-KMS -> SSE-S3 and key A -> key B copies with s3 cp', async () => {
    const key2 = (await json('kms', 'create-key')).KeyMetadata
    await aws(
      's3',
      'cp',
      '--no-progress',
      's3://kms-b/f',
      's3://kms-c/f-k2',
      '--sse',
      'aws:kms',
      '--sse-kms-key-id',
      key2.KeyId,
    )
    expect((await head('kms-c', 'f-k2')).SSEKMSKeyId).toBe(key2.Arn)
    await aws('s3', 'cp', '--no-progress', 's3://kms-b/f', 's3://kms-c/f-s3', '--sse', 'AES256')
    const h = await head('kms-c', 'f-s3')
    expect(h.ServerSideEncryption).toBe('AES256')
    expect(h.SSEKMSKeyId).toBeUndefined()
    const down = path.join(work, 'f-s3.down')
    await aws('s3', 'cp', '--no-progress', 's3://kms-c/f-s3', down)
    expect(h.ETag).toBe(`"${md5(await readFile(down))}"`)
  })

  it('KMS-06 s3 cp --sse aws:kms --sse-kms-key-id fake-key-id fails with KMS.NotFoundException', async () => {
    const f = await file('bad', 10)
    const stderr = await awsFails(
      's3',
      'cp',
      '--no-progress',
      f.path,
      's3://kms-b/bad',
      '--sse',
      'aws:kms',
      '--sse-kms-key-id',
      'fake-key-id',
    )
    expect(stderr).toContain('KMS.NotFoundException')
    expect(stderr).toContain("Invalid keyId 'fake-key-id'")
  })
})
