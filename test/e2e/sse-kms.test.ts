/**
 * @module E2E: SSE-KMS and DSSE-KMS through the S3 API against the embedded KMS (docs/s3-sse-rules.md §4.3–§4.6,
 * §4.9, §4.11, §5; checklist §8.12 KMS-01..21 and DSSE-01/02, §8.14 TLS-01..05 and SELF-06/07/09/10,
 * §8.15 BENC-03/04/09/11/12/13/15, §8.18 REST-01 for SSE-KMS and REST-03). Keys are managed with
 * @aws-sdk/client-kms against the same server; the stored KMS record of an object is read from
 * LevelDB while the server is stopped (KMS-16) and checked with KMS Decrypt.
 */
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  ListAliasesCommand,
  ScheduleKeyDeletionCommand,
  type KMSClient,
} from '@aws-sdk/client-kms'
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
  type ServerSideEncryption,
} from '@aws-sdk/client-s3'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LevelKmsStore } from '../../kms/embedded/store.js'
import { expectRawError, expectSdkError, expectSdkHeadError } from '../support/expect-s3.js'
import { encodeKeyPath, signedSend, type RawResponse } from '../support/raw-s3.js'
import {
  ACCOUNT,
  BK,
  CTX,
  KID,
  KMS_MSG,
  SSE,
  contextHeader,
  filesContaining,
  keyArnOf,
  kmsClient,
  readObjectRecord,
  readRecords,
  type ObjectRecord,
} from '../support/kms.js'
import { CHECKSUM_MODES, TEST_REGION, makeClient, startTestServer, type TestServer } from '../support/server.js'

const UNKNOWN_UUID = '134f2428-cec1-4b25-a1ae-9048164dba47'
const FINANCE = { department: 'finance' }
const FINANCE_B64 = 'eyJkZXBhcnRtZW50IjoiZmluYW5jZSJ9'
const md5Hex = (b: Uint8Array | string) => createHash('md5').update(b).digest('hex')
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex')
const bytesOf = async (res: { Body?: { transformToByteArray(): Promise<Uint8Array> } }) =>
  Buffer.from(await res.Body!.transformToByteArray())
