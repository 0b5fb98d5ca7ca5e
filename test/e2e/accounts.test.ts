/**
 * @module E2E: several accounts (docs/s3-sse-rules.md §0.2, §3.2, §3.3, §6.2; BKT-05, BKT-18).
 * Two accounts from a credentials file, alice and bob, through @aws-sdk/client-s3 and
 * @aws-sdk/client-kms: a bucket and its objects belong to the account that created it and every
 * other account gets 403 AccessDenied on every operation family; ListBuckets shows only the
 * caller's buckets; the embedded KMS keeps keys per account, and another account's key is refused
 * by ARN through the KMS API and through S3 SSE-KMS.
 */
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
} from '@aws-sdk/client-kms'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketEncryptionCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectSdkError, expectSdkHeadError } from '../support/expect-s3.js'
import { TEST_REGION, makeClient, startTestServer, type TestServer } from '../support/server.js'

const ALICE = { accountId: '111122223333', accessKeyId: 'ALICEKEY1', secretAccessKey: 'alice-secret-1' }
const BOB = { accountId: '444455556666', accessKeyId: 'BOBKEY1', secretAccessKey: 'bob-secret-1' }
const ALICE_USER = { accessKeyId: 'ALICEKEY2', secretAccessKey: 'alice-secret-2', userName: 'dev' }
const DENIED = { status: 403, code: 'AccessDenied', message: 'Access Denied' }
const bytesOf = async (res: { Body?: { transformToByteArray(): Promise<Uint8Array> } }) =>
  Buffer.from(await res.Body!.transformToByteArray())
const kmsDenied = (principal: string, op: string, arn: string) =>
  `User: ${principal} is not authorized to perform: kms:${op} on resource: ${arn} because no resource-based policy allows the kms:${op} action`

