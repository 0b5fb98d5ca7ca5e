/**
 * @module E2E: strongroom delegating SSE-KMS to an external KMS (`--kms-endpoint`): moto_server's
 * KMS on a free loopback port, behind a tiny counting proxy written here.
 * Checks SSE-KMS PUT/GET/HEAD/multipart/copy round trips and the KMS errors (docs/s3-sse-rules.md §4.6), counts
 * KMS calls (one GenerateDataKey per PUT without a bucket key, none with a warm bucket key, none on
 * HEAD or LIST; crypto/README.md §1), then stops the KMS: SSE-S3 and SSE-C keep working and SSE-KMS requests
 * answer 503 instead of hanging. A machine without moto_server FAILS this suite (it never skips).
 */
import { CreateAliasCommand, CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms'
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectSdkError } from '../support/expect-s3.js'
import {
  contextHeader,
  kmsClient,
  startCountingProxy,
  startMoto,
  type CountingProxy,
  type Moto,
} from '../support/kms.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'

const MiB = 1024 * 1024
const UNKNOWN_UUID = '134f2428-cec1-4b25-a1ae-9048164dba47'
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex')
const md5Hex = (b: Uint8Array | string) => createHash('md5').update(b).digest('hex')
const bytesOf = async (res: { Body?: { transformToByteArray(): Promise<Uint8Array> } }) =>
  Buffer.from(await res.Body!.transformToByteArray())
const K1 = Buffer.from('1234567890abcdef1234567890abcdef')
const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: K1 as never }
const unavailable = { status: 503, code: 'ServiceUnavailable' }