const unquote = (etag: string | undefined) => (etag ?? '').replace(/"/g, '')
const MiB = 1024 * 1024

/** A PutBucketEncryption rule in SDK form. */
function rule(algorithm: string, opts: { key?: string; bucketKey?: boolean } = {}) {
  return {
    Rules: [
      {
        ApplyServerSideEncryptionByDefault: {
          SSEAlgorithm: algorithm as ServerSideEncryption,
          KMSMasterKeyID: opts.key,
        },
        BucketKeyEnabled: opts.bucketKey,
      },
    ],
  }
}

/** Asserts the SSE-KMS response headers of a raw answer (docs/s3-sse-rules.md §4.3). */
function expectKmsHeaders(
  res: RawResponse,
  want: { sse?: string; arn: string; bucketKey?: boolean; context?: string },
): void {
  expect(res.headers[SSE]).toBe(want.sse ?? 'aws:kms')
  expect(res.headers[KID]).toBe(want.arn)
  expect(res.headers[BK]).toBe(want.bucketKey ? 'true' : undefined)
  expect(res.headers[CTX]).toBe(want.context)
}

describe('SSE-KMS through S3 with the embedded KMS', () => {
  let srv: TestServer
  let kms: KMSClient
  /** Key A (alias/app-a), key B (alias/app-b): customer keys of this server. */
  let keyA: { id: string; arn: string }
  let keyB: { id: string; arn: string }

  const newKey = async () => {
    const m = (await kms.send(new CreateKeyCommand({ Description: 'sse-kms e2e' }))).KeyMetadata!
    return { id: m.KeyId!, arn: m.Arn! }
  }
  const raw = (
    method: string,
    bucket: string,
    key: string,
    headers: Record<string, string> = {},
    body?: string | Buffer,
  ) => signedSend(srv.port, { method, path: `/${bucket}/${encodeKeyPath(key)}`, headers, body })

  beforeAll(async () => {
    srv = await startTestServer()
    kms = kmsClient(srv.endpoint)
    keyA = await newKey()
    keyB = await newKey()
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/app-a', TargetKeyId: keyA.id }))
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/app-b', TargetKeyId: keyB.id }))
  })
  afterAll(async () => {
    kms?.destroy()
    await srv?.close()
  })

  describe.each(CHECKSUM_MODES)('with requestChecksumCalculation %s', (mode) => {
    let s3: S3Client
    const tag = mode === 'WHEN_SUPPORTED' ? 'ws' : 'wr'
    const bucket = `kms-${tag}`
    let n = 0
    /** A fresh bucket name for tests that configure a default. */
    const freshBucket = async (what: string) => {
      const name = `kms-${tag}-${what}-${++n}`
      await s3.send(new CreateBucketCommand({ Bucket: name }))
      return name
    }

    beforeAll(async () => {
      s3 = makeClient(srv.endpoint, { requestChecksumCalculation: mode, maxAttempts: 1 })
      await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    })
    afterAll(() => s3?.destroy())

    it('KMS-01 PUT aws:kms + key id answers 200 with SSE aws:kms and the key ARN; GET and HEAD answer the same; the body round-trips', async () => {
      const data = randomBytes(200_000)
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'kms-01',
          Body: data,
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyA.id,
        }),
      )
      expect(put.$metadata.httpStatusCode).toBe(200)
      expect(put.ServerSideEncryption).toBe('aws:kms')
      expect(put.SSEKMSKeyId).toBe(keyA.arn)
      expect(put.BucketKeyEnabled).toBeUndefined()
      const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms-01' }))
      expect(get.ServerSideEncryption).toBe('aws:kms')
      expect(get.SSEKMSKeyId).toBe(keyA.arn)
      expect(sha256(await bytesOf(get))).toBe(sha256(data))
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms-01' }))
      expect(head.ServerSideEncryption).toBe('aws:kms')
      expect(head.SSEKMSKeyId).toBe(keyA.arn)
      expect(head.ContentLength).toBe(data.length)
      // A ranged read decrypts only the covering chunks and still answers the KMS headers.
      const range = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms-01', Range: 'bytes=65530-65545' }))
      expect(range.SSEKMSKeyId).toBe(keyA.arn)
      expect((await bytesOf(range)).equals(data.subarray(65530, 65546))).toBe(true)
    })

    it('KMS-02 PUT aws:kms without a key id uses the AWS managed key alias/aws/s3 (KeyManager AWS, the default description)', async () => {
      const put = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'kms-02', Body: 'test-sse', ServerSideEncryption: 'aws:kms' }),
      )
      const described = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }))).KeyMetadata!
      expect(put.SSEKMSKeyId).toBe(described.Arn)
      expect(described).toMatchObject({
        KeyManager: 'AWS',
        Description: KMS_MSG.awsManagedDescription,
        KeyState: 'Enabled',
      })
      expect(described.Arn).toBe(keyArnOf(described.KeyId!))
      const aliases = (await kms.send(new ListAliasesCommand({}))).Aliases ?? []
      expect(aliases.find((a) => a.AliasName === 'alias/aws/s3')?.TargetKeyId).toBe(described.KeyId)
      expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms-02' }))).SSEKMSKeyId).toBe(described.Arn)
      expect(
        await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms-02' }))).Body!.transformToString(),
      ).toBe('test-sse')
    })

    it('KMS-03 the AWS managed key is the same for two buckets of one region', async () => {
      const other = await freshBucket('managed')
      const a = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'kms-03', Body: 'x', ServerSideEncryption: 'aws:kms' }),
      )
      const b = await s3.send(
        new PutObjectCommand({ Bucket: other, Key: 'kms-03', Body: 'y', ServerSideEncryption: 'aws:kms' }),
      )
      expect(a.SSEKMSKeyId).toMatch(/^arn:aws:kms:us-east-1:000000000000:key\//)
      expect(b.SSEKMSKeyId).toBe(a.SSEKMSKeyId)
    })

    it('KMS-04 aws:kms without a key id on a bucket whose default is aws:kms + key X uses X (inferred, §4.4)', async () => {
      const b = await freshBucket('default-x')
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: b,
          ServerSideEncryptionConfiguration: rule('aws:kms', { key: 'alias/app-b' }),
        }),
      )
      const put = await s3.send(
        new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms' }),
      )
      expect(put.SSEKMSKeyId).toBe(keyB.arn)
      // The request's key still wins over the bucket default (§4.4).
      const named = await s3.send(
        new PutObjectCommand({
          Bucket: b,
          Key: 'k2',
          Body: 'x',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyA.id,
        }),
      )
      expect(named.SSEKMSKeyId).toBe(keyA.arn)
    })

    it('KMS-05 the key named by alias name, alias ARN or key ARN answers KID = the key ARN', async () => {
      for (const [i, id] of ['alias/app-a', `arn:aws:kms:${TEST_REGION}:${ACCOUNT}:alias/app-a`, keyA.arn].entries()) {
        const put = await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: `kms-05-${i}`,
            Body: 'x',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: id,
          }),
        )
        expect(put.SSEKMSKeyId, id).toBe(keyA.arn)
        expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `kms-05-${i}` }))).SSEKMSKeyId, id).toBe(
          keyA.arn,
        )
      }
    })

    it("KMS-06 key id fake-key-id on PutObject, CreateMultipartUpload and CopyObject answers 400 KMS.NotFoundException Invalid keyId 'fake-key-id'", async () => {
      const want = { status: 400, code: 'KMS.NotFoundException', message: "Invalid keyId 'fake-key-id'" }
      await expectSdkError(
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: 'kms-06',
            Body: 'x',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: 'fake-key-id',
          }),
        ),
        want,
      )
      await expectSdkError(
        s3.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: 'kms-06',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: 'fake-key-id',
          }),
        ),
        want,
      )
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms-06-src', Body: 'x' }))
      await expectSdkError(
        s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: 'kms-06',
            CopySource: `${bucket}/kms-06-src`,
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: 'fake-key-id',
          }),
        ),
        want,
      )
      // Nothing was written (SSE-14: the error carries no SSE headers).
      await expectSdkHeadError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms-06' })), 404)
      const res = await raw('PUT', bucket, 'kms-06', { [SSE]: 'aws:kms', [KID]: 'fake-key-id' }, 'x')
      expectRawError(res, want)
      expect(res.headers[SSE]).toBeUndefined()
      expect(res.headers[KID]).toBeUndefined()
    })

    it("KMS-07 an unknown key UUID answers 400 KMS.NotFoundException Key '<ARN>' does not exist; an unknown alias: Alias <ARN> is not found.", async () => {
      await expectSdkError(
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: 'kms-07',
            Body: 'x',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: UNKNOWN_UUID,
          }),
        ),
        {
          status: 400,
          code: 'KMS.NotFoundException',
          message: `Key 'arn:aws:kms:us-east-1:000000000000:key/${UNKNOWN_UUID}' does not exist`,
        },
      )
      await expectSdkError(
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: 'kms-07',
            Body: 'x',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: 'alias/none',
          }),
        ),
        {
          status: 400,
          code: 'KMS.NotFoundException',
          message: 'Alias arn:aws:kms:us-east-1:000000000000:alias/none is not found.',
        },
      )
    })

    it('KMS-08 a key ARN of another region answers 400 KMS.NotFoundException Invalid arn <region>', async () => {
      await expectSdkError(
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: 'kms-08',
            Body: 'x',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: keyArnOf(keyA.id, 'us-west-2'),
          }),
        ),
        { status: 400, code: 'KMS.NotFoundException', message: 'Invalid arn us-west-2' },
      )
      await expectSdkError(
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: 'kms-08',
            Body: 'x',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: `arn:aws:kms:us-west-2:${ACCOUNT}:alias/app-a`,
          }),
        ),
        { status: 400, code: 'KMS.NotFoundException', message: 'Invalid arn us-west-2' },
      )
      // A key ARN of another account: KMS refuses the requester, S3 answers 403 AccessDenied with KMS's message.
      const denied = await expectSdkError(
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: 'kms-08',
            Body: 'x',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: keyArnOf(keyA.id, TEST_REGION, '111111111111'),
          }),
        ),
        { status: 403, code: 'AccessDenied' },
      )
      expect(denied.message).toContain('is not authorized to perform: kms:GenerateDataKey')
    })

    it('KMS-09 KMS-11 a disabled key: PUT, CreateMultipartUpload, copy to it, copy from it and GET answer 400 KMS.DisabledException; HEAD answers 200; re-enabled, GET works', async () => {
      const k = await newKey()
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'kms-09',
          Body: 'test-sse',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: k.id,
        }),
      )
      const up = await s3.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: 'kms-09-mp',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: k.id,
        }),
      )
      await kms.send(new DisableKeyCommand({ KeyId: k.id }))
      const want = { status: 400, code: 'KMS.DisabledException', message: `${k.arn} is disabled.` }
      await expectSdkError(
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: 'kms-09-b',
            Body: 'x',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: k.id,
          }),
        ),
        want,
      )
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms-09' })), want)
      await expectSdkError(
        s3.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: 'kms-09-c',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: k.id,
          }),
        ),
        want,
      )
      await expectSdkError(
        s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: 'kms-09-d',
            CopySource: `${bucket}/kms-09`,
            ServerSideEncryption: 'AES256',
          }),
        ),
        want,
      )
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms-09-src', Body: 'x' }))
      await expectSdkError(
        s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: 'kms-09-e',
            CopySource: `${bucket}/kms-09-src`,
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: k.arn,
          }),
        ),
        want,
      )
      // UploadPart into an upload under the key needs the key too (docs/s3-sse-rules.md §4.6 [I]).
      await expectSdkError(
        s3.send(
          new UploadPartCommand({ Bucket: bucket, Key: 'kms-09-mp', UploadId: up.UploadId, PartNumber: 1, Body: 'x' }),
        ),
        want,
      )
      // KMS-11: HEAD makes no KMS call and succeeds.
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms-09' }))
      expect(head.$metadata.httpStatusCode).toBe(200)
      expect(head.SSEKMSKeyId).toBe(k.arn)
      await kms.send(new EnableKeyCommand({ KeyId: k.id }))
      expect(
        await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms-09' }))).Body!.transformToString(),
      ).toBe('test-sse')
    })

    it('KMS-10 KMS-11 a key pending deletion: GET (and PUT) answer 400 KMS.KMSInvalidStateException <ARN> is pending deletion.; HEAD answers 200', async () => {
      const k = await newKey()
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'kms-10',
          Body: 'test-sse',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: k.id,
        }),
      )
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.id, PendingWindowInDays: 7 }))
      const want = { status: 400, code: 'KMS.KMSInvalidStateException', message: `${k.arn} is pending deletion.` }
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms-10' })), want)
      await expectSdkError(
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: 'kms-10-b',
            Body: 'x',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: k.arn,
          }),
        ),
        want,
      )
      expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms-10' }))).$metadata.httpStatusCode).toBe(
        200,
      )
      // Cancelled, the key is Disabled (docs/s3-sse-rules.md §6.3): GET then answers DisabledException.
      await kms.send(new CancelKeyDeletionCommand({ KeyId: k.id }))
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms-10' })), {
        status: 400,
        code: 'KMS.DisabledException',
        message: `${k.arn} is disabled.`,
      })
    })

    it('KMS-12 the ETag of an SSE-KMS PUT is not the plaintext MD5 (and differs between two PUTs of the same data)', async () => {
      const a = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'kms-12',
          Body: 'test-sse',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyA.id,
        }),
      )
      const b = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'kms-12b',
          Body: 'test-sse',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyA.id,
        }),
      )
      expect(unquote(a.ETag)).toMatch(/^[0-9a-f]{32}$/)
      expect(unquote(a.ETag)).not.toBe('42832cdec7083e70a9cd6f2d5852e004')
      expect(a.ETag).not.toBe(b.ETag)
      expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms-12' }))).ETag).toBe(a.ETag)
    })

    it('KMS-13 KMS-15 a valid context header is echoed byte-exact on PUT; GET and HEAD answer SSE, KID and BK when used, never the context', async () => {
      const put = await raw(
        'PUT',
        bucket,
        'kms-13',
        { [SSE]: 'aws:kms', [KID]: 'alias/app-a', [CTX]: FINANCE_B64 },
        'test-sse',
      )
      expect(put.status).toBe(200)
      expectKmsHeaders(put, { arn: keyA.arn, context: FINANCE_B64 })
      for (const method of ['GET', 'HEAD']) {
        const res = await raw(method, bucket, 'kms-13')
        expect(res.status, method).toBe(200)
        expectKmsHeaders(res, { arn: keyA.arn })
      }
      expect((await raw('GET', bucket, 'kms-13')).text).toBe('test-sse')
      // A 304 carries no SSE headers (docs/s3-sse-rules.md §4.3).
      const etag = (await raw('HEAD', bucket, 'kms-13')).headers.etag as string
      const notModified = await raw('GET', bucket, 'kms-13', { 'if-none-match': etag })
      expect(notModified.status).toBe(304)
      for (const h of [SSE, KID, BK, CTX]) expect(notModified.headers[h], h).toBeUndefined()
      // With a bucket key, BK appears on PUT, GET and HEAD.
      const bk = await raw(
        'PUT',
        bucket,
        'kms-13-bk',
        { [SSE]: 'aws:kms', [KID]: keyA.id, [CTX]: FINANCE_B64, [BK]: 'true' },
        'test-sse',
      )
      expectKmsHeaders(bk, { arn: keyA.arn, bucketKey: true, context: FINANCE_B64 })
      for (const method of ['GET', 'HEAD'])
        expectKmsHeaders(await raw(method, bucket, 'kms-13-bk'), { arn: keyA.arn, bucketKey: true })
      // The SDK sees the same.
      const sdkPut = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'kms-15',
          Body: 'x',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyA.id,
          SSEKMSEncryptionContext: FINANCE_B64,
        }),
      )
      expect(sdkPut.SSEKMSEncryptionContext).toBe(FINANCE_B64)
    })

    it('KMS-14 a context header that is not base64, base64 of [1], or base64 of {"a":1} answers 400 InvalidArgument (shall be Base64-encoded… message)', async () => {
      const bad = [
        'not-base64!',
        Buffer.from('[1]').toString('base64'),
        Buffer.from('{"a":1}').toString('base64'),
        Buffer.from([0xff, 0xfe, 0x7b, 0x7d]).toString('base64'),
      ]
      for (const value of bad) {
        await expectSdkError(
          s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: 'kms-14',
              Body: 'x',
              ServerSideEncryption: 'aws:kms',
              SSEKMSKeyId: keyA.id,
              SSEKMSEncryptionContext: value,
            }),
          ),
          { status: 400, code: 'InvalidArgument', message: KMS_MSG.contextInvalid, fields: { ArgumentName: CTX } },
        )
      }
      await expectSdkError(
        s3.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: 'kms-14',
            ServerSideEncryption: 'aws:kms',
            SSEKMSEncryptionContext: 'not-base64!',
          }),
        ),
        { status: 400, code: 'InvalidArgument', message: KMS_MSG.contextInvalid, fields: { ArgumentName: CTX } },
      )
      await expectSdkHeadError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms-14' })), 404)
    })

    it('KMS-17 bucket default aws:kms + BucketKeyEnabled true, PUT without headers: BK true on PUT, GET and HEAD', async () => {
      const b = await freshBucket('bk')
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: b,
          ServerSideEncryptionConfiguration: rule('aws:kms', { key: keyA.arn, bucketKey: true }),
        }),
      )
      const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'kms-17', Body: 'test-sse' }))
      expect(put).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.arn, BucketKeyEnabled: true })
      const get = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'kms-17' }))
      expect(get).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.arn, BucketKeyEnabled: true })
      expect(await get.Body!.transformToString()).toBe('test-sse')
      expect(await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'kms-17' }))).toMatchObject({
        SSEKMSKeyId: keyA.arn,
        BucketKeyEnabled: true,
      })
      expect((await raw('HEAD', b, 'kms-17')).headers[BK]).toBe('true') // lowercase (docs/s3-sse-rules.md §4.3)
      // Many objects under one bucket key each read back their own data.
      const bodies = Array.from({ length: 5 }, () => randomBytes(70_000))
      await Promise.all(
        bodies.map((body, i) => s3.send(new PutObjectCommand({ Bucket: b, Key: `many-${i}`, Body: body }))),
      )
      for (const [i, body] of bodies.entries())
        expect((await bytesOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: `many-${i}` })))).equals(body)).toBe(
          true,
        )

      // KMS-18: the request's bucket-key header false wins for that object only.
      const off = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'kms-18', Body: 'x', BucketKeyEnabled: false }))
      expect(off).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.arn })
      expect(off.BucketKeyEnabled).toBeUndefined()
      expect((await raw('HEAD', b, 'kms-18')).headers[BK]).toBeUndefined()
      expect((await raw('PUT', b, 'kms-18-raw', { [BK]: 'false' }, 'x')).headers[BK]).toBeUndefined()
      expect((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'kms-17' }))).BucketKeyEnabled).toBe(true)
    })

    it('KMS-18 a bucket-key header that is not true/false answers 400 InvalidArgument', async () => {
      const res = await raw('PUT', bucket, 'kms-18-bad', { [SSE]: 'aws:kms', [BK]: 'yes' }, 'x')
      expectRawError(res, {
        status: 400,
        code: 'InvalidArgument',
        message: 'Invalid value for x-amz-server-side-encryption-bucket-key-enabled',
        fields: { ArgumentName: BK },
      })
      // Case-insensitive values are accepted.
      expectKmsHeaders(await raw('PUT', bucket, 'kms-18-ok', { [SSE]: 'aws:kms', [KID]: keyA.id, [BK]: 'TRUE' }, 'x'), {
        arn: keyA.arn,
        bucketKey: true,
      })
    })

    it('KMS-19 multipart with KMS: Create, UploadPart and Complete answer SSE, KID and BK; the ETag is -N; GET returns the data', async () => {
      for (const bucketKey of [false, true]) {
        const key = `kms-19-${bucketKey}`
        const create = await s3.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: 'alias/app-a',
            BucketKeyEnabled: bucketKey,
            SSEKMSEncryptionContext: FINANCE_B64,
          }),
        )
        expect(create).toMatchObject({
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyA.arn,
          SSEKMSEncryptionContext: FINANCE_B64,
        })
        expect(create.BucketKeyEnabled).toBe(bucketKey ? true : undefined)
        const p1 = randomBytes(5 * MiB)
        const p2 = randomBytes(1000)
        const u1 = await s3.send(
          new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: create.UploadId, PartNumber: 1, Body: p1 }),
        )
        const u2 = await s3.send(
          new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: create.UploadId, PartNumber: 2, Body: p2 }),
        )
        for (const u of [u1, u2]) {
          expect(u).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.arn })
          expect(u.BucketKeyEnabled).toBe(bucketKey ? true : undefined)
          expect(unquote(u.ETag)).not.toBe(md5Hex(u === u1 ? p1 : p2))
        }
        const done = await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId: create.UploadId,
            MultipartUpload: {
              Parts: [
                { PartNumber: 1, ETag: u1.ETag },
                { PartNumber: 2, ETag: u2.ETag },
              ],
            },
          }),
        )
        expect(done).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.arn })
        expect(done.BucketKeyEnabled).toBe(bucketKey ? true : undefined)
        expect(unquote(done.ETag)).toMatch(/^[0-9a-f]{32}-2$/)
        const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
        expect(get).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.arn, ETag: done.ETag })
        expect(sha256(await bytesOf(get))).toBe(sha256(Buffer.concat([p1, p2])))
      }
    })

    it('KMS-20 copy KMS -> KMS with another key: the destination has the new key; the source context is not carried over', async () => {
      const put = await raw(
        'PUT',
        bucket,
        'kms-20-src',
        { [SSE]: 'aws:kms', [KID]: keyA.id, [CTX]: FINANCE_B64 },
        'test-sse',
      )
      expect(put.status).toBe(200)
      const copy = await raw('PUT', bucket, 'kms-20-dst', {
        'x-amz-copy-source': `/${bucket}/kms-20-src`,
        [SSE]: 'aws:kms',
        [KID]: 'alias/app-b',
      })
      expect(copy.status).toBe(200)
      expectKmsHeaders(copy, { arn: keyB.arn })
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms-20-dst' }))
      expect(head).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyB.arn })
      expect(
        await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms-20-dst' }))).Body!.transformToString(),
      ).toBe('test-sse')
      // A context sent with the copy is the destination's own and is echoed.
      const ctx2 = contextHeader({ project: 'x' })
      const withCtx = await raw('PUT', bucket, 'kms-20-dst2', {
        'x-amz-copy-source': `/${bucket}/kms-20-src`,
        [SSE]: 'aws:kms',
        [KID]: keyB.id,
        [CTX]: ctx2,
      })
      expectKmsHeaders(withCtx, { arn: keyB.arn, context: ctx2 })
    })

    it("KMS-21 a context whose aws:s3:arn names another object answers 400 InvalidArgument; the object's own ARN is accepted", async () => {
      const other = contextHeader({ 'aws:s3:arn': `arn:aws:s3:::${bucket}/someone-else` })
      await expectSdkError(
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: 'kms-21',
            Body: 'x',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: keyA.id,
            SSEKMSEncryptionContext: other,
          }),
        ),
        { status: 400, code: 'InvalidArgument', message: KMS_MSG.arnInvalid, fields: { ArgumentName: CTX } },
      )
      // With a bucket key the ARN S3 uses is the bucket's: the object ARN is then the wrong one.
      const own = contextHeader({ 'aws:s3:arn': `arn:aws:s3:::${bucket}/kms-21` })
      await expectSdkError(
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: 'kms-21',
            Body: 'x',
            ServerSideEncryption: 'aws:kms',
            BucketKeyEnabled: true,
            SSEKMSEncryptionContext: own,
          }),
        ),
        { status: 400, code: 'InvalidArgument', message: KMS_MSG.arnInvalid },
      )
      const ok = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'kms-21',
          Body: 'x',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyA.id,
          SSEKMSEncryptionContext: own,
        }),
      )
      expect(ok.SSEKMSEncryptionContext).toBe(own)
      expect(
        await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms-21' }))).Body!.transformToString(),
      ).toBe('x')
    })

    it('DSSE-01 DSSE-02 PUT aws:kms:dsse + key answers SSE aws:kms:dsse and KID, no BK even when requested; GET/HEAD the same; ETag is not the MD5', async () => {
      const data = randomBytes(70_000)
      const put = await raw(
        'PUT',
        bucket,
        'dsse-01',
        { [SSE]: 'aws:kms:dsse', [KID]: 'alias/app-a', [BK]: 'true' },
        data,
      )
      expect(put.status).toBe(200)
      expectKmsHeaders(put, { sse: 'aws:kms:dsse', arn: keyA.arn })
      expect(unquote(put.headers.etag as string)).not.toBe(md5Hex(data))
      for (const method of ['GET', 'HEAD'])
        expectKmsHeaders(await raw(method, bucket, 'dsse-01'), { sse: 'aws:kms:dsse', arn: keyA.arn })
      const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dsse-01' }))
      expect(get.ServerSideEncryption).toBe('aws:kms:dsse')
      expect((await bytesOf(get)).equals(data)).toBe(true)
      // Without a key id DSSE uses the AWS managed key too; multipart works.
      const sdk = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'dsse-02',
          Body: 'test-sse',
          ServerSideEncryption: 'aws:kms:dsse',
        }),
      )
      expect(sdk.ServerSideEncryption).toBe('aws:kms:dsse')
      expect(sdk.SSEKMSKeyId).toBe((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }))).KeyMetadata!.Arn)
      expect(unquote(sdk.ETag)).not.toBe('42832cdec7083e70a9cd6f2d5852e004')
      const create = await s3.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: 'dsse-mp',
          ServerSideEncryption: 'aws:kms:dsse',
          SSEKMSKeyId: keyB.id,
          BucketKeyEnabled: true,
        }),
      )
      expect(create).toMatchObject({ ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: keyB.arn })
      expect(create.BucketKeyEnabled).toBeUndefined()
      const u1 = await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: 'dsse-mp',
          UploadId: create.UploadId,
          PartNumber: 1,
          Body: 'part',
        }),
      )
      expect(u1.ServerSideEncryption).toBe('aws:kms:dsse')
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'dsse-mp',
          UploadId: create.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: u1.ETag }] },
        }),
      )
      expect(done).toMatchObject({ ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: keyB.arn })
      expect(
        await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dsse-mp' }))).Body!.transformToString(),
      ).toBe('part')
    })

    it('SSE-05 SSE-06 a KMS key id or context header without aws:kms answers 400 E2', async () => {
      const e2 = {
        status: 400,
        code: 'InvalidArgument',
        message:
          'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
        fields: { ArgumentName: SSE },
      }
      expectRawError(await raw('PUT', bucket, 'e2', { [KID]: keyA.id }, 'x'), e2)
      expectRawError(await raw('PUT', bucket, 'e2', { [SSE]: 'AES256', [KID]: keyA.id }, 'x'), e2)
      expectRawError(await raw('PUT', bucket, 'e2', { [CTX]: FINANCE_B64 }, 'x'), e2)
    })

    it('SSE-09 SSE-10 KMS headers on GET of an SSE-KMS object answer 400 (context: E3; key id: E2)', async () => {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'kms-get-hdr',
          Body: 'x',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyA.id,
        }),
      )
      expectRawError(await raw('GET', bucket, 'kms-get-hdr', { [CTX]: FINANCE_B64 }), {
        status: 400,
        code: 'InvalidArgument',
        message: 'x-amz-server-side-encryption-context header is not supported for this operation.',
      })
      expectRawError(await raw('GET', bucket, 'kms-get-hdr', { [KID]: keyA.id }), {
        status: 400,
        code: 'InvalidArgument',
      })
    })

    it('BENC-03 Put aws:kms + a bare key UUID + BucketKeyEnabled true: 200 empty; Get echoes the UUID verbatim and true; objects get the key ARN and BK', async () => {
      const b = await freshBucket('benc03')
      const put = await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: b,
          ServerSideEncryptionConfiguration: rule('aws:kms', { key: keyB.id, bucketKey: true }),
        }),
      )
      expect(put.$metadata.httpStatusCode).toBe(200)
      const got = (await s3.send(new GetBucketEncryptionCommand({ Bucket: b }))).ServerSideEncryptionConfiguration!
        .Rules![0]
      expect(got.ApplyServerSideEncryptionByDefault).toMatchObject({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyB.id })
      expect(got.BucketKeyEnabled).toBe(true)
      const obj = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'x' }))
      expect(obj).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyB.arn, BucketKeyEnabled: true })
    })

    it('BENC-04 Put aws:kms without a key: Get has no KMSMasterKeyID; objects use the AWS managed key', async () => {
      const b = await freshBucket('benc04')
      await s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: rule('aws:kms') }))
      const got = (await s3.send(new GetBucketEncryptionCommand({ Bucket: b }))).ServerSideEncryptionConfiguration!
        .Rules![0]
      expect(got.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('aws:kms')
      expect(got.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID).toBeUndefined()
      const managed = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }))).KeyMetadata!.Arn
      const obj = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'x' }))
      expect(obj).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: managed })
      expect(obj.BucketKeyEnabled).toBeUndefined()
    })

    it('BENC-09 Put KMSMasterKeyID fake-key-id answers 400 KMS.NotFoundException (the key is checked when the default is set), as a PutObject naming that key does', async () => {
      const b = await freshBucket('benc09')
      const notFound = { status: 400, code: 'KMS.NotFoundException', message: "Invalid keyId 'fake-key-id'" }
      await expectSdkError(
        s3.send(
          new PutBucketEncryptionCommand({
            Bucket: b,
            ServerSideEncryptionConfiguration: rule('aws:kms', { key: 'fake-key-id' }),
          }),
        ),
        notFound,
      )
      await expectSdkError(
        s3.send(
          new PutObjectCommand({
            Bucket: b,
            Key: 'o',
            Body: 'x',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: 'fake-key-id',
          }),
        ),
        notFound,
      )
      // The refused default was not stored: a PUT without SSE headers is still SSE-S3.
      expect((await s3.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'x' }))).ServerSideEncryption).toBe(
        'AES256',
      )
    })

    it('BENC-11 an aws:kms default applies to PutObject, CopyObject destination and CreateMultipartUpload', async () => {
      const b = await freshBucket('benc11')
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: b,
          ServerSideEncryptionConfiguration: rule('aws:kms', { key: 'alias/app-a', bucketKey: true }),
        }),
      )
      const want = { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.arn, BucketKeyEnabled: true }
      expect(await s3.send(new PutObjectCommand({ Bucket: b, Key: 'put', Body: 'test-sse' }))).toMatchObject(want)
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'benc11-src', Body: 'test-sse', ServerSideEncryption: 'AES256' }),
      )
      const copy = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${bucket}/benc11-src` }))
      expect(copy).toMatchObject(want)
      expect(unquote(copy.CopyObjectResult?.ETag)).not.toBe('42832cdec7083e70a9cd6f2d5852e004')
      expect(await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp' }))).toMatchObject(want)
      expect(await (await s3.send(new GetObjectCommand({ Bucket: b, Key: 'copy' }))).Body!.transformToString()).toBe(
        'test-sse',
      )
    })

    it("BENC-12 changing the default after a write leaves the existing object's SSE headers unchanged", async () => {
      const b = await freshBucket('benc12')
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: b,
          ServerSideEncryptionConfiguration: rule('aws:kms', { key: keyA.id, bucketKey: true }),
        }),
      )
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'old', Body: 'x' }))
      await s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: rule('AES256') }))
      expect(await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'old' }))).toMatchObject({
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: keyA.arn,
        BucketKeyEnabled: true,
      })
      expect((await s3.send(new PutObjectCommand({ Bucket: b, Key: 'new', Body: 'x' }))).ServerSideEncryption).toBe(
        'AES256',
      )
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: b,
          ServerSideEncryptionConfiguration: rule('aws:kms', { key: keyB.id }),
        }),
      )
      expect((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'new' }))).ServerSideEncryption).toBe('AES256')
      expect(await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'old' }))).toMatchObject({
        SSEKMSKeyId: keyA.arn,
        BucketKeyEnabled: true,
      })
      expect(await (await s3.send(new GetObjectCommand({ Bucket: b, Key: 'old' }))).Body!.transformToString()).toBe('x')
    })

    it('BENC-13 default aws:kms with BucketKeyEnabled false: objects have no BK', async () => {
      const b = await freshBucket('benc13')
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: b,
          ServerSideEncryptionConfiguration: rule('aws:kms', { key: keyA.id, bucketKey: false }),
        }),
      )
      const res = await raw('PUT', b, 'o', {}, 'x')
      expect(res.status).toBe(200)
      expectKmsHeaders(res, { arn: keyA.arn })
      expectKmsHeaders(await raw('HEAD', b, 'o'), { arn: keyA.arn })
    })

    it('BENC-15 default aws:kms:dsse: new objects (PUT, copy, multipart) are aws:kms:dsse with no BK even with BucketKeyEnabled', async () => {
      const b = await freshBucket('benc15')
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: b,
          ServerSideEncryptionConfiguration: rule('aws:kms:dsse', { key: keyB.arn, bucketKey: true }),
        }),
      )
      const put = await raw('PUT', b, 'o', {}, 'test-sse')
      expectKmsHeaders(put, { sse: 'aws:kms:dsse', arn: keyB.arn })
      expect(unquote(put.headers.etag as string)).not.toBe('42832cdec7083e70a9cd6f2d5852e004')
      expectKmsHeaders(await raw('GET', b, 'o'), { sse: 'aws:kms:dsse', arn: keyB.arn })
      expect((await raw('GET', b, 'o')).text).toBe('test-sse')
      const copy = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/o` }))
      expect(copy).toMatchObject({ ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: keyB.arn })
      expect(copy.BucketKeyEnabled).toBeUndefined()
      const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp' }))
      expect(create).toMatchObject({ ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: keyB.arn })
      // A request aws:kms on a DSSE default keeps the default's key but is plain SSE-KMS.
      expectKmsHeaders(await raw('PUT', b, 'plain', { [SSE]: 'aws:kms' }, 'x'), { arn: keyB.arn })
    })

    it('SELF-06 an SSE-KMS object self-copied with no headers on the implicit default becomes AES256 with the MD5 ETag', async () => {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'self-06',
          Body: 'test-sse',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyA.id,
        }),
      )
      const copy = await s3.send(
        new CopyObjectCommand({ Bucket: bucket, Key: 'self-06', CopySource: `${bucket}/self-06` }),
      )
      expect(copy.ServerSideEncryption).toBe('AES256')
      expect(copy.SSEKMSKeyId).toBeUndefined()
      expect(unquote(copy.CopyObjectResult?.ETag)).toBe('42832cdec7083e70a9cd6f2d5852e004')
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'self-06' }))
      expect(head.ServerSideEncryption).toBe('AES256')
      expect(head.SSEKMSKeyId).toBeUndefined()
      expect(
        await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'self-06' }))).Body!.transformToString(),
      ).toBe('test-sse')
    })

    it('SELF-07 SELF-09 with an explicit default a self-copy with no change answers 200 (AES256 and aws:kms defaults); after DeleteBucketEncryption it is the SELF-01 400', async () => {
      const b = await freshBucket('self07')
      await s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: rule('AES256') }))
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'test-sse' }))
      const copy = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'o', CopySource: `${b}/o` }))
      expect(copy.$metadata.httpStatusCode).toBe(200)
      expect(copy.ServerSideEncryption).toBe('AES256')
      // An aws:kms default and an object already under it: still legal (rule 6), and it stays SSE-KMS.
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: b,
          ServerSideEncryptionConfiguration: rule('aws:kms', { key: keyA.id }),
        }),
      )
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'test-sse' }))
      const kcopy = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'k', CopySource: `${b}/k` }))
      expect(kcopy).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.arn })
      // SELF-09: DeleteBucketEncryption resets to the implicit default, which is not explicit configuration.
      await s3.send(new DeleteBucketEncryptionCommand({ Bucket: b }))
      await expectSdkError(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'o', CopySource: `${b}/o` })), {
        status: 400,
        code: 'InvalidRequest',
        message: KMS_MSG.selfCopy,
      })
      // … while the SSE-KMS object's self-copy now changes its encryption (rule 5): legal, becomes AES256.
      expect(
        (await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'k', CopySource: `${b}/k` }))).ServerSideEncryption,
      ).toBe('AES256')
    })

    it('SELF-10 SSE-KMS key A -> key B by self-copy answers 200 with KID = B and a new ETag', async () => {
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'self-10',
          Body: 'test-sse',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyA.id,
        }),
      )
      const copy = await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'self-10',
          CopySource: `${bucket}/self-10`,
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyB.id,
        }),
      )
      expect(copy).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyB.arn })
      expect(copy.CopyObjectResult?.ETag).not.toBe(put.ETag)
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'self-10' }))
      expect(head.SSEKMSKeyId).toBe(keyB.arn)
      expect(head.ETag).toBe(copy.CopyObjectResult?.ETag)
      // Repeating the same key is still an encryption header: legal (§4.11 rule 4).
      const again = await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'self-10',
          CopySource: `${bucket}/self-10`,
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyB.id,
        }),
      )
      expect(again.SSEKMSKeyId).toBe(keyB.arn)
      expect(
        await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'self-10' }))).Body!.transformToString(),
      ).toBe('test-sse')
    })

    it('LIST answers no SSE headers and lists SSE-KMS objects like any other', async () => {
      const res = await signedSend(srv.port, {
        method: 'GET',
        path: `/${bucket}`,
        query: { 'list-type': '2', prefix: 'kms-01' },
      })
      expect(res.status).toBe(200)
      expect(res.headers[SSE]).toBeUndefined()
      expect(res.headers[KID]).toBeUndefined()
      expect(res.text).not.toContain(keyA.id)
      const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'kms-01' }))
      expect(list.Contents?.map((c) => c.Key)).toEqual(['kms-01'])
    })
  })
})