describe('accounts: ownership, isolation and per-account KMS keys', () => {
  let server: TestServer
  let dir: string
  let alice: S3Client
  let aliceUser: S3Client
  let bob: S3Client
  let root: S3Client
  let aliceKms: KMSClient
  let bobKms: KMSClient
  let aliceKeyArn: string
  const bucket = 'alice-private'
  const as = (who: { accessKeyId: string; secretAccessKey: string }) => ({
    credentials: { accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey },
  })
  const kmsFor = (who: { accessKeyId: string; secretAccessKey: string }) =>
    new KMSClient({ endpoint: server.endpoint, region: TEST_REGION, maxAttempts: 1, ...as(who) })

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'strongroom-accounts-'))
    const file = path.join(dir, 'credentials.json')
    await writeFile(
      file,
      JSON.stringify({
        accounts: [
          {
            name: 'alice',
            accountId: ALICE.accountId,
            keys: [{ accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey }, ALICE_USER],
          },
          {
            name: 'bob',
            accountId: BOB.accountId,
            keys: [{ accessKeyId: BOB.accessKeyId, secretAccessKey: BOB.secretAccessKey }],
          },
        ],
      }),
    )
    server = await startTestServer({ args: ['--credentials-file', file] })
    alice = makeClient(server.endpoint, as(ALICE))
    aliceUser = makeClient(server.endpoint, as(ALICE_USER))
    bob = makeClient(server.endpoint, as(BOB))
    root = makeClient(server.endpoint)
    aliceKms = kmsFor(ALICE)
    bobKms = kmsFor(BOB)
    await alice.send(new CreateBucketCommand({ Bucket: bucket }))
    await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'secret.txt', Body: 'alice data' }))
    const key = await aliceKms.send(new CreateKeyCommand({ Description: 'alice key' }))
    aliceKeyArn = key.KeyMetadata!.Arn!
  })

  afterAll(async () => {
    for (const c of [alice, aliceUser, bob, root, aliceKms, bobKms]) c?.destroy()
    await server?.close()
    await rm(dir, { recursive: true, force: true })
  })

  describe('ownership', () => {
    it('the creator and its other keys (an IAM user of the same account) use the bucket', async () => {
      expect(
        (await bytesOf(await alice.send(new GetObjectCommand({ Bucket: bucket, Key: 'secret.txt' })))).toString(),
      ).toBe('alice data')
      expect(
        (await bytesOf(await aliceUser.send(new GetObjectCommand({ Bucket: bucket, Key: 'secret.txt' })))).toString(),
      ).toBe('alice data')
      await aliceUser.send(new HeadBucketCommand({ Bucket: bucket }))
    })

    it('bob and the root account get 403 AccessDenied on the bucket and its objects', async () => {
      for (const other of [bob, root]) {
        await expectSdkError(other.send(new GetObjectCommand({ Bucket: bucket, Key: 'secret.txt' })), DENIED)
        await expectSdkHeadError(other.send(new HeadObjectCommand({ Bucket: bucket, Key: 'secret.txt' })), 403)
        await expectSdkHeadError(other.send(new HeadBucketCommand({ Bucket: bucket })), 403)
      }
    })

    it("a missing key in another account's bucket is still AccessDenied (no existence leak)", async () => {
      await expectSdkError(bob.send(new GetObjectCommand({ Bucket: bucket, Key: 'no-such-key' })), DENIED)
    })

    it('a bucket that does not exist is NoSuchBucket for everyone', async () => {
      await expectSdkError(bob.send(new GetObjectCommand({ Bucket: 'nobody-has-this', Key: 'k' })), {
        status: 404,
        code: 'NoSuchBucket',
      })
    })
  })

  describe('cross-account denial on every operation family', () => {
    it('PUT, DELETE, DeleteObjects', async () => {
      await expectSdkError(bob.send(new PutObjectCommand({ Bucket: bucket, Key: 'bob.txt', Body: 'x' })), DENIED)
      await expectSdkError(bob.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'secret.txt' })), DENIED)
      await expectSdkError(
        bob.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'secret.txt' }] } })),
        DENIED,
      )
      const still = await alice.send(new HeadObjectCommand({ Bucket: bucket, Key: 'secret.txt' }))
      expect(still.ContentLength).toBe(10)
      await expectSdkError(alice.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bob.txt' })), {
        status: 404,
        code: 'NotFound',
      })
    })

    it('bucket operations: list, location, delete', async () => {
      await expectSdkError(bob.send(new ListObjectsV2Command({ Bucket: bucket })), DENIED)
      await expectSdkError(bob.send(new ListObjectsCommand({ Bucket: bucket })), DENIED)
      await expectSdkError(bob.send(new GetBucketLocationCommand({ Bucket: bucket })), DENIED)
      await expectSdkError(bob.send(new DeleteBucketCommand({ Bucket: bucket })), DENIED)
      await alice.send(new HeadBucketCommand({ Bucket: bucket }))
    })

    it('bucket encryption: get, put, delete', async () => {
      await expectSdkError(bob.send(new GetBucketEncryptionCommand({ Bucket: bucket })), DENIED)
      await expectSdkError(
        bob.send(
          new PutBucketEncryptionCommand({
            Bucket: bucket,
            ServerSideEncryptionConfiguration: {
              Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
            },
          }),
        ),
        DENIED,
      )
      await expectSdkError(bob.send(new DeleteBucketEncryptionCommand({ Bucket: bucket })), DENIED)
      const enc = await alice.send(new GetBucketEncryptionCommand({ Bucket: bucket }))
      expect(enc.ServerSideEncryptionConfiguration?.Rules?.[0].ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe(
        'AES256',
      )
    })

    it('multipart: create, upload part, list parts, list uploads, complete, abort', async () => {
      await expectSdkError(bob.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' })), DENIED)
      const { UploadId } = await alice.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }))
      await expectSdkError(
        bob.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 1, Body: 'bob' })),
        DENIED,
      )
      const part = await alice.send(
        new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 1, Body: 'alice part' }),
      )
      await expectSdkError(bob.send(new ListPartsCommand({ Bucket: bucket, Key: 'mp', UploadId })), DENIED)
      await expectSdkError(bob.send(new ListMultipartUploadsCommand({ Bucket: bucket })), DENIED)
      await expectSdkError(
        bob.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: 'mp',
            UploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
          }),
        ),
        DENIED,
      )
      await expectSdkError(bob.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId })), DENIED)
      const parts = await alice.send(new ListPartsCommand({ Bucket: bucket, Key: 'mp', UploadId }))
      expect(parts.Parts?.map((p) => p.PartNumber)).toEqual([1])
      await alice.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId }))
    })

    it("copy: another account's object as the source, another account's bucket as the destination", async () => {
      await bob.send(new CreateBucketCommand({ Bucket: 'bob-bucket' }))
      await bob.send(new PutObjectCommand({ Bucket: 'bob-bucket', Key: 'mine.txt', Body: 'bob data' }))
      // Source in alice's bucket, destination bob's own.
      await expectSdkError(
        bob.send(new CopyObjectCommand({ Bucket: 'bob-bucket', Key: 'stolen', CopySource: `${bucket}/secret.txt` })),
        DENIED,
      )
      // Source bob's own, destination alice's bucket.
      await expectSdkError(
        bob.send(new CopyObjectCommand({ Bucket: bucket, Key: 'planted', CopySource: 'bob-bucket/mine.txt' })),
        DENIED,
      )
      await expectSdkError(bob.send(new HeadObjectCommand({ Bucket: 'bob-bucket', Key: 'stolen' })), {
        status: 404,
        code: 'NotFound',
      })
      // UploadPartCopy from alice's object into bob's own upload.
      const { UploadId } = await bob.send(new CreateMultipartUploadCommand({ Bucket: 'bob-bucket', Key: 'mp-copy' }))
      await expectSdkError(
        bob.send(
          new UploadPartCopyCommand({
            Bucket: 'bob-bucket',
            Key: 'mp-copy',
            UploadId,
            PartNumber: 1,
            CopySource: `${bucket}/secret.txt`,
          }),
        ),
        DENIED,
      )
      await bob.send(new AbortMultipartUploadCommand({ Bucket: 'bob-bucket', Key: 'mp-copy', UploadId }))
      // The owner copies within its own account.
      await alice.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy.txt', CopySource: `${bucket}/secret.txt` }))
    })
  })

  describe('bucket names and listings', () => {
    it('BKT-05: creating a name another account owns is 409 BucketAlreadyExists; the owner gets BucketAlreadyOwnedByYou outside us-east-1 semantics only', async () => {
      await expectSdkError(bob.send(new CreateBucketCommand({ Bucket: bucket })), {
        status: 409,
        code: 'BucketAlreadyExists',
        message:
          'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
        fields: { BucketName: bucket },
      })
      // us-east-1: the owner re-creating its own bucket succeeds (docs/s3-sse-rules.md §3.3).
      await alice.send(new CreateBucketCommand({ Bucket: bucket }))
    })

    it("ListBuckets shows only the caller's buckets, with the caller's owner id", async () => {
      await root.send(new CreateBucketCommand({ Bucket: 'root-bucket' }))
      const names = async (c: S3Client) => (await c.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name) ?? []
      expect(await names(alice)).toEqual([bucket])
      expect(await names(aliceUser)).toEqual([bucket])
      expect(await names(bob)).toEqual(['bob-bucket'])
      expect(await names(root)).toEqual(['root-bucket'])
      const a = await alice.send(new ListBucketsCommand({}))
      const b = await bob.send(new ListBucketsCommand({}))
      expect(a.Owner?.ID).toMatch(/^[0-9a-f]{64}$/)
      expect(a.Owner?.ID).not.toBe(b.Owner?.ID)
    })

    it('BKT-18: x-amz-expected-bucket-owner with real account ids', async () => {
      const ok = await alice.send(new ListObjectsV2Command({ Bucket: bucket, ExpectedBucketOwner: ALICE.accountId }))
      expect(ok.KeyCount).toBeGreaterThan(0)
      await expectSdkError(
        alice.send(new ListObjectsV2Command({ Bucket: bucket, ExpectedBucketOwner: BOB.accountId })),
        DENIED,
      )
      await expectSdkError(
        alice.send(new GetObjectCommand({ Bucket: bucket, Key: 'secret.txt', ExpectedBucketOwner: BOB.accountId })),
        DENIED,
      )
      await expectSdkHeadError(
        alice.send(new HeadBucketCommand({ Bucket: bucket, ExpectedBucketOwner: '000000000000' })),
        403,
      )
      // Bob naming alice as the owner does not make her bucket his.
      await expectSdkError(
        bob.send(new ListObjectsV2Command({ Bucket: bucket, ExpectedBucketOwner: ALICE.accountId })),
        DENIED,
      )
    })
  })

  describe('embedded KMS per account', () => {
    it("keys are created in the caller's account", async () => {
      expect(aliceKeyArn).toMatch(new RegExp(`^arn:aws:kms:${TEST_REGION}:${ALICE.accountId}:key/`))
      const bobKey = await bobKms.send(new CreateKeyCommand({}))
      expect(bobKey.KeyMetadata?.AWSAccountId).toBe(BOB.accountId)
      expect(bobKey.KeyMetadata?.Arn).toMatch(new RegExp(`:${BOB.accountId}:key/`))
      const described = await aliceKms.send(new DescribeKeyCommand({ KeyId: aliceKeyArn }))
      expect(described.KeyMetadata?.AWSAccountId).toBe(ALICE.accountId)
    })

    it("ListKeys and ListAliases show only the caller's keys", async () => {
      await aliceKms.send(new CreateAliasCommand({ AliasName: 'alias/shared-name', TargetKeyId: aliceKeyArn }))
      const bobKey = await bobKms.send(new CreateKeyCommand({}))
      // The same alias name in another account is another alias.
      await bobKms.send(
        new CreateAliasCommand({ AliasName: 'alias/shared-name', TargetKeyId: bobKey.KeyMetadata!.KeyId }),
      )
      const aliceKeys = (await aliceKms.send(new ListKeysCommand({}))).Keys ?? []
      const bobKeys = (await bobKms.send(new ListKeysCommand({}))).Keys ?? []
      expect(aliceKeys.map((k) => k.KeyArn)).toContain(aliceKeyArn)
      expect(aliceKeys.every((k) => k.KeyArn!.includes(`:${ALICE.accountId}:`))).toBe(true)
      expect(bobKeys.every((k) => k.KeyArn!.includes(`:${BOB.accountId}:`))).toBe(true)
      expect(bobKeys.map((k) => k.KeyArn)).not.toContain(aliceKeyArn)
      const aliceAliases = (await aliceKms.send(new ListAliasesCommand({}))).Aliases ?? []
      const bobAliases = (await bobKms.send(new ListAliasesCommand({}))).Aliases ?? []
      expect(aliceAliases.find((a) => a.AliasName === 'alias/shared-name')?.AliasArn).toBe(
        `arn:aws:kms:${TEST_REGION}:${ALICE.accountId}:alias/shared-name`,
      )
      expect(bobAliases.find((a) => a.AliasName === 'alias/shared-name')?.TargetKeyId).toBe(bobKey.KeyMetadata!.KeyId)
    })

    it("another account's key by ARN is AccessDeniedException on the KMS API (DescribeKey, Encrypt, GenerateDataKey)", async () => {
      const bobArn = `arn:aws:iam::${BOB.accountId}:root`
      for (const [op, send] of [
        ['DescribeKey', () => bobKms.send(new DescribeKeyCommand({ KeyId: aliceKeyArn }))],
        ['Encrypt', () => bobKms.send(new EncryptCommand({ KeyId: aliceKeyArn, Plaintext: Buffer.from('x') }))],
        ['GenerateDataKey', () => bobKms.send(new GenerateDataKeyCommand({ KeyId: aliceKeyArn, KeySpec: 'AES_256' }))],
      ] as const) {
        const err = await (send as () => Promise<unknown>)().then(
          () => undefined,
          (e: { name: string; message: string; $metadata: { httpStatusCode?: number } }) => e,
        )
        expect(err, op).toBeDefined()
        expect({ name: err!.name, status: err!.$metadata.httpStatusCode, message: err!.message }).toEqual({
          name: 'AccessDeniedException',
          status: 400,
          message: kmsDenied(bobArn, op, aliceKeyArn),
        })
      }
    })

    it("a ciphertext made under another account's key does not decrypt for the caller (AccessDeniedException)", async () => {
      const { CiphertextBlob } = await aliceKms.send(
        new EncryptCommand({ KeyId: aliceKeyArn, Plaintext: Buffer.from('hello') }),
      )
      const mine = await aliceKms.send(new DecryptCommand({ CiphertextBlob }))
      expect(Buffer.from(mine.Plaintext!).toString()).toBe('hello')
      const err = await bobKms.send(new DecryptCommand({ CiphertextBlob })).then(
        () => undefined,
        (e: { name: string; message: string }) => e,
      )
      expect(err?.name).toBe('AccessDeniedException')
      expect(err?.message).toBe(kmsDenied(`arn:aws:iam::${BOB.accountId}:root`, 'Decrypt', aliceKeyArn))
    })

    it('an IAM user of the account is named in the denial', async () => {
      const err = await kmsFor({ ...BOB, accessKeyId: BOB.accessKeyId })
        .send(new DescribeKeyCommand({ KeyId: aliceKeyArn }))
        .then(
          () => undefined,
          (e: Error) => e,
        )
      expect(err?.name).toBe('AccessDeniedException')
      const userKms = kmsFor(ALICE_USER)
      try {
        const own = await userKms.send(new DescribeKeyCommand({ KeyId: aliceKeyArn }))
        expect(own.KeyMetadata?.Arn).toBe(aliceKeyArn)
      } finally {
        userKms.destroy()
      }
    })

    it("through S3: SSE-KMS with another account's key ARN is 403 AccessDenied with KMS's message (its key policy does not allow the caller), and nothing is written", async () => {
      const message = kmsDenied(`arn:aws:iam::${BOB.accountId}:root`, 'GenerateDataKey', aliceKeyArn)
      await expectSdkError(
        bob.send(
          new PutObjectCommand({
            Bucket: 'bob-bucket',
            Key: 'kms-foreign',
            Body: 'x',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: aliceKeyArn,
          }),
        ),
        { status: 403, code: 'AccessDenied', message },
      )
      await expectSdkError(bob.send(new HeadObjectCommand({ Bucket: 'bob-bucket', Key: 'kms-foreign' })), {
        status: 404,
        code: 'NotFound',
      })
      await expectSdkError(
        bob.send(
          new CreateMultipartUploadCommand({
            Bucket: 'bob-bucket',
            Key: 'kms-foreign-mp',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: aliceKeyArn,
          }),
        ),
        { status: 403, code: 'AccessDenied', message },
      )
      await expectSdkError(
        bob.send(
          new CopyObjectCommand({
            Bucket: 'bob-bucket',
            Key: 'kms-foreign-copy',
            CopySource: 'bob-bucket/mine.txt',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: aliceKeyArn,
          }),
        ),
        { status: 403, code: 'AccessDenied', message },
      )
      // A bucket default naming the foreign key is stored (AWS does not check it) but refused at use.
      await bob.send(
        new PutBucketEncryptionCommand({
          Bucket: 'bob-bucket',
          ServerSideEncryptionConfiguration: {
            Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: aliceKeyArn } }],
          },
        }),
      )
      await expectSdkError(bob.send(new PutObjectCommand({ Bucket: 'bob-bucket', Key: 'kms-default', Body: 'x' })), {
        status: 403,
        code: 'AccessDenied',
        message,
      })
      await bob.send(new DeleteBucketEncryptionCommand({ Bucket: 'bob-bucket' }))
    })

    it("through S3: each account's own keys and its own alias/aws/s3 work", async () => {
      const put = await alice.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'kms-own',
          Body: 'alice kms',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: aliceKeyArn,
        }),
      )
      expect(put.SSEKMSKeyId).toBe(aliceKeyArn)
      expect(
        (await bytesOf(await alice.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms-own' })))).toString(),
      ).toBe('alice kms')
      const a = await alice.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'kms-managed', Body: 'a', ServerSideEncryption: 'aws:kms' }),
      )
      const b = await bob.send(
        new PutObjectCommand({ Bucket: 'bob-bucket', Key: 'kms-managed', Body: 'b', ServerSideEncryption: 'aws:kms' }),
      )
      expect(a.SSEKMSKeyId).toMatch(new RegExp(`:${ALICE.accountId}:key/`))
      expect(b.SSEKMSKeyId).toMatch(new RegExp(`:${BOB.accountId}:key/`))
      const aliceManaged = (await aliceKms.send(new ListAliasesCommand({}))).Aliases?.find(
        (x) => x.AliasName === 'alias/aws/s3',
      )
      const bobManaged = (await bobKms.send(new ListAliasesCommand({}))).Aliases?.find(
        (x) => x.AliasName === 'alias/aws/s3',
      )
      expect(aliceManaged?.TargetKeyId).toBeDefined()
      expect(bobManaged?.TargetKeyId).toBeDefined()
      expect(aliceManaged?.TargetKeyId).not.toBe(bobManaged?.TargetKeyId)
      expect(
        (await bytesOf(await bob.send(new GetObjectCommand({ Bucket: 'bob-bucket', Key: 'kms-managed' })))).toString(),
      ).toBe('b')
      // With S3 Bucket Keys too: each account gets a data key of its own key.
      const bk = await bob.send(
        new PutObjectCommand({
          Bucket: 'bob-bucket',
          Key: 'kms-bk',
          Body: 'bk',
          ServerSideEncryption: 'aws:kms',
          BucketKeyEnabled: true,
        }),
      )
      expect(bk.SSEKMSKeyId).toBe(b.SSEKMSKeyId)
    })
  })
})