describe('SSE-KMS with an external KMS (moto_server behind a counting proxy)', () => {
  let moto: Moto | undefined
  let proxy: CountingProxy | undefined
  let srv: TestServer | undefined
  let s3: S3Client
  let motoKms: KMSClient
  let startError: Error | undefined
  let keyId: string
  let keyArn: string
  let key2Arn: string
  const bucket = 'ext-kms'

  /** Every test fails (not skips) with the start error when moto_server is missing or broken. */
  function needMoto(): void {
    if (startError) throw startError
  }

  beforeAll(async () => {
    try {
      moto = await startMoto()
    } catch (err) {
      startError = err as Error
      return
    }
    motoKms = kmsClient(moto.endpoint)
    const created = (await motoKms.send(new CreateKeyCommand({ Description: 'strongroom external KMS e2e' })))
      .KeyMetadata!
    keyId = created.KeyId!
    keyArn = created.Arn!
    await motoKms.send(new CreateAliasCommand({ AliasName: 'alias/ext-app', TargetKeyId: keyId }))
    key2Arn = (await motoKms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!
    proxy = await startCountingProxy(moto.endpoint)
    // Credentials for the KMS default to the S3 pair (test/test); moto accepts any.
    srv = await startTestServer({ args: ['--kms-endpoint', proxy.endpoint, '--allow-sse-c-on-new-buckets'] })
    s3 = makeClient(srv.endpoint, { maxAttempts: 1 })
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
  })

  afterAll(async () => {
    s3?.destroy()
    motoKms?.destroy()
    await srv?.close()
    await proxy?.close()
    await moto?.stop()
  })

  it('KMS-01 KMS-05 PUT aws:kms with the key id, alias or key ARN: SSE aws:kms and KID = the external key ARN on PUT, GET and HEAD; the body round-trips', async () => {
    needMoto()
    const data = randomBytes(150_000)
    for (const [i, id] of [keyId, 'alias/ext-app', keyArn].entries()) {
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `rt-${i}`,
          Body: data,
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: id,
        }),
      )
      expect(put).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn })
      expect(put.ETag?.replace(/"/g, '')).not.toBe(md5Hex(data))
      const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `rt-${i}` }))
      expect(get).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn })
      expect(sha256(await bytesOf(get))).toBe(sha256(data))
      expect(await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `rt-${i}` }))).toMatchObject({
        SSEKMSKeyId: keyArn,
        ContentLength: data.length,
      })
    }
    const range = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rt-0', Range: 'bytes=65530-65545' }))
    expect((await bytesOf(range)).equals(data.subarray(65530, 65546))).toBe(true)
  })

  it('KMS-15 KMS-16 a client context travels to the external KMS and back (echoed on PUT; GET decrypts with it)', async () => {
    needMoto()
    const ctx = contextHeader({ department: 'finance' })
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'ctx',
        Body: 'test-sse',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: keyId,
        SSEKMSEncryptionContext: ctx,
      }),
    )
    expect(put.SSEKMSEncryptionContext).toBe(ctx)
    expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ctx' }))).Body!.transformToString()).toBe(
      'test-sse',
    )
  })

  it('KMS-19 multipart under the external key: Create, UploadPart, Complete answer SSE and KID; ranged and partNumber reads across parts', async () => {
    needMoto()
    const p1 = randomBytes(5 * MiB)
    const create = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mp',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'alias/ext-app',
      }),
    )
    expect(create).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn })
    const u1 = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: create.UploadId, PartNumber: 1, Body: p1 }),
    )
    const u2 = await s3.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: 'mp',
        UploadId: create.UploadId,
        PartNumber: 2,
        CopySource: `${bucket}/rt-0`,
        CopySourceRange: 'bytes=0-69999',
      }),
    )
    expect(u1).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn })
    expect(u2).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn })
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mp',
        UploadId: create.UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: u1.ETag },
            { PartNumber: 2, ETag: u2.CopyPartResult?.ETag },
          ],
        },
      }),
    )
    expect(done).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn })
    expect(done.ETag).toMatch(/-2"$/)
    const rt0 = await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rt-0' })))
    const whole = Buffer.concat([p1, rt0.subarray(0, 70_000)])
    expect(sha256(await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp' }))))).toBe(
      sha256(whole),
    )
    const r = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'mp', Range: `bytes=${5 * MiB - 100}-${5 * MiB + 99}` }),
    )
    expect((await bytesOf(r)).equals(whole.subarray(5 * MiB - 100, 5 * MiB + 100))).toBe(true)
    const part2 = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp', PartNumber: 2 }))
    expect((await bytesOf(part2)).equals(whole.subarray(5 * MiB))).toBe(true)
  })

  it('KMS-20 copies: KMS -> KMS with another key, SSE-S3 -> KMS, KMS -> SSE-S3, SSE-C -> KMS; data intact', async () => {
    needMoto()
    const kmsToKms = await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'copy-k2',
        CopySource: `${bucket}/ctx`,
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: key2Arn,
      }),
    )
    expect(kmsToKms).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key2Arn })
    expect(kmsToKms.SSEKMSEncryptionContext).toBeUndefined()
    expect(
      await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy-k2' }))).Body!.transformToString(),
    ).toBe('test-sse')
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'test-sse' }))
    const s3ToKms = await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'copy-s3-kms',
        CopySource: `${bucket}/plain`,
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: keyId,
      }),
    )
    expect(s3ToKms.SSEKMSKeyId).toBe(keyArn)
    expect(
      await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy-s3-kms' }))).Body!.transformToString(),
    ).toBe('test-sse')
    const kmsToS3 = await s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'copy-kms-s3', CopySource: `${bucket}/ctx` }),
    )
    expect(kmsToS3.ServerSideEncryption).toBe('AES256')
    expect(kmsToS3.CopyObjectResult?.ETag).toBe('"42832cdec7083e70a9cd6f2d5852e004"')
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ssec', Body: 'test-sse', ...ssec }))
    const cToKms = await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'copy-c-kms',
        CopySource: `${bucket}/ssec`,
        CopySourceSSECustomerAlgorithm: 'AES256',
        CopySourceSSECustomerKey: K1 as never,
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'alias/ext-app',
      }),
    )
    expect(cToKms.SSEKMSKeyId).toBe(keyArn)
    expect(
      await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy-c-kms' }))).Body!.transformToString(),
    ).toBe('test-sse')
  })

  it('KMS-17 a bucket default aws:kms + bucket key works against the external KMS (BK on PUT and GET)', async () => {
    needMoto()
    await s3.send(new CreateBucketCommand({ Bucket: 'ext-bk' }))
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: 'ext-bk',
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
              BucketKeyEnabled: true,
            },
          ],
        },
      }),
    )
    expect(await s3.send(new PutObjectCommand({ Bucket: 'ext-bk', Key: 'o', Body: 'test-sse' }))).toMatchObject({
      SSEKMSKeyId: keyArn,
      BucketKeyEnabled: true,
    })
    const get = await s3.send(new GetObjectCommand({ Bucket: 'ext-bk', Key: 'o' }))
    expect(get).toMatchObject({ SSEKMSKeyId: keyArn, BucketKeyEnabled: true })
    expect(await get.Body!.transformToString()).toBe('test-sse')
  })

  it("KMS-06 KMS-07 an unknown key answers 400 KMS.NotFoundException with the external KMS's own message; nothing is written", async () => {
    needMoto()
    const unknown = await expectSdkError(
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'nf',
          Body: 'x',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: UNKNOWN_UUID,
        }),
      ),
      { status: 400, code: 'KMS.NotFoundException' },
    )
    expect(unknown.message).toMatch(
      new RegExp(`Key 'arn:aws:kms:us-east-1:\\d{12}:key/${UNKNOWN_UUID}' does not exist`),
    )
    const fake = await expectSdkError(
      s3.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: 'nf',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: 'fake-key-id',
        }),
      ),
      { status: 400, code: 'KMS.NotFoundException' },
    )
    expect(fake.message).toContain('fake-key-id')
    await expectSdkError(
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'nf',
          Body: 'x',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: 'alias/none',
        }),
      ),
      {
        status: 400,
        code: 'KMS.NotFoundException',
      },
    )
    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'nf' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    })
  })

  it('KMS-02 aws:kms without a key id asks the external KMS for alias/aws/s3', async () => {
    needMoto()
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'managed', Body: 'test-sse', ServerSideEncryption: 'aws:kms' }),
    )
    expect(put.SSEKMSKeyId).toMatch(/^arn:aws:kms:us-east-1:\d{12}:key\//)
    expect(
      await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'managed' }))).Body!.transformToString(),
    ).toBe('test-sse')
  })

  describe('KMS calls counted at the proxy (crypto/README.md §1)', () => {
    it('one GenerateDataKey per PUT without a bucket key, and no other KMS call', async () => {
      needMoto()
      for (let i = 0; i < 3; i++) {
        proxy!.reset()
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: `count-${i}`,
            Body: randomBytes(1000),
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: keyArn,
          }),
        )
        expect(proxy!.counts()).toEqual({ GenerateDataKey: 1 })
      }
    })

    it('multipart: one GenerateDataKey at CreateMultipartUpload, at most one Decrypt for all the parts, none at Complete', async () => {
      needMoto()
      proxy!.reset()
      const create = await s3.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: 'count-mp',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyArn,
        }),
      )
      expect(proxy!.counts()).toEqual({ GenerateDataKey: 1 })
      proxy!.reset()
      const parts = []
      for (let i = 1; i <= 3; i++) {
        const up = await s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: 'count-mp',
            UploadId: create.UploadId,
            PartNumber: i,
            Body: i < 3 ? randomBytes(5 * MiB) : 'tail',
          }),
        )
        parts.push({ PartNumber: i, ETag: up.ETag })
      }
      expect(proxy!.counts()).toEqual({ Decrypt: 1 })
      proxy!.reset()
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'count-mp',
          UploadId: create.UploadId,
          MultipartUpload: { Parts: parts },
        }),
      )
      expect(proxy!.total()).toBe(0)
    })

    it('with a bucket key: one GenerateDataKey for the first PUT, zero for the following ones (also for concurrent PUTs on a cold bucket key)', async () => {
      needMoto()
      await s3.send(new CreateBucketCommand({ Bucket: 'ext-count-bk' }))
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: 'ext-count-bk',
          ServerSideEncryptionConfiguration: {
            Rules: [
              {
                ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyId },
                BucketKeyEnabled: true,
              },
            ],
          },
        }),
      )
      proxy!.reset()
      await s3.send(new PutObjectCommand({ Bucket: 'ext-count-bk', Key: 'first', Body: 'x' }))
      expect(proxy!.counts()).toEqual({ GenerateDataKey: 1 })
      proxy!.reset()
      for (let i = 0; i < 5; i++) {
        const put = await s3.send(
          new PutObjectCommand({ Bucket: 'ext-count-bk', Key: `next-${i}`, Body: randomBytes(100) }),
        )
        expect(put.BucketKeyEnabled).toBe(true)
      }
      expect(proxy!.total()).toBe(0)
      // A cold bucket key hit by several PUTs at once still costs one KMS call.
      await s3.send(new CreateBucketCommand({ Bucket: 'ext-count-bk2' }))
      proxy!.reset()
      await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          s3.send(
            new PutObjectCommand({
              Bucket: 'ext-count-bk2',
              Key: `c-${i}`,
              Body: 'x',
              ServerSideEncryption: 'aws:kms',
              SSEKMSKeyId: keyId,
              BucketKeyEnabled: true,
            }),
          ),
        ),
      )
      expect(proxy!.counts()).toEqual({ GenerateDataKey: 1 })
      for (let i = 0; i < 6; i++)
        expect(
          await (
            await s3.send(new GetObjectCommand({ Bucket: 'ext-count-bk2', Key: `c-${i}` }))
          ).Body!.transformToString(),
        ).toBe('x')
    })

    it('HEAD, ListObjects and ListObjectsV2 make no KMS call; GET makes at most one Decrypt (then the data key cache answers)', async () => {
      needMoto()
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'count-read',
          Body: 'test-sse',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyArn,
        }),
      )
      proxy!.reset()
      for (let i = 0; i < 3; i++) await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'count-read' }))
      await s3.send(new ListObjectsV2Command({ Bucket: bucket }))
      await s3.send(new ListObjectsCommand({ Bucket: bucket }))
      expect(proxy!.total()).toBe(0)
      await s3
        .send(new GetObjectCommand({ Bucket: bucket, Key: 'count-read' }))
        .then((r) => r.Body!.transformToString())
      expect(proxy!.counts()).toEqual({ Decrypt: 1 })
      await s3
        .send(new GetObjectCommand({ Bucket: bucket, Key: 'count-read' }))
        .then((r) => r.Body!.transformToString())
      expect(proxy!.counts()).toEqual({ Decrypt: 1 })
    })
  })

  describe('with the KMS down', () => {
    beforeAll(async () => {
      if (startError) return
      // Objects written while the KMS is up, never read (so no data key is cached for them).
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'down-kms',
          Body: 'test-sse',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyArn,
        }),
      )
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'down-s3', Body: 'test-sse' }))
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'down-c', Body: 'test-sse', ...ssec }))
      // Nothing listens any more: connections are refused.
      await moto!.stop()
      await proxy!.close()
    })

    it('SSE-S3 and SSE-C objects still read and write', async () => {
      needMoto()
      expect(
        await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'down-s3' }))).Body!.transformToString(),
      ).toBe('test-sse')
      expect(
        await (
          await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'down-c', ...ssec }))
        ).Body!.transformToString(),
      ).toBe('test-sse')
      expect(
        (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'down-s3-new', Body: 'new' }))).ServerSideEncryption,
      ).toBe('AES256')
      expect(
        (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'down-c-new', Body: 'new', ...ssec })))
          .SSECustomerKeyMD5,
      ).toBe('JMwgiexXqwuPqIPjYFmIZQ==')
      expect(
        await (
          await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'down-c-new', ...ssec }))
        ).Body!.transformToString(),
      ).toBe('new')
      // A copy between the two non-KMS modes needs no KMS either.
      const copy = await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'down-copy',
          CopySource: `${bucket}/down-c`,
          CopySourceSSECustomerAlgorithm: 'AES256',
          CopySourceSSECustomerKey: K1 as never,
        }),
      )
      expect(copy.ServerSideEncryption).toBe('AES256')
    })

    it('SSE-KMS PUT, CreateMultipartUpload, GET and a copy from an SSE-KMS source answer 503 ServiceUnavailable (no hang); HEAD and LIST still answer', async () => {
      needMoto()
      await expectSdkError(
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: 'down-new',
            Body: 'x',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: keyArn,
          }),
        ),
        unavailable,
      )
      await expectSdkError(
        s3.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: 'down-new',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: keyArn,
          }),
        ),
        unavailable,
      )
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'down-kms' })), unavailable)
      await expectSdkError(
        s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: 'down-new',
            CopySource: `${bucket}/down-kms`,
            ServerSideEncryption: 'AES256',
          }),
        ),
        unavailable,
      )
      expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'down-kms' }))).SSEKMSKeyId).toBe(keyArn)
      expect((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'down-' }))).KeyCount).toBeGreaterThan(0)
      await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'down-new' }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 404 },
      })
    })
  })
})

describe('SSE-KMS with an external KMS that accepts connections but never answers', () => {
  let blackhole: Server
  const sockets = new Set<Socket>()
  let srv: TestServer
  let s3: S3Client

  beforeAll(async () => {
    blackhole = createServer((sock) => {
      sockets.add(sock)
      sock.on('close', () => sockets.delete(sock))
      sock.on('error', () => undefined)
    })
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve))
    const port = (blackhole.address() as { port: number }).port
    srv = await startTestServer({ args: ['--kms-endpoint', `http://127.0.0.1:${port}`] })
    s3 = makeClient(srv.endpoint, { maxAttempts: 1 })
    await s3.send(new CreateBucketCommand({ Bucket: 'hole' }))
  })
  afterAll(async () => {
    s3?.destroy()
    await srv?.close()
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => blackhole.close(() => resolve()))
  })

  it("an SSE-KMS PUT answers 503 ServiceUnavailable once the client's timeouts and retries are spent; SSE-S3 is unaffected", async () => {
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: 'hole', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms' })),
      unavailable,
    )
    expect((await s3.send(new PutObjectCommand({ Bucket: 'hole', Key: 's', Body: 'x' }))).ServerSideEncryption).toBe(
      'AES256',
    )
  }, 120_000)
})