describe('KMS-16 KMS-20 REST-01 REST-03: the stored KMS record (read from LevelDB while the server is stopped)', () => {
  let dataDir: string
  let srv: TestServer | undefined
  let kms: KMSClient
  let s3: S3Client
  const bucket = 'kms-inspect'
  let keyA: { id: string; arn: string }
  let keyB: { id: string; arn: string }
  let keyGone: { id: string; arn: string }
  const markers = new Map<string, Buffer>()

  const start = async () => {
    srv = await startTestServer({ dataDir })
    kms = kmsClient(srv.endpoint)
    s3 = makeClient(srv.endpoint, { maxAttempts: 1 })
  }
  const stop = async () => {
    kms?.destroy()
    s3?.destroy()
    await srv?.close({ keepData: true })
    srv = undefined
  }
  const put = (key: string, extra: Record<string, unknown>) => {
    const marker = randomBytes(64)
    markers.set(key, marker)
    return s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.concat([marker, randomBytes(100)]), ...extra }),
    )
  }
  const objectArn = (key: string) => `arn:aws:s3:::${bucket}/${key}`

  /** key → what KMS-16 expects of its record. */
  let expected: Record<
    string,
    {
      arn: () => string
      context: Record<string, string>
      clientContextHeader?: string
      bucketKey?: boolean
      dsse?: boolean
    }
  >
  let records: Record<string, ObjectRecord>

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-kms16-'))
    await start()
    const create = async () => {
      const m = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!
      return { id: m.KeyId!, arn: m.Arn! }
    }
    keyA = await create()
    keyB = await create()
    keyGone = await create()
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    const finance = contextHeader(FINANCE)
    await put('no-bk', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.id })
    await put('no-bk-ctx', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.id, SSEKMSEncryptionContext: finance })
    await put('bk', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.id, BucketKeyEnabled: true })
    await put('bk2', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.id, BucketKeyEnabled: true })
    await put('bk-ctx', {
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: keyA.id,
      BucketKeyEnabled: true,
      SSEKMSEncryptionContext: finance,
    })
    await put('dsse', { ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: keyB.id, BucketKeyEnabled: true })
    await put('own-arn', {
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: keyA.id,
      SSEKMSEncryptionContext: contextHeader({ 'aws:s3:arn': objectArn('own-arn'), x: 'y' }),
    })
    await put('gone', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyGone.id })
    // Objects whose records the tamper test edits (no markers: they will not read back).
    for (const key of ['tamper-ctx', 'tamper-kms', 'tamper-sealed', 'donor']) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: 'test-sse',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyA.id,
        }),
      )
    }
    // KMS-20: a copy to key B without a context header carries none of the source's pairs.
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'copy',
        CopySource: `${bucket}/no-bk-ctx`,
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: keyB.id,
      }),
    )
    // Multipart: the context is fixed at Create with the final object's ARN.
    const mp = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mp',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: keyA.id,
        SSEKMSEncryptionContext: finance,
      }),
    )
    const mpMarker = randomBytes(64)
    markers.set('mp', mpMarker)
    const part = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: mp.UploadId, PartNumber: 1, Body: mpMarker }),
    )
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mp',
        UploadId: mp.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    )
    expected = {
      'no-bk': { arn: () => keyA.arn, context: { 'aws:s3:arn': objectArn('no-bk') } },
      'no-bk-ctx': {
        arn: () => keyA.arn,
        context: { ...FINANCE, 'aws:s3:arn': objectArn('no-bk-ctx') },
        clientContextHeader: finance,
      },
      bk: { arn: () => keyA.arn, context: { 'aws:s3:arn': `arn:aws:s3:::${bucket}` }, bucketKey: true },
      bk2: { arn: () => keyA.arn, context: { 'aws:s3:arn': `arn:aws:s3:::${bucket}` }, bucketKey: true },
      'bk-ctx': {
        arn: () => keyA.arn,
        context: { ...FINANCE, 'aws:s3:arn': `arn:aws:s3:::${bucket}` },
        bucketKey: true,
        clientContextHeader: finance,
      },
      dsse: { arn: () => keyB.arn, context: { 'aws:s3:arn': objectArn('dsse') }, dsse: true },
      'own-arn': {
        arn: () => keyA.arn,
        context: { 'aws:s3:arn': objectArn('own-arn'), x: 'y' },
        clientContextHeader: contextHeader({ 'aws:s3:arn': objectArn('own-arn'), x: 'y' }),
      },
      copy: { arn: () => keyB.arn, context: { 'aws:s3:arn': objectArn('copy') } },
      mp: { arn: () => keyA.arn, context: { ...FINANCE, 'aws:s3:arn': objectArn('mp') }, clientContextHeader: finance },
    }
    await stop()
    records = await readRecords(dataDir, async (meta) => {
      const out: Record<string, ObjectRecord> = {}
      for (const key of [...Object.keys(expected), 'gone']) out[key] = await readObjectRecord(meta, bucket, key)
      return out
    })
    await start()
  })
  afterAll(async () => {
    await stop()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('KMS-16 the stored context is the object ARN without a bucket key, the bucket ARN with one (DSSE: always the object ARN), plus the client pairs', () => {
    for (const [key, want] of Object.entries(expected)) {
      const kmsRec = records[key].encryption.kms
      expect(records[key].encryption.mode, key).toBe('SSE-KMS')
      expect(kmsRec?.context, key).toEqual(want.context)
      expect(kmsRec?.keyArn, key).toBe(want.arn())
      expect(kmsRec?.clientContextHeader, key).toBe(want.clientContextHeader)
      expect(Boolean(kmsRec?.bucketKeyEnabled), key).toBe(Boolean(want.bucketKey))
      expect(Boolean(kmsRec?.dsse), key).toBe(Boolean(want.dsse))
      // Only the blob, key ARN, context and flags are stored (docs/s3-sse-rules.md §4.13 item 4): no plaintext key
      // member.
      expect(Object.keys(kmsRec ?? {}).sort(), key).toEqual(
        ['bucketKeyEnabled', 'ciphertextBlob', 'clientContextHeader', 'context', 'dsse', 'keyArn'].filter(
          (k) => (kmsRec as unknown as Record<string, unknown>)[k] !== undefined,
        ),
      )
    }
  })

  it("KMS-16 KMS Decrypt of each stored CiphertextBlob with the expected context succeeds under the object's key; another object's context fails", async () => {
    for (const [key, want] of Object.entries(expected)) {
      const blob = Buffer.from(records[key].encryption.kms!.ciphertextBlob, 'base64')
      const out = await kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: want.context }))
      expect(out.KeyId, key).toBe(want.arn())
      expect(out.Plaintext?.length, key).toBe(32)
      const wrong = { ...want.context, 'aws:s3:arn': objectArn('someone-else') }
      await expect(
        kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: wrong })),
        key,
      ).rejects.toMatchObject({ name: 'InvalidCiphertextException' })
      await expect(kms.send(new DecryptCommand({ CiphertextBlob: blob })), key).rejects.toMatchObject({
        name: 'InvalidCiphertextException',
      })
    }
    // Objects under one bucket key share its data key's blob; objects without one each have their own.
    expect(records.bk2.encryption.kms!.ciphertextBlob).toBe(records.bk.encryption.kms!.ciphertextBlob)
    expect(records['no-bk-ctx'].encryption.kms!.ciphertextBlob).not.toBe(
      records['no-bk'].encryption.kms!.ciphertextBlob,
    )
  })

  it("KMS-20 the copy's record has only its own aws:s3:arn: the source's client pairs were not carried over", () => {
    expect(records.copy.encryption.kms!.context).toEqual({ 'aws:s3:arn': objectArn('copy') })
    expect(records.copy.encryption.kms!.clientContextHeader).toBeUndefined()
  })

  it('REST-01 neither the 64-byte markers nor any plaintext KMS data key (raw, base64 or hex) occurs in any file of the data directory', async () => {
    const dataKeys: Buffer[] = []
    for (const key of Object.keys(expected)) {
      const rec = records[key].encryption.kms!
      const out = await kms.send(
        new DecryptCommand({
          CiphertextBlob: Buffer.from(rec.ciphertextBlob, 'base64'),
          EncryptionContext: rec.context,
        }),
      )
      dataKeys.push(Buffer.from(out.Plaintext!))
    }
    // Objects still read back (the scan is not vacuous).
    for (const [key, marker] of markers) {
      if (key === 'gone') continue
      const body = await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })))
      expect(body.subarray(0, 64).equals(marker), key).toBe(true)
    }
    await stop()
    try {
      const needles = [
        ...[...markers.values()],
        ...dataKeys.flatMap((k) => [
          k,
          Buffer.from(k.toString('base64')),
          Buffer.from(k.toString('hex')),
          Buffer.from(k.toString('base64url')),
        ]),
      ]
      expect(await filesContaining(dataDir, needles)).toEqual([])
    } finally {
      await start()
    }
  })

  it("a record given another object's encryption context answers 400 KMS.InvalidCiphertextException; another object's KMS record or sealed key fails authentication (500 InternalError)", async () => {
    await stop()
    await readRecords(dataDir, async (meta) => {
      const donor = await readObjectRecord(meta, bucket, 'donor')
      const edit = async (key: string, change: (rec: ObjectRecord) => void) => {
        const rec = await readObjectRecord(meta, bucket, key)
        change(rec)
        await meta.commitObject(rec)
      }
      await edit('tamper-ctx', (rec) => {
        rec.encryption.kms!.context = { ...donor.encryption.kms!.context }
      })
      await edit('tamper-kms', (rec) => {
        rec.encryption.kms = { ...donor.encryption.kms! }
      })
      await edit('tamper-sealed', (rec) => {
        rec.encryption.sealed = { ...donor.encryption.sealed }
      })
    })
    await start()
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'tamper-ctx' })), {
      status: 400,
      code: 'KMS.InvalidCiphertextException',
    })
    for (const key of ['tamper-kms', 'tamper-sealed']) {
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })), {
        status: 500,
        code: 'InternalError',
        message: 'We encountered an internal error. Please try again.',
      })
    }
    expect(
      await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'donor' }))).Body!.transformToString(),
    ).toBe('test-sse')
  })

  it('REST-03 after the KMS key material is removed (admin: its record deleted from the embedded KMS store), GET answers a KMS.* 400; HEAD still answers 200', async () => {
    await stop()
    const store = await LevelKmsStore.open(path.join(dataDir, 'kms'))
    try {
      await store.apply([{ type: 'del-key', id: keyGone.id }])
    } finally {
      await store.close()
    }
    await start()
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'gone' })), {
      status: 400,
      code: 'KMS.NotFoundException',
      message: `Key '${keyGone.arn}' does not exist`,
    })
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'gone' }))).SSEKMSKeyId).toBe(keyGone.arn)
    // Objects under other keys are unaffected.
    expect(
      (await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'no-bk' }))))
        .subarray(0, 64)
        .equals(markers.get('no-bk')!),
    ).toBe(true)
  })
})

