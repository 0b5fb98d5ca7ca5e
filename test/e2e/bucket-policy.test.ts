/**
 * @module E2E: bucket policies that enforce encryption (docs/s3-sse-rules.md §5.6, checklist §8.16 POL-01..06,
 * §8.14 TLS-06) against the real server with @aws-sdk/client-s3 and raw SigV4:
 * Put/Get/Delete/GetBucketPolicyStatus, the four published AWS example policies enforced on
 * PutObject, CopyObject and multipart (an explicit Deny applies to the bucket owner too), anonymous
 * access through a public-read grant, a second account (credentials file) granted by policy, also
 * through presigned URLs, and a denied write that leaves no blob behind.
 */
import { CreateKeyCommand } from '@aws-sdk/client-kms'
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketPolicyCommand,
  DeletePublicAccessBlockCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectRawError, expectSdkError } from '../support/expect-s3.js'
import { keyArnOf, kmsClient } from '../support/kms.js'
import { denyInsecureTransport, denySseC, denyUnencrypted, publicRead, requireKmsKey } from '../support/policies.js'
import { presignPath, send, signedSend } from '../support/raw-s3.js'
import { K1, blobFiles, sdkCopySsec, sdkSsec } from '../support/sse-c.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'

const ALICE = { accountId: '111122223333', accessKeyId: 'AKALICE', secretAccessKey: 'alice-secret' }
const DENIED = { status: 403, code: 'AccessDenied' }
const KMS_OVER_HTTP =
  'Requests specifying Server Side Encryption with AWS KMS managed keys must be made over a secure connection.'
const MiB = 1024 * 1024
const SSE_C_ALLOWED = {
  Rules: [
    {
      ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const },
      BlockedEncryptionTypes: { EncryptionType: ['NONE' as const] },
    },
  ],
}

async function credentialsFile(dir: string): Promise<string> {
  const file = path.join(dir, 'accounts.json')
  await writeFile(
    file,
    JSON.stringify({
      accounts: [
        {
          name: 'alice',
          accountId: ALICE.accountId,
          keys: [{ accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey }],
        },
      ],
    }),
  )
  return file
}

