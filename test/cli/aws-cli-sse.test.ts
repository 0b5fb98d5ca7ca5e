/**
 * @module End-to-end tests of SSE-S3, SSE-C and bucket default encryption with the real aws CLI
 * (v1) against strongroom on 127.0.0.1 over plain HTTP, where SSE-C works because a loopback peer
 * counts as secure (docs/s3-behaviour.md). docs/s3-sse-rules.md §4.8, §4.11, §5. A missing `aws`
 * fails the suite; nothing is skipped.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../support/server.js'
import { awsCliEnv, runTool, type ToolFailure } from '../support/aws-cli.js'

const MiB = 1024 * 1024

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex')
const md5b64 = (b: Uint8Array) => createHash('md5').update(b).digest('base64')

describe('aws CLI v1: SSE-S3, SSE-C and bucket encryption', () => {
  let server: TestServer
  let work: string
  let env: NodeJS.ProcessEnv
  const bucket = 'cli-sse'
  let key1: Buffer
  let key2: Buffer
  let k1File: string
  let k2File: string

  const run = (args: string[]) => runTool('aws', args, { env })
  const aws = async (...args: string[]) => (await run(args)).stdout
  const s3api = async (...args: string[]): Promise<Record<string, any>> => {
    const out = (await run(['s3api', ...args, '--output', 'json'])).stdout.trim()
    return out === '' ? {} : JSON.parse(out)
  }
  /** Runs an aws command that must fail; returns its stderr and stdout. */
  const awsFails = async (...args: string[]): Promise<string> => {
    try {
      await run(args)
    } catch (e) {
      const err = e as ToolFailure
      if (err.message.startsWith('required tool')) throw err
      return `${err.stderr ?? ''}${err.stdout ?? ''}`
    }
    throw new Error(`aws ${args.join(' ')} succeeded but was expected to fail`)
  }
  const randomFile = async (name: string, size: number) => {
    const data = randomBytes(size)
    const file = path.join(work, name)
    await writeFile(file, data)
    return { file, data }
  }
  const sseC = (file: string) => ['--sse-c', 'AES256', '--sse-c-key', `fileb://${file}`]
  const sseCCopySource = (file: string) => [
    '--sse-c-copy-source',
    'AES256',
    '--sse-c-copy-source-key',
    `fileb://${file}`,
  ]
  const customer = (file: string) => ['--sse-customer-algorithm', 'AES256', '--sse-customer-key', `fileb://${file}`]
  const encryptionRule = async () =>
    (await s3api('get-bucket-encryption', '--bucket', bucket)).ServerSideEncryptionConfiguration.Rules[0]
  const download = async (key: string, ...extra: string[]) => {
    const out = path.join(work, `down-${randomBytes(4).toString('hex')}`)
    await aws('s3', 'cp', '--no-progress', `s3://${bucket}/${key}`, out, ...extra)
    return readFile(out)
  }

  beforeAll(async () => {
    server = await startTestServer()
    env = awsCliEnv(server.endpoint)
    expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:/)
    work = await mkdtemp(path.join(tmpdir(), 'strongroom-cli-sse-'))
    const version = await run(['--version'])
    expect(`${version.stdout}${version.stderr}`).toMatch(/aws-cli\/1\./)
    key1 = randomBytes(32)
    key2 = randomBytes(32)
    k1File = path.join(work, 'k.bin')
    k2File = path.join(work, 'k2.bin')
    await writeFile(k1File, key1)
    await writeFile(k2File, key2)
    await aws('s3', 'mb', `s3://${bucket}`)
  })
  afterAll(async () => {
    await server?.close()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('BENC-01 BLK-01 s3api get-bucket-encryption of a new bucket shows AES256 and the SSE-C block', async () => {
    expect(await encryptionRule()).toEqual({
      ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
      BucketKeyEnabled: false,
      BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] },
    })
  })

  it('BLK-02 s3 cp --sse-c into the new (blocked) bucket fails with AccessDenied and a message that says how to unblock', async () => {
    const { file } = await randomFile('blocked.bin', 100)
    const out = await awsFails('s3', 'cp', '--no-progress', file, `s3://${bucket}/blocked.bin`, ...sseC(k1File))
    expect(out).toContain('AccessDenied')
    expect(out).toContain('NONE')
  })

  it('BLK-04 s3api put-bucket-encryption with BlockedEncryptionTypes NONE unblocks SSE-C; get-bucket-encryption shows it', async () => {
    await s3api(
      'put-bucket-encryption',
      '--bucket',
      bucket,
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
    expect((await encryptionRule()).BlockedEncryptionTypes).toEqual({ EncryptionType: ['NONE'] })
  })

  describe.each([0, 1, 65535, 65537, 9 * MiB])('%i bytes', (size) => {
    it('SSE-02 s3 cp --sse AES256 up: head-object shows AES256 and the MD5 ETag; down byte-exact (TLS-04)', async () => {
      const { file, data } = await randomFile(`s3-${size}.bin`, size)
      await aws('s3', 'cp', '--no-progress', file, `s3://${bucket}/s3/${size}`, '--sse', 'AES256')
      const head = await s3api('head-object', '--bucket', bucket, '--key', `s3/${size}`)
      expect([head.ContentLength, head.ServerSideEncryption]).toEqual([size, 'AES256'])
      if (size < 8 * MiB) expect(head.ETag).toBe(`"${md5(data)}"`)
      expect(sha256(await download(`s3/${size}`))).toBe(sha256(data))
    })

    it('SSEC-01 SSEC-02 s3 cp --sse-c AES256 --sse-c-key fileb://k.bin up and down over plain HTTP to 127.0.0.1 (TLS-05, docs/s3-behaviour.md)', async () => {
      const { file, data } = await randomFile(`c-${size}.bin`, size)
      await aws('s3', 'cp', '--no-progress', file, `s3://${bucket}/c/${size}`, ...sseC(k1File))
      const head = await s3api('head-object', '--bucket', bucket, '--key', `c/${size}`, ...customer(k1File))
      expect([
        head.ContentLength,
        head.SSECustomerAlgorithm,
        head.SSECustomerKeyMD5,
        head.ServerSideEncryption,
      ]).toEqual([size, 'AES256', md5b64(key1), undefined])
      expect(head.ETag).not.toBe(`"${md5(data)}"`)
      expect(sha256(await download(`c/${size}`, ...sseC(k1File)))).toBe(sha256(data))
    })

    it('SSEC-03 SSEC-05 downloading the SSE-C object without its key, or with another key, fails', async () => {
      expect(await awsFails('s3', 'cp', '--no-progress', `s3://${bucket}/c/${size}`, path.join(work, 'nokey'))).toMatch(
        /400|Bad Request/,
      )
      expect(
        await awsFails(
          's3',
          'cp',
          '--no-progress',
          `s3://${bucket}/c/${size}`,
          path.join(work, 'wrongkey'),
          ...sseC(k2File),
        ),
      ).toMatch(/403|Forbidden/)
    })

    it('SSEC-25 s3 cp SSE-C -> SSE-S3 with --sse-c-copy-source/--sse-c-copy-source-key and --sse AES256', async () => {
      const data = await download(`c/${size}`, ...sseC(k1File))
      await aws(
        's3',
        'cp',
        '--no-progress',
        `s3://${bucket}/c/${size}`,
        `s3://${bucket}/c2s/${size}`,
        ...sseCCopySource(k1File),
        '--sse',
        'AES256',
      )
      const head = await s3api('head-object', '--bucket', bucket, '--key', `c2s/${size}`)
      expect([head.ServerSideEncryption, head.SSECustomerAlgorithm]).toEqual(['AES256', undefined])
      if (size < 8 * MiB) expect(head.ETag).toBe(`"${md5(data)}"`)
      expect(sha256(await download(`c2s/${size}`))).toBe(sha256(data))
    })

    it('s3 cp SSE-S3 -> SSE-C with --sse-c/--sse-c-key, and SSE-C K1 -> K2 with both (SSEC-26)', async () => {
      const data = await download(`s3/${size}`)
      await aws('s3', 'cp', '--no-progress', `s3://${bucket}/s3/${size}`, `s3://${bucket}/s2c/${size}`, ...sseC(k1File))
      const head = await s3api('head-object', '--bucket', bucket, '--key', `s2c/${size}`, ...customer(k1File))
      expect([head.SSECustomerKeyMD5, head.ServerSideEncryption]).toEqual([md5b64(key1), undefined])
      expect(sha256(await download(`s2c/${size}`, ...sseC(k1File)))).toBe(sha256(data))

      await aws(
        's3',
        'cp',
        '--no-progress',
        `s3://${bucket}/s2c/${size}`,
        `s3://${bucket}/c2c/${size}`,
        ...sseCCopySource(k1File),
        ...sseC(k2File),
      )
      expect(
        (await s3api('head-object', '--bucket', bucket, '--key', `c2c/${size}`, ...customer(k2File))).SSECustomerKeyMD5,
      ).toBe(md5b64(key2))
      expect(sha256(await download(`c2c/${size}`, ...sseC(k2File)))).toBe(sha256(data))
      expect(
        await awsFails(
          's3',
          'cp',
          '--no-progress',
          `s3://${bucket}/c2c/${size}`,
          path.join(work, 'old-key'),
          ...sseC(k1File),
        ),
      ).toMatch(/403|Forbidden/)
    })
  })

  it('s3api put-object / get-object with --sse-customer-key fileb://k.bin, and copy-object rotating the key in place (SELF-11)', async () => {
    const { file, data } = await randomFile('api.bin', 70_000)
    const put = await s3api('put-object', '--bucket', bucket, '--key', 'api', '--body', file, ...customer(k1File))
    expect([put.SSECustomerAlgorithm, put.SSECustomerKeyMD5]).toEqual(['AES256', md5b64(key1)])
    const out = path.join(work, 'api-down.bin')
    const got = await s3api('get-object', '--bucket', bucket, '--key', 'api', ...customer(k1File), out)
    expect(got.SSECustomerKeyMD5).toBe(md5b64(key1))
    expect(sha256(await readFile(out))).toBe(sha256(data))
    const rotated = await s3api(
      'copy-object',
      '--bucket',
      bucket,
      '--key',
      'api',
      '--copy-source',
      `${bucket}/api`,
      '--copy-source-sse-customer-algorithm',
      'AES256',
      '--copy-source-sse-customer-key',
      `fileb://${k1File}`,
      ...customer(k2File),
    )
    expect(rotated.SSECustomerKeyMD5).toBe(md5b64(key2))
    expect(sha256(await download('api', ...sseC(k2File)))).toBe(sha256(data))
  })

  it('BENC-03 BENC-08 s3api put-bucket-encryption aws:kms with a key id and bucket key, get echoes it, delete-bucket-encryption resets to AES256 and keeps the block setting', async () => {
    // PutBucketEncryption checks that the key exists.
    const keyId = JSON.parse(await aws('kms', 'create-key', '--output', 'json')).KeyMetadata.KeyId as string
    await aws('kms', 'create-alias', '--alias-name', 'alias/app', '--target-key-id', keyId)
    await s3api(
      'put-bucket-encryption',
      '--bucket',
      bucket,
      '--server-side-encryption-configuration',
      JSON.stringify({
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/app' },
            BucketKeyEnabled: true,
          },
        ],
      }),
    )
    expect(await encryptionRule()).toEqual({
      ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/app' },
      BucketKeyEnabled: true,
      BlockedEncryptionTypes: { EncryptionType: ['NONE'] },
    })
    // Request headers win over the default (§4.4): an SSE-S3 upload needs no KMS.
    const { file } = await randomFile('over-default.bin', 10)
    await aws('s3', 'cp', '--no-progress', file, `s3://${bucket}/over-default`, '--sse', 'AES256')
    expect((await s3api('head-object', '--bucket', bucket, '--key', 'over-default')).ServerSideEncryption).toBe(
      'AES256',
    )
    await aws('s3api', 'delete-bucket-encryption', '--bucket', bucket)
    await aws('s3api', 'delete-bucket-encryption', '--bucket', bucket)
    expect(await encryptionRule()).toEqual({
      ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
      BucketKeyEnabled: false,
      BlockedEncryptionTypes: { EncryptionType: ['NONE'] },
    })
  })

  it('BENC-06 s3api put-bucket-encryption AES256 with a KMSMasterKeyID fails with InvalidArgument', async () => {
    const out = await awsFails(
      's3api',
      'put-bucket-encryption',
      '--bucket',
      bucket,
      '--server-side-encryption-configuration',
      JSON.stringify({
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256', KMSMasterKeyID: 'alias/app' } }],
      }),
    )
    expect(out).toContain('InvalidArgument')
    expect(out).toContain(
      'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse',
    )
  })
})