describe('TLS rule for SSE-KMS (docs/s3-behaviour.md: --strict-tls makes loopback HTTP count as insecure)', () => {
  let dataDir: string
  let srv: TestServer | undefined
  let s3: S3Client
  let keyArn: string
  const bucket = 'kms-tls'

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-kms-tls-'))
    // An SSE-KMS object written while loopback counts as secure, for TLS-03.
    const loose = await startTestServer({ dataDir })
    const k = kmsClient(loose.endpoint)
    const c = makeClient(loose.endpoint, { maxAttempts: 1 })
    try {
      keyArn = (await k.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!
      await c.send(new CreateBucketCommand({ Bucket: bucket }))
      await c.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'kms-obj',
          Body: 'test-sse',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyArn,
        }),
      )
      await c.send(new PutObjectCommand({ Bucket: bucket, Key: 's3-obj', Body: 'test-sse' }))
    } finally {
      k.destroy()
      c.destroy()
      await loose.close({ keepData: true })
    }
    srv = await startTestServer({ dataDir, args: ['--strict-tls'] })
    s3 = makeClient(srv.endpoint, { maxAttempts: 1 })
  })
  afterAll(async () => {
    s3?.destroy()
    await srv?.close()
    await rm(dataDir, { recursive: true, force: true })
  })

  const overHttp = { status: 400, code: 'InvalidArgument', message: KMS_MSG.overHttp }

  it('TLS-01 PUT aws:kms over HTTP (also CreateMultipartUpload and a copy to aws:kms) answers 400 InvalidArgument …must be made over a secure connection.', async () => {
    await expectSdkError(
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'tls-01',
          Body: 'x',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyArn,
        }),
      ),
      overHttp,
    )
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tls-01', Body: 'x', ServerSideEncryption: 'aws:kms:dsse' })),
      overHttp,
    )
    await expectSdkError(
      s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'tls-01', ServerSideEncryption: 'aws:kms' })),
      overHttp,
    )
    await expectSdkError(
      s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'tls-01',
          CopySource: `${bucket}/s3-obj`,
          ServerSideEncryption: 'aws:kms',
        }),
      ),
      overHttp,
    )
    await expectSdkHeadError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'tls-01' })), 404)
  })

  it('TLS-02 PUT without headers over HTTP into a bucket whose default is aws:kms answers the TLS-01 error', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'kms-tls-default' }))
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: 'kms-tls-default',
        ServerSideEncryptionConfiguration: rule('aws:kms', { key: keyArn }),
      }),
    )
    await expectSdkError(s3.send(new PutObjectCommand({ Bucket: 'kms-tls-default', Key: 'o', Body: 'x' })), overHttp)
    // An explicit AES256 request has no TLS requirement.
    expect(
      (
        await s3.send(
          new PutObjectCommand({ Bucket: 'kms-tls-default', Key: 'o', Body: 'x', ServerSideEncryption: 'AES256' }),
        )
      ).ServerSideEncryption,
    ).toBe('AES256')
  })

  it('TLS-03 GET of an SSE-KMS object over HTTP answers the TLS-01 error; HEAD is allowed (docs/s3-sse-rules.md §4.9 [C])', async () => {
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms-obj' })), overHttp)
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms-obj' }))
    expect(head).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn })
  })

  it('TLS-04 SSE-S3 PUT and GET over HTTP answer 200 under --strict-tls', async () => {
    expect(
      (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tls-04', Body: 'test-sse' }))).ServerSideEncryption,
    ).toBe('AES256')
    expect(
      await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 's3-obj' }))).Body!.transformToString(),
    ).toBe('test-sse')
  })
})