describe('bucket policies (docs/s3-sse-rules.md §5.6)', () => {
  let srv: TestServer
  let s3: S3Client
  let alice: S3Client
  let tmp: string
  let n = 0
  const fresh = async (prefix = 'pol') => {
    const name = `${prefix}-${++n}`
    await s3.send(new CreateBucketCommand({ Bucket: name }))
    return name
  }
  const setPolicy = (bucket: string, policy: object) =>
    s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }))

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'strongroom-pol-'))
    srv = await startTestServer({ args: ['--credentials-file', await credentialsFile(tmp)] })
    s3 = makeClient(srv.endpoint, { maxAttempts: 1 })
    alice = makeClient(srv.endpoint, {
      maxAttempts: 1,
      credentials: { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey },
    })
  })
  afterAll(async () => {
    await srv?.close()
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  describe('Put/Get/Delete/GetBucketPolicyStatus', () => {
    it('POL-05 GetBucketPolicy with none set answers 404 NoSuchBucketPolicy', async () => {
      const b = await fresh()
      await expectSdkError(s3.send(new GetBucketPolicyCommand({ Bucket: b })), {
        status: 404,
        code: 'NoSuchBucketPolicy',
        message: 'The bucket policy does not exist',
        fields: { BucketName: b },
      })
    })

    it('POL-06 PutBucketPolicy with invalid JSON answers 400 MalformedPolicy', async () => {
      const b = await fresh()
      const res = await signedSend(srv.port, {
        method: 'PUT',
        path: `/${b}`,
        query: { policy: '' },
        body: 'invalid json',
      })
      expectRawError(res, {
        status: 400,
        code: 'MalformedPolicy',
        message: "Policies must be valid JSON and the first byte must be '{'",
      })
    })

    it('MalformedPolicy with AWS messages for bad actions, resources, principals and condition operators', async () => {
      const b = await fresh()
      const st = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` }
      const cases: Array<[object, string]> = [
        [{ ...st, Action: 's3:GetObjekt' }, 'Policy has invalid action'],
        [{ ...st, Resource: 'arn:aws:s3:::someone-else/*' }, 'Policy has invalid resource'],
        [{ ...st, Principal: { AWS: 'alice' } }, 'Invalid principal in policy'],
        [{ ...st, Condition: { StringAlmost: { 's3:prefix': 'x' } } }, 'Invalid Condition type : StringAlmost'],
      ]
      for (const [statement, message] of cases) {
        await expectSdkError(setPolicy(b, { Version: '2012-10-17', Statement: [statement] }), {
          status: 400,
          code: 'MalformedPolicy',
          message,
        })
      }
      const huge = JSON.stringify({ Statement: [{ ...st, Sid: 'x'.repeat(25 * 1024) }] })
      const res = await signedSend(srv.port, { method: 'PUT', path: `/${b}`, query: { policy: '' }, body: huge })
      expectRawError(res, { status: 400, code: 'MalformedPolicy' })
      await expectSdkError(s3.send(new GetBucketPolicyCommand({ Bucket: b })), {
        status: 404,
        code: 'NoSuchBucketPolicy',
      })
    })

    it('PutBucketPolicy 204 stores the document as sent; GetBucketPolicy returns it; DeleteBucketPolicy 204 is idempotent', async () => {
      const b = await fresh()
      const text = JSON.stringify(denyUnencrypted(b), null, 2)
      const put = await signedSend(srv.port, { method: 'PUT', path: `/${b}`, query: { policy: '' }, body: text })
      expect(put.status).toBe(204)
      expect((await s3.send(new GetBucketPolicyCommand({ Bucket: b }))).Policy).toBe(text)
      expect((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: b }))).PolicyStatus?.IsPublic).toBe(false)
      for (let i = 0; i < 2; i++) {
        const del = await signedSend(srv.port, { method: 'DELETE', path: `/${b}`, query: { policy: '' } })
        expect(del.status).toBe(204)
      }
      await expectSdkError(s3.send(new GetBucketPolicyCommand({ Bucket: b })), {
        status: 404,
        code: 'NoSuchBucketPolicy',
      })
    })
  })

  describe('"deny unencrypted object uploads" (the §5.6 policy)', () => {
    it('POL-01/02/03 PutObject: no header 403, AES256 403, aws:kms 200', async () => {
      const b = await fresh()
      await setPolicy(b, denyUnencrypted(b))
      await expectSdkError(s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' })), DENIED)
      await expectSdkError(
        s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ServerSideEncryption: 'AES256' })),
        DENIED,
      )
      const ok = await s3.send(
        new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms' }),
      )
      expect(ok.ServerSideEncryption).toBe('aws:kms')
    })

    it('POL-04 a bucket default of aws:kms does not satisfy the header condition', async () => {
      const b = await fresh()
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: b,
          ServerSideEncryptionConfiguration: {
            Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }],
          },
        }),
      )
      await setPolicy(b, denyUnencrypted(b))
      await expectSdkError(s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' })), DENIED)
    })

    it('CopyObject (destination) and multipart are enforced the same way; UploadPart is not judged on the SSE header', async () => {
      const b = await fresh()
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: 'source' }))
      await setPolicy(b, denyUnencrypted(b))
      await expectSdkError(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'dst', CopySource: `${b}/src` })), DENIED)
      const copied = await s3.send(
        new CopyObjectCommand({ Bucket: b, Key: 'dst', CopySource: `${b}/src`, ServerSideEncryption: 'aws:kms' }),
      )
      expect(copied.ServerSideEncryption).toBe('aws:kms')
      await expectSdkError(s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp' })), DENIED)
      await expectSdkError(
        s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ServerSideEncryption: 'AES256' })),
        DENIED,
      )
      const up = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ServerSideEncryption: 'aws:kms' }),
      )
      const part = await s3.send(
        new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: 'part' }),
      )
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: b,
          Key: 'mp',
          UploadId: up.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      )
      expect(done.ServerSideEncryption).toBe('aws:kms')
    })

    it('a denied PutObject writes no blob (the policy is decided before any data is written)', async () => {
      const b = await fresh()
      await setPolicy(b, denyUnencrypted(b))
      const before = await blobFiles(srv.dataDir)
      await expectSdkError(
        s3.send(new PutObjectCommand({ Bucket: b, Key: 'big', Body: Buffer.alloc(2 * MiB, 7) })),
        DENIED,
      )
      expect(await blobFiles(srv.dataDir)).toEqual(before)
    })
  })

  describe('"require SSE-KMS with a specific key"', () => {
    it('PutObject, CopyObject and CreateMultipartUpload pass only with the named key', async () => {
      const kms = kmsClient(srv.endpoint)
      const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!
      const other = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!
      const b = await fresh()
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: 'source' }))
      await setPolicy(b, requireKmsKey(b, keyArnOf(keyId)))
      const good = { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: keyArnOf(keyId) }
      const bad = { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: keyArnOf(other) }
      await expectSdkError(
        s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms' })),
        DENIED,
      )
      await expectSdkError(s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ...bad })), DENIED)
      expect((await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ...good }))).SSEKMSKeyId).toBe(
        keyArnOf(keyId),
      )
      // A bare key id names the caller's key: the policy sees its ARN.
      await s3.send(
        new PutObjectCommand({ Bucket: b, Key: 'k2', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId }),
      )
      await expectSdkError(
        s3.send(new CopyObjectCommand({ Bucket: b, Key: 'c', CopySource: `${b}/src`, ...bad })),
        DENIED,
      )
      await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'c', CopySource: `${b}/src`, ...good }))
      await expectSdkError(
        s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ServerSideEncryption: 'AES256' })),
        DENIED,
      )
      expect((await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ...good }))).UploadId).toBeTruthy()
    })
  })

  describe('"deny SSE-C"', () => {
    it('PutObject, CopyObject, CreateMultipartUpload and UploadPart with a customer key are denied; SSE-S3 passes', async () => {
      const b = await fresh()
      await s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: SSE_C_ALLOWED }))
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: 'source' }))
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'csrc', Body: 'source', ...sdkSsec(K1) }))
      const earlier = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp0', ...sdkSsec(K1) }))
      await setPolicy(b, denySseC(b))
      await expectSdkError(s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ...sdkSsec(K1) })), DENIED)
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }))
      await expectSdkError(
        s3.send(new CopyObjectCommand({ Bucket: b, Key: 'c', CopySource: `${b}/src`, ...sdkSsec(K1) })),
        DENIED,
      )
      await expectSdkError(s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ...sdkSsec(K1) })), DENIED)
      // The algorithm key is evaluated on every multipart request (docs/s3-sse-rules.md §5.6).
      const before = await blobFiles(srv.dataDir)
      await expectSdkError(
        s3.send(
          new UploadPartCommand({
            Bucket: b,
            Key: 'mp0',
            UploadId: earlier.UploadId,
            PartNumber: 1,
            Body: 'p',
            ...sdkSsec(K1),
          }),
        ),
        DENIED,
      )
      expect(await blobFiles(srv.dataDir)).toEqual(before)
      // Reading an SSE-C source (copy-source trio) is not an SSE-C upload.
      const copied = await s3.send(
        new CopyObjectCommand({ Bucket: b, Key: 'c2', CopySource: `${b}/csrc`, ...sdkCopySsec(K1) }),
      )
      expect(copied.ServerSideEncryption).toBe('AES256')
    })
  })

  describe('"deny insecure transport" (aws:SecureTransport)', () => {
    it('plain HTTP, even from loopback, is denied for every action and for the owner; the owner can still remove the policy', async () => {
      const b = await fresh()
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: 'source' }))
      await setPolicy(b, denyInsecureTransport(b))
      await expectSdkError(
        s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms' })),
        DENIED,
      )
      await expectSdkError(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'c', CopySource: `${b}/src` })), DENIED)
      await expectSdkError(s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp' })), DENIED)
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'src' })), DENIED)
      await expectSdkError(s3.send(new ListObjectsV2Command({ Bucket: b })), DENIED)
      // AWS: the owning account's root may always manage the policy, so it cannot lock itself out.
      expect((await s3.send(new GetBucketPolicyCommand({ Bucket: b }))).Policy).toBeTruthy()
      await s3.send(new DeleteBucketPolicyCommand({ Bucket: b }))
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }))
    })
  })

  describe('anonymous access', () => {
    it('a public-read policy lets an unsigned GET through; PUT and LIST stay denied; without a policy GET is denied', async () => {
      const b = await fresh()
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'pub.txt', Body: 'hello' }))
      const before = await send(srv.port, { method: 'GET', path: `/${b}/pub.txt` })
      expectRawError(before, DENIED)
      // New buckets block public policies (as AWS creates them); this one opts out.
      await s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }))
      await setPolicy(b, publicRead(b))
      expect((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: b }))).PolicyStatus?.IsPublic).toBe(true)
      const got = await send(srv.port, { method: 'GET', path: `/${b}/pub.txt` })
      expect(got.status).toBe(200)
      expect(got.text).toBe('hello')
      expectRawError(await send(srv.port, { method: 'PUT', path: `/${b}/new.txt`, body: 'x' }), DENIED)
      expectRawError(await send(srv.port, { method: 'GET', path: `/${b}` }), DENIED)
      expectRawError(await send(srv.port, { method: 'GET', path: `/${b}`, query: { policy: '' } }), DENIED)
      expectRawError(await send(srv.port, { method: 'GET', path: '/' }), DENIED)
      expectRawError(await send(srv.port, { method: 'GET', path: '/no-such-bucket-anon/k' }), DENIED)
    })

    it('an anonymous write granted to * is still subject to an explicit Deny on the encryption header', async () => {
      const b = await fresh()
      // Anonymous callers have no KMS keys, so this variant of "deny unencrypted uploads" requires AES256.
      const requireAes = denyUnencrypted(b).Statement.map((st) =>
        st.Condition.StringNotEquals
          ? { ...st, Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'AES256' } } }
          : st,
      )
      await s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }))
      await setPolicy(b, {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AnyoneWrites',
            Effect: 'Allow',
            Principal: { AWS: '*' },
            Action: 's3:PutObject',
            Resource: `arn:aws:s3:::${b}/drop/*`,
          },
          ...requireAes,
        ],
      })
      const unsigned = { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }
      const aes = { ...unsigned, 'x-amz-server-side-encryption': 'AES256' }
      expectRawError(
        await send(srv.port, { method: 'PUT', path: `/${b}/drop/a`, headers: unsigned, body: 'x' }),
        DENIED,
      )
      const ok = await send(srv.port, { method: 'PUT', path: `/${b}/drop/a`, headers: aes, body: 'x' })
      expect(ok.status, ok.text).toBe(200)
      expectRawError(await send(srv.port, { method: 'PUT', path: `/${b}/elsewhere`, headers: aes, body: 'x' }), DENIED)
      expect(await (await s3.send(new GetObjectCommand({ Bucket: b, Key: 'drop/a' }))).Body!.transformToString()).toBe(
        'x',
      )
    })
  })

  describe('another account', () => {
    it('is denied without a grant, allowed what the policy grants (SDK and presigned URL), never the policy itself', async () => {
      const b = await fresh()
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'shared.txt', Body: 'shared' }))
      await expectSdkError(alice.send(new GetObjectCommand({ Bucket: b, Key: 'shared.txt' })), DENIED)
      const aliceKeys = { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey }
      const url = await presignPath(srv.port, { method: 'GET', path: `/${b}/shared.txt` }, aliceKeys)
      expectRawError(await send(srv.port, { method: 'GET', path: url }), DENIED)
      await setPolicy(b, {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AliceReads',
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${ALICE.accountId}:root` },
            Action: ['s3:GetObject', 's3:GetBucketPolicy'],
            Resource: [`arn:aws:s3:::${b}/*`, `arn:aws:s3:::${b}`],
          },
        ],
      })
      const got = await alice.send(new GetObjectCommand({ Bucket: b, Key: 'shared.txt' }))
      expect(await got.Body!.transformToString()).toBe('shared')
      const viaUrl = await send(srv.port, {
        method: 'GET',
        path: await presignPath(srv.port, { method: 'GET', path: `/${b}/shared.txt` }, aliceKeys),
      })
      expect(viaUrl.status).toBe(200)
      expect(viaUrl.text).toBe('shared')
      await expectSdkError(alice.send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: 'x' })), DENIED)
      await expectSdkError(alice.send(new GetBucketPolicyCommand({ Bucket: b })), DENIED)
      await expectSdkError(
        alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(publicRead(b)) })),
        DENIED,
      )
    })

    it('an Allow for another account still loses to an explicit Deny (deny unencrypted uploads)', async () => {
      const b = await fresh()
      await setPolicy(b, {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AliceWrites',
            Effect: 'Allow',
            Principal: { AWS: ALICE.accountId },
            Action: 's3:PutObject',
            Resource: `arn:aws:s3:::${b}/*`,
          },
          ...denyUnencrypted(b).Statement,
        ],
      })
      await expectSdkError(alice.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' })), DENIED)
      await alice.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms' }))
    })
  })
})

describe('TLS-06 the TLS rule wins over a policy deny (--strict-tls)', () => {
  let strict: TestServer
  beforeAll(async () => {
    strict = await startTestServer({ args: ['--strict-tls'] })
  })
  afterAll(async () => {
    await strict?.close()
  })

  it('bucket default aws:kms + "deny insecure transport": PUT without headers over HTTP answers the 400 of TLS-01, not 403', async () => {
    const s3 = makeClient(strict.endpoint, { maxAttempts: 1 })
    await s3.send(new CreateBucketCommand({ Bucket: 'tls06' }))
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: 'tls06',
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }],
        },
      }),
    )
    await s3.send(
      new PutBucketPolicyCommand({ Bucket: 'tls06', Policy: JSON.stringify(denyInsecureTransport('tls06')) }),
    )
    const tls01 = { status: 400, code: 'InvalidArgument', message: KMS_OVER_HTTP }
    await expectSdkError(s3.send(new PutObjectCommand({ Bucket: 'tls06', Key: 'k', Body: 'x' })), tls01)
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: 'tls06', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms' })),
      tls01,
    )
    await expectSdkError(s3.send(new CreateMultipartUploadCommand({ Bucket: 'tls06', Key: 'k' })), tls01)
    // An SSE-S3 write passes the TLS rule, so the policy decides.
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: 'tls06', Key: 'k', Body: 'x', ServerSideEncryption: 'AES256' })),
      DENIED,
    )
  })
})