describe('TLS-05 without --strict-tls plain HTTP from loopback counts as secure (docs/s3-behaviour.md)', () => {
  let srv: TestServer
  let s3: S3Client
  let kms: KMSClient

  beforeAll(async () => {
    srv = await startTestServer()
    s3 = makeClient(srv.endpoint, { maxAttempts: 1 })
    kms = kmsClient(srv.endpoint)
    await s3.send(new CreateBucketCommand({ Bucket: 'tls-05' }))
    // New buckets block SSE-C (docs/s3-sse-rules.md §5.4): unblock so that SSEC-16's request can be accepted.
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: 'tls-05',
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
              BlockedEncryptionTypes: { EncryptionType: ['NONE'] },
            },
          ],
        } as never,
      }),
    )
  })
  afterAll(async () => {
    s3?.destroy()
    kms?.destroy()
    await srv?.close()
  })

  it("TLS-05 TLS-01's PUT aws:kms and its GET answer 200; SSEC-16's SSE-C PUT and GET answer 200", async () => {
    const keyArn = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: 'tls-05',
        Key: 'kms',
        Body: 'test-sse',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: keyArn,
      }),
    )
    expect(put.$metadata.httpStatusCode).toBe(200)
    expect(
      await (await s3.send(new GetObjectCommand({ Bucket: 'tls-05', Key: 'kms' }))).Body!.transformToString(),
    ).toBe('test-sse')
    const key = Buffer.from('1234567890abcdef1234567890abcdef')
    const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key as never }
    const cput = await s3.send(new PutObjectCommand({ Bucket: 'tls-05', Key: 'ssec', Body: 'test-sse', ...ssec }))
    expect(cput.SSECustomerKeyMD5).toBe('JMwgiexXqwuPqIPjYFmIZQ==')
    expect(
      await (await s3.send(new GetObjectCommand({ Bucket: 'tls-05', Key: 'ssec', ...ssec }))).Body!.transformToString(),
    ).toBe('test-sse')
  })
})
