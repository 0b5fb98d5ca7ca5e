/**
 * @module E2E: bucket default encryption — Put/Get/DeleteBucketEncryption, the precedence of request
 * headers over the default, BlockedEncryptionTypes and the SSE-C block of new buckets, and the
 * copy-onto-itself rule's "explicit default" (docs/s3-sse-rules.md §4.4, §4.11 rule 6, §5, §8.15 BENC-01..08,
 * BENC-10..14, BLK-01..09, §8.14 SELF-07/09; docs/s3-behaviour.md). Defaults that create SSE-KMS objects
 * belong to the SSE-KMS suite.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  AbortMultipartUploadCommand,
  type S3Client,
  type ServerSideEncryptionRule,
} from '@aws-sdk/client-s3'
import { CreateAliasCommand, CreateKeyCommand, ListAliasesCommand } from '@aws-sdk/client-kms'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checksumOf } from '../../server/s3/checksums.js'
import { expectRawError, expectSdkError } from '../support/expect-s3.js'
import { ACCOUNT, freePort, keyArnOf, kmsClient } from '../support/kms.js'
import { md5Base64, signedSend } from '../support/raw-s3.js'
import { K1, K3, MSG, SSE, SSE_C_KEY_MD5, md5Hex, sdkCopySsec, sdkSsec, ssecHeaders } from '../support/sse-c.js'
import { CHECKSUM_MODES, makeClient, startTestServer, type TestServer } from '../support/server.js'

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/'
const MALFORMED = 'The XML you provided was not well-formed or did not validate against our published schema'
const KMS_OVER_HTTP =
  'Requests specifying Server Side Encryption with AWS KMS managed keys must be made over a secure connection.'

/** A ServerSideEncryptionConfiguration document with the given inner `<Rule>` XML. */
const config = (...rules: string[]) =>
  `<ServerSideEncryptionConfiguration xmlns="${NS}">${rules.map((r) => `<Rule>${r}</Rule>`).join('')}</ServerSideEncryptionConfiguration>`
const apply = (alg: string, kmsKey?: string) =>
  `<ApplyServerSideEncryptionByDefault><SSEAlgorithm>${alg}</SSEAlgorithm>${kmsKey === undefined ? '' : `<KMSMasterKeyID>${kmsKey}</KMSMasterKeyID>`}</ApplyServerSideEncryptionByDefault>`
const blocked = (...types: string[]) =>
  `<BlockedEncryptionTypes>${types.map((t) => `<EncryptionType>${t}</EncryptionType>`).join('')}</BlockedEncryptionTypes>`

const bytesOf = async (res: { Body?: { transformToByteArray(): Promise<Uint8Array> } }) =>
  Buffer.from(await res.Body!.transformToByteArray())

describe('bucket default encryption', () => {
  let srv: TestServer
  /**
   * A customer key of this server, also named by alias/app and alias/x (PutBucketEncryption checks that a key exists).
   */
  let keyId: string

  beforeAll(async () => {
    srv = await startTestServer()
    const kms = kmsClient(srv.endpoint)
    keyId = (await kms.send(new CreateKeyCommand({ Description: 'bucket default encryption e2e' }))).KeyMetadata!.KeyId!
    for (const AliasName of ['alias/app', 'alias/x'])
      await kms.send(new CreateAliasCommand({ AliasName, TargetKeyId: keyId }))
    kms.destroy()
  })
  afterAll(async () => {
    await srv?.close()
  })

  const putEncryption = (
    bucket: string,
    body: string,
    headers: Record<string, string> = { 'content-md5': md5Base64(body) },
  ) => signedSend(srv.port, { method: 'PUT', path: `/${bucket}`, query: { encryption: '' }, headers, body })
  const getEncryption = (bucket: string) =>
    signedSend(srv.port, { method: 'GET', path: `/${bucket}`, query: { encryption: '' } })
  const deleteEncryption = (bucket: string) =>
    signedSend(srv.port, { method: 'DELETE', path: `/${bucket}`, query: { encryption: '' } })

  describe.each(CHECKSUM_MODES)('with requestChecksumCalculation %s', (mode) => {
    let s3: S3Client
    const prefix = mode === 'WHEN_SUPPORTED' ? 'benc-ws' : 'benc-wr'
    let n = 0
    /** A fresh bucket (blocked for SSE-C, as new buckets are by default). */
    const newBucket = async () => {
      const Bucket = `${prefix}-${++n}`
      await s3.send(new CreateBucketCommand({ Bucket }))
      return Bucket
    }
    const rule = async (Bucket: string): Promise<ServerSideEncryptionRule> =>
      (await s3.send(new GetBucketEncryptionCommand({ Bucket }))).ServerSideEncryptionConfiguration!.Rules![0]
    const putRule = (Bucket: string, r: ServerSideEncryptionRule) =>
      s3.send(new PutBucketEncryptionCommand({ Bucket, ServerSideEncryptionConfiguration: { Rules: [r] } }))
    const unblock = (Bucket: string) =>
      putRule(Bucket, {
        ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
        BlockedEncryptionTypes: { EncryptionType: ['NONE'] },
      })

    beforeAll(() => {
      s3 = makeClient(srv.endpoint, { requestChecksumCalculation: mode, maxAttempts: 1 })
    })

    it('BENC-01 BLK-01 GetBucketEncryption of a never-configured bucket answers 200 with AES256, BucketKeyEnabled false and EncryptionType SSE-C (the exact document of §5.3)', async () => {
      const Bucket = await newBucket()
      const res = await getEncryption(Bucket)
      expect(res.status).toBe(200)
      expect(res.headers['content-type']).toBe('application/xml')
      expect(res.text.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n?/, '')).toBe(
        `<ServerSideEncryptionConfiguration xmlns="${NS}"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault>` +
          '<BucketKeyEnabled>false</BucketKeyEnabled><BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes></Rule></ServerSideEncryptionConfiguration>',
      )
      const r = await rule(Bucket)
      expect(r).toEqual({
        ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
        BucketKeyEnabled: false,
        BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] },
      })
    })

    it('BENC-03 Put aws:kms with a bare key UUID and BucketKeyEnabled true answers 200 with an empty body; Get echoes the id verbatim and true', async () => {
      const Bucket = await newBucket()
      const uuid = keyId
      const res = await putEncryption(
        Bucket,
        config(`${apply('aws:kms', uuid)}<BucketKeyEnabled>true</BucketKeyEnabled>`),
      )
      expect([res.status, res.body.length]).toEqual([200, 0])
      expect(await rule(Bucket)).toEqual({
        ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: uuid },
        BucketKeyEnabled: true,
        BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] },
      })
      // Key ids are stored as given, never rewritten to the key ARN (alias names and ARNs too).
      for (const id of ['alias/app', `arn:aws:kms:us-east-1:${ACCOUNT}:alias/app`, keyArnOf(uuid)]) {
        await putRule(Bucket, {
          ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms:dsse', KMSMasterKeyID: id },
        })
        expect((await rule(Bucket)).ApplyServerSideEncryptionByDefault).toEqual({
          SSEAlgorithm: 'aws:kms:dsse',
          KMSMasterKeyID: id,
        })
      }
    })

    it('BENC-04 Put aws:kms without a key id: Get has no KMSMasterKeyID', async () => {
      const Bucket = await newBucket()
      await putRule(Bucket, { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } })
      const r = await rule(Bucket)
      expect(r.ApplyServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'aws:kms' })
      expect(r.BucketKeyEnabled).toBe(false)
    })

    it('BENC-05 Put with zero rules, two rules or a document that is not well-formed answers 400 MalformedXML', async () => {
      const Bucket = await newBucket()
      for (const body of [
        config(),
        config(apply('AES256'), apply('AES256')),
        '<ServerSideEncryptionConfiguration><Rule>',
        'not xml at all',
      ]) {
        expectRawError(await putEncryption(Bucket, body), { status: 400, code: 'MalformedXML', message: MALFORMED })
      }
      // Nothing changed.
      expect((await rule(Bucket)).ApplyServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'AES256' })
    })

    it('BENC-05 values outside the enums answer 400 MalformedXML; aws:fsx and aws:backup answer 400 InvalidArgument (contract-defined, not AWS-verified)', async () => {
      const Bucket = await newBucket()
      for (const body of [
        config(apply('AES512')),
        config(apply('aes256')),
        config(apply('')),
        config(`${apply('AES256')}${blocked('SSE-KMS')}`),
        config(`${apply('AES256')}${blocked('NONE', 'SSE-C')}`),
        config(`${apply('AES256')}${blocked()}`),
      ]) {
        expectRawError(await putEncryption(Bucket, body), { status: 400, code: 'MalformedXML' })
      }
      for (const alg of ['aws:fsx', 'aws:backup']) {
        expectRawError(await putEncryption(Bucket, config(apply(alg))), {
          status: 400,
          code: 'InvalidArgument',
          message: 'The encryption method specified is not supported',
        })
      }
    })

    it('BENC-05 a rule without ApplyServerSideEncryptionByDefault sets AES256 (contract-defined, not AWS-verified)', async () => {
      const Bucket = await newBucket()
      await putRule(Bucket, {
        ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/x' },
      })
      expect((await putEncryption(Bucket, config('<BucketKeyEnabled>true</BucketKeyEnabled>'))).status).toBe(200)
      expect(await rule(Bucket)).toEqual({
        ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
        BucketKeyEnabled: true,
        BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] },
      })
    })

    it('BENC-06 Put AES256 with a KMSMasterKeyID answers 400 InvalidArgument with ArgumentName ApplyServerSideEncryptionByDefault', async () => {
      const Bucket = await newBucket()
      expectRawError(await putEncryption(Bucket, config(apply('AES256', 'alias/app'))), {
        status: 400,
        code: 'InvalidArgument',
        message: 'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse',
        fields: { ArgumentName: 'ApplyServerSideEncryptionByDefault' },
      })
    })

    it('BENC-07 Get, Put (even with an invalid body or no Content-MD5) and Delete on a missing bucket answer 404 NoSuchBucket', async () => {
      const want = {
        status: 404,
        code: 'NoSuchBucket',
        message: 'The specified bucket does not exist',
        fields: { BucketName: `${prefix}-missing` },
      }
      expectRawError(await getEncryption(`${prefix}-missing`), want)
      expectRawError(await putEncryption(`${prefix}-missing`, config(apply('AES256'))), want)
      expectRawError(await putEncryption(`${prefix}-missing`, 'garbage'), want)
      expectRawError(await putEncryption(`${prefix}-missing`, 'garbage', {}), want)
      expectRawError(await deleteEncryption(`${prefix}-missing`), want)
    })

    it('BENC-08 BENC-02 Delete twice answers 204 twice; Get then answers the default AES256 rule, never ServerSideEncryptionConfigurationNotFoundError', async () => {
      const Bucket = await newBucket()
      await putRule(Bucket, {
        ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/app' },
        BucketKeyEnabled: true,
      })
      for (let i = 0; i < 2; i++) {
        const res = await deleteEncryption(Bucket)
        expect([res.status, res.body.length]).toEqual([204, 0])
      }
      const res = await getEncryption(Bucket)
      expect(res.status).toBe(200)
      expect(res.text).not.toContain('ServerSideEncryptionConfigurationNotFoundError')
      expect(await rule(Bucket)).toEqual({
        ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
        BucketKeyEnabled: false,
        BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] },
      })
      // A never-configured bucket's Delete is 204 too (idempotent).
      expect((await deleteEncryption(await newBucket())).status).toBe(204)
    })

    it('BENC-10 SSE-13 Put AES256 with BucketKeyEnabled true is stored and echoed, and objects get no bucket-key header', async () => {
      const Bucket = await newBucket()
      await putRule(Bucket, { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: true })
      expect((await rule(Bucket)).BucketKeyEnabled).toBe(true)
      const put = await signedSend(srv.port, { method: 'PUT', path: `/${Bucket}/o`, body: 'x' })
      expect(put.status).toBe(200)
      expect(put.headers[SSE]).toBe('AES256')
      expect(put.headers['x-amz-server-side-encryption-bucket-key-enabled']).toBeUndefined()
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'o' }))
      expect([head.ServerSideEncryption, head.BucketKeyEnabled]).toEqual(['AES256', undefined])
    })

    it('BENC-11 an explicit AES256 default applies to PutObject, CopyObject destination and CreateMultipartUpload', async () => {
      const Bucket = await newBucket()
      await putRule(Bucket, { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } })
      const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'p', Body: 'test-sse' }))
      expect([put.ServerSideEncryption, put.ETag]).toEqual(['AES256', '"42832cdec7083e70a9cd6f2d5852e004"'])
      expect(
        (await s3.send(new CopyObjectCommand({ Bucket, Key: 'c', CopySource: `${Bucket}/p` }))).ServerSideEncryption,
      ).toBe('AES256')
      const create = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'm' }))
      expect(create.ServerSideEncryption).toBe('AES256')
      const part = await s3.send(
        new UploadPartCommand({ Bucket, Key: 'm', UploadId: create.UploadId, PartNumber: 1, Body: 'x' }),
      )
      expect(part.ServerSideEncryption).toBe('AES256')
    })

    it('SSE-11 §4.4 request headers win over the default: AES256 or an SSE-C trio on a bucket whose default is aws:kms (no KMS involved)', async () => {
      const Bucket = await newBucket()
      await putRule(Bucket, {
        ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/app' },
        BlockedEncryptionTypes: { EncryptionType: ['NONE'] },
      })
      const put = await s3.send(
        new PutObjectCommand({ Bucket, Key: 's3', Body: 'test-sse', ServerSideEncryption: 'AES256' }),
      )
      expect([put.ServerSideEncryption, put.SSEKMSKeyId, put.ETag]).toEqual([
        'AES256',
        undefined,
        '"42832cdec7083e70a9cd6f2d5852e004"',
      ])
      const copy = await s3.send(
        new CopyObjectCommand({ Bucket, Key: 's3-copy', CopySource: `${Bucket}/s3`, ServerSideEncryption: 'AES256' }),
      )
      expect(copy.ServerSideEncryption).toBe('AES256')
      const mpu = await s3.send(
        new CreateMultipartUploadCommand({ Bucket, Key: 's3-mp', ServerSideEncryption: 'AES256' }),
      )
      expect(mpu.ServerSideEncryption).toBe('AES256')
      const c = await s3.send(new PutObjectCommand({ Bucket, Key: 'c', Body: 'test-sse', ...sdkSsec(K1) }))
      expect([c.ServerSideEncryption, c.SSECustomerKeyMD5]).toEqual([undefined, K1.md5])
      const cCopy = await s3.send(
        new CopyObjectCommand({ Bucket, Key: 'c-copy', CopySource: `${Bucket}/s3`, ...sdkSsec(K3) }),
      )
      expect([cCopy.ServerSideEncryption, cCopy.SSECustomerKeyMD5]).toEqual([undefined, K3.md5])
      expect(
        (await bytesOf(await s3.send(new GetObjectCommand({ Bucket, Key: 'c-copy', ...sdkSsec(K3) })))).toString(),
      ).toBe('test-sse')
    })

    it("BENC-12 changing the default after a write leaves the existing object's encryption unchanged", async () => {
      const Bucket = await newBucket()
      await s3.send(new PutObjectCommand({ Bucket, Key: 'old', Body: 'before' }))
      await putRule(Bucket, {
        ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/app' },
        BucketKeyEnabled: true,
      })
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'old' }))
      expect([head.ServerSideEncryption, head.SSEKMSKeyId, head.BucketKeyEnabled]).toEqual([
        'AES256',
        undefined,
        undefined,
      ])
      const get = await s3.send(new GetObjectCommand({ Bucket, Key: 'old' }))
      expect(get.ServerSideEncryption).toBe('AES256')
      expect((await bytesOf(get)).toString()).toBe('before')
    })

    it('BENC-14 Put without Content-MD5 or a checksum header answers 400 InvalidRequest; a CRC32 checksum header alone is enough (contract-defined, not AWS-verified)', async () => {
      const Bucket = await newBucket()
      const body = config(apply('AES256'))
      expectRawError(await putEncryption(Bucket, body, {}), {
        status: 400,
        code: 'InvalidRequest',
        message: 'Missing required header for this request: Content-MD5',
      })
      expect(
        (await putEncryption(Bucket, body, { 'x-amz-checksum-crc32': checksumOf('CRC32', Buffer.from(body)) })).status,
      ).toBe(200)
      expectRawError(await putEncryption(Bucket, body, { 'content-md5': md5Base64('other') }), {
        status: 400,
        code: 'BadDigest',
      })
    })

    it('BLK-02 an SSE-C PutObject on a blocked bucket answers 403 AccessDenied whose message says how to unblock', async () => {
      const Bucket = await newBucket()
      const err = await expectSdkError(s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ...sdkSsec(K1) })), {
        status: 403,
        code: 'AccessDenied',
      })
      expect(err.message).toContain(
        'blocked upload requests that specify Server Side Encryption with Customer provided keys (SSE-C)',
      )
      expect(err.message).toContain('<EncryptionType>NONE</EncryptionType>')
      expect(err.message).toContain('--allow-sse-c-on-new-buckets')
      expect(err.message).not.toContain(K1.b64)
      await expectSdkError(s3.send(new HeadObjectCommand({ Bucket, Key: 'k' })), { status: 404, code: 'NotFound' })
    })

    it('BLK-03 SSE-C CreateMultipartUpload and CopyObject destination on a blocked bucket answer 403 AccessDenied', async () => {
      const Bucket = await newBucket()
      await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'x' }))
      await expectSdkError(s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp', ...sdkSsec(K1) })), {
        status: 403,
        code: 'AccessDenied',
      })
      const copy = await expectSdkError(
        s3.send(new CopyObjectCommand({ Bucket, Key: 'dst', CopySource: `${Bucket}/src`, ...sdkSsec(K1) })),
        { status: 403, code: 'AccessDenied' },
      )
      expect(copy.message).toContain('s3:CopyObject')
    })

    it('BLK-03 an SSE-C upload created before the block can upload no part, copy no part and not complete (403); it can be aborted (contract-defined, not AWS-verified)', async () => {
      const Bucket = await newBucket()
      await unblock(Bucket)
      await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'x' }))
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp', ...sdkSsec(K1) }))
      const p1 = await s3.send(
        new UploadPartCommand({ Bucket, Key: 'mp', UploadId, PartNumber: 1, Body: 'x', ...sdkSsec(K1) }),
      )
      await putRule(Bucket, {
        ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
        BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] },
      })
      await expectSdkError(
        s3.send(new UploadPartCommand({ Bucket, Key: 'mp', UploadId, PartNumber: 2, Body: 'x', ...sdkSsec(K1) })),
        { status: 403, code: 'AccessDenied' },
      )
      await expectSdkError(
        s3.send(
          new UploadPartCopyCommand({
            Bucket,
            Key: 'mp',
            UploadId,
            PartNumber: 2,
            CopySource: `${Bucket}/src`,
            ...sdkSsec(K1),
          }),
        ),
        { status: 403, code: 'AccessDenied' },
      )
      await expectSdkError(
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key: 'mp',
            UploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }] },
          }),
        ),
        {
          status: 403,
          code: 'AccessDenied',
        },
      )
      await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'mp', UploadId }))
    })

    it('BLK-04 unblocking with EncryptionType NONE allows SSE-C writes: PUT, CreateMultipartUpload, UploadPart, Complete, CopyObject', async () => {
      const Bucket = await newBucket()
      await unblock(Bucket)
      expect((await rule(Bucket)).BlockedEncryptionTypes).toEqual({ EncryptionType: ['NONE'] })
      expect(
        (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ...sdkSsec(K1) }))).SSECustomerKeyMD5,
      ).toBe(K1.md5)
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp', ...sdkSsec(K1) }))
      const p1 = await s3.send(
        new UploadPartCommand({ Bucket, Key: 'mp', UploadId, PartNumber: 1, Body: 'y', ...sdkSsec(K1) }),
      )
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: 'mp',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }] },
        }),
      )
      const copy = await s3.send(
        new CopyObjectCommand({ Bucket, Key: 'c', CopySource: `${Bucket}/k`, ...sdkCopySsec(K1), ...sdkSsec(K3) }),
      )
      expect(copy.SSECustomerKeyMD5).toBe(K3.md5)
    })

    it('BLK-05 existing SSE-C objects stay readable with their key while blocked, and copy to non-SSE-C destinations (CopyObject and UploadPartCopy)', async () => {
      const Bucket = await newBucket()
      await unblock(Bucket)
      await s3.send(new PutObjectCommand({ Bucket, Key: 'c', Body: 'test-sse', ...sdkSsec(K1) }))
      await putRule(Bucket, {
        ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
        BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] },
      })
      expect(
        (await bytesOf(await s3.send(new GetObjectCommand({ Bucket, Key: 'c', ...sdkSsec(K1) })))).toString(),
      ).toBe('test-sse')
      expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'c', ...sdkSsec(K1) }))).SSECustomerKeyMD5).toBe(
        K1.md5,
      )
      const copy = await s3.send(
        new CopyObjectCommand({ Bucket, Key: 'plain', CopySource: `${Bucket}/c`, ...sdkCopySsec(K1) }),
      )
      expect([copy.ServerSideEncryption, copy.CopyObjectResult?.ETag]).toEqual(['AES256', `"${md5Hex('test-sse')}"`])
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp' }))
      const part = await s3.send(
        new UploadPartCopyCommand({
          Bucket,
          Key: 'mp',
          UploadId,
          PartNumber: 1,
          CopySource: `${Bucket}/c`,
          ...sdkCopySsec(K1),
        }),
      )
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: 'mp',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult?.ETag }] },
        }),
      )
      expect((await bytesOf(await s3.send(new GetObjectCommand({ Bucket, Key: 'mp' })))).toString()).toBe('test-sse')
      // But an SSE-C destination is blocked even for an SSE-C source, and a self-copy rotation too.
      await expectSdkError(
        s3.send(
          new CopyObjectCommand({ Bucket, Key: 'c2', CopySource: `${Bucket}/c`, ...sdkCopySsec(K1), ...sdkSsec(K3) }),
        ),
        { status: 403, code: 'AccessDenied' },
      )
      await expectSdkError(
        s3.send(
          new CopyObjectCommand({ Bucket, Key: 'c', CopySource: `${Bucket}/c`, ...sdkCopySsec(K1), ...sdkSsec(K3) }),
        ),
        { status: 403, code: 'AccessDenied' },
      )
      expect(
        (await bytesOf(await s3.send(new GetObjectCommand({ Bucket, Key: 'c', ...sdkSsec(K1) })))).toString(),
      ).toBe('test-sse')
    })

    it('BLK-06 a rule without BlockedEncryptionTypes leaves the block as it was (blocked stays blocked, unblocked stays unblocked)', async () => {
      const Bucket = await newBucket()
      await putRule(Bucket, { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: true })
      expect((await rule(Bucket)).BlockedEncryptionTypes).toEqual({ EncryptionType: ['SSE-C'] })
      await expectSdkError(s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ...sdkSsec(K1) })), {
        status: 403,
        code: 'AccessDenied',
      })
      await unblock(Bucket)
      await putRule(Bucket, { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } })
      expect((await rule(Bucket)).BlockedEncryptionTypes).toEqual({ EncryptionType: ['NONE'] })
      expect(
        (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ...sdkSsec(K1) }))).SSECustomerKeyMD5,
      ).toBe(K1.md5)
    })

    it('BLK-06 DeleteBucketEncryption leaves the block setting unchanged (contract-defined, not AWS-verified)', async () => {
      const blockedBucket = await newBucket()
      await putRule(blockedBucket, { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } })
      await s3.send(new DeleteBucketEncryptionCommand({ Bucket: blockedBucket }))
      expect((await rule(blockedBucket)).BlockedEncryptionTypes).toEqual({ EncryptionType: ['SSE-C'] })
      const open = await newBucket()
      await unblock(open)
      await s3.send(new DeleteBucketEncryptionCommand({ Bucket: open }))
      expect(await rule(open)).toEqual({
        ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
        BucketKeyEnabled: false,
        BlockedEncryptionTypes: { EncryptionType: ['NONE'] },
      })
      expect(
        (await s3.send(new PutObjectCommand({ Bucket: open, Key: 'k', Body: 'x', ...sdkSsec(K1) }))).SSECustomerKeyMD5,
      ).toBe(K1.md5)
    })

    it('BLK-07 non-SSE-C writes on a blocked bucket are unaffected (PUT, AES256, copy, multipart)', async () => {
      const Bucket = await newBucket()
      expect((await s3.send(new PutObjectCommand({ Bucket, Key: 'a', Body: 'x' }))).ServerSideEncryption).toBe('AES256')
      expect(
        (await s3.send(new PutObjectCommand({ Bucket, Key: 'b', Body: 'x', ServerSideEncryption: 'AES256' })))
          .ServerSideEncryption,
      ).toBe('AES256')
      expect(
        (await s3.send(new CopyObjectCommand({ Bucket, Key: 'c', CopySource: `${Bucket}/a` }))).ServerSideEncryption,
      ).toBe('AES256')
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'm' }))
      const p = await s3.send(new UploadPartCommand({ Bucket, Key: 'm', UploadId, PartNumber: 1, Body: 'x' }))
      expect(
        (
          await s3.send(
            new CompleteMultipartUploadCommand({
              Bucket,
              Key: 'm',
              UploadId,
              MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] },
            }),
          )
        ).ServerSideEncryption,
      ).toBe('AES256')
    })

    it('BLK-09 on a blocked bucket SSE-C header validation answers first: a bad key MD5 or key length is 400, not 403 (contract-defined, not AWS-verified)', async () => {
      const Bucket = await newBucket()
      await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'x' }))
      const bad = { ...ssecHeaders(K1), [SSE_C_KEY_MD5]: K3.md5 }
      const md5Error = { status: 400, code: 'InvalidArgument', message: MSG.md5Mismatch }
      expectRawError(
        await signedSend(srv.port, { method: 'PUT', path: `/${Bucket}/k`, headers: bad, body: 'x' }),
        md5Error,
      )
      expectRawError(
        await signedSend(srv.port, { method: 'POST', path: `/${Bucket}/k`, query: { uploads: '' }, headers: bad }),
        md5Error,
      )
      expectRawError(
        await signedSend(srv.port, {
          method: 'PUT',
          path: `/${Bucket}/k`,
          headers: { ...bad, 'x-amz-copy-source': `/${Bucket}/src` },
        }),
        md5Error,
      )
      expectRawError(
        await signedSend(srv.port, {
          method: 'PUT',
          path: `/${Bucket}/k`,
          headers: { ...ssecHeaders(K1), [SSE]: 'AES256' },
          body: 'x',
        }),
        {
          status: 400,
          code: 'InvalidArgument',
          message: MSG.incompatible,
        },
      )
      // Well-formed: the block answers.
      expectRawError(
        await signedSend(srv.port, { method: 'PUT', path: `/${Bucket}/k`, headers: ssecHeaders(K1), body: 'x' }),
        { status: 403, code: 'AccessDenied' },
      )
    })

    it('SELF-07 SELF-09 a self-copy without changes is legal while PutBucketEncryption configured the bucket, and illegal again after DeleteBucketEncryption', async () => {
      const Bucket = await newBucket()
      await s3.send(new PutObjectCommand({ Bucket, Key: 'o', Body: 'test-sse' }))
      const selfCopy = () => s3.send(new CopyObjectCommand({ Bucket, Key: 'o', CopySource: `${Bucket}/o` }))
      // The automatic SSE-C block of a new bucket is not an explicit configuration (contract-defined, not
      // AWS-verified).
      await expectSdkError(selfCopy(), { status: 400, code: 'InvalidRequest', message: MSG.selfCopy })
      await putRule(Bucket, { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } })
      const ok = await selfCopy()
      expect([ok.ServerSideEncryption, ok.CopyObjectResult?.ETag]).toEqual(['AES256', `"${md5Hex('test-sse')}"`])
      await s3.send(new DeleteBucketEncryptionCommand({ Bucket }))
      await expectSdkError(selfCopy(), { status: 400, code: 'InvalidRequest', message: MSG.selfCopy })
      // Unblocking SSE-C is a PutBucketEncryption too: the bucket is explicitly configured again (inferred).
      await unblock(Bucket)
      expect((await selfCopy()).ServerSideEncryption).toBe('AES256')
    })
  })

  describe('BLK-08 with --allow-sse-c-on-new-buckets (contract-defined, not AWS-verified)', () => {
    let allow: TestServer
    beforeAll(async () => {
      allow = await startTestServer({ args: ['--allow-sse-c-on-new-buckets'] })
    })
    afterAll(async () => {
      await allow?.close()
    })

    it('BLK-08 new buckets report EncryptionType NONE and accept SSE-C writes', async () => {
      const s3 = makeClient(allow.endpoint, { maxAttempts: 1 })
      await s3.send(new CreateBucketCommand({ Bucket: 'open' }))
      const r = (await s3.send(new GetBucketEncryptionCommand({ Bucket: 'open' }))).ServerSideEncryptionConfiguration!
        .Rules![0]
      expect(r).toEqual({
        ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
        BucketKeyEnabled: false,
        BlockedEncryptionTypes: { EncryptionType: ['NONE'] },
      })
      expect(
        (await s3.send(new PutObjectCommand({ Bucket: 'open', Key: 'k', Body: 'x', ...sdkSsec(K1) })))
          .SSECustomerKeyMD5,
      ).toBe(K1.md5)
      // Blocking it explicitly still works.
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: 'open',
          ServerSideEncryptionConfiguration: {
            Rules: [
              {
                ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
                BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] },
              },
            ],
          },
        }),
      )
      await expectSdkError(s3.send(new PutObjectCommand({ Bucket: 'open', Key: 'k2', Body: 'x', ...sdkSsec(K1) })), {
        status: 403,
        code: 'AccessDenied',
      })
    })
  })

  describe('BENC-11 TLS-02 with --strict-tls a bucket default of aws:kms applies to PutObject, CopyObject and CreateMultipartUpload', () => {
    let strict: TestServer
    beforeAll(async () => {
      strict = await startTestServer({ args: ['--strict-tls'] })
    })
    afterAll(async () => {
      await strict?.close()
    })

    it('all three are refused over plain HTTP as SSE-KMS writes; an explicit AES256 header still writes SSE-S3', async () => {
      const s3 = makeClient(strict.endpoint, { maxAttempts: 1 })
      await s3.send(new CreateBucketCommand({ Bucket: 'kms-default' }))
      await s3.send(new PutObjectCommand({ Bucket: 'kms-default', Key: 'src', Body: 'x' }))
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: 'kms-default',
          ServerSideEncryptionConfiguration: {
            Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }],
          },
        }),
      )
      const want = { status: 400, code: 'InvalidArgument', message: KMS_OVER_HTTP }
      await expectSdkError(s3.send(new PutObjectCommand({ Bucket: 'kms-default', Key: 'k', Body: 'x' })), want)
      await expectSdkError(
        s3.send(new CopyObjectCommand({ Bucket: 'kms-default', Key: 'k', CopySource: 'kms-default/src' })),
        want,
      )
      await expectSdkError(s3.send(new CreateMultipartUploadCommand({ Bucket: 'kms-default', Key: 'k' })), want)
      expect(
        (
          await s3.send(
            new PutObjectCommand({ Bucket: 'kms-default', Key: 'k', Body: 'x', ServerSideEncryption: 'AES256' }),
          )
        ).ServerSideEncryption,
      ).toBe('AES256')
    })
  })

  describe('BENC-09 PutBucketEncryption refuses a default KMS key that the KMS does not know (embedded KMS)', () => {
    let fresh: TestServer
    beforeAll(async () => {
      fresh = await startTestServer()
    })
    afterAll(async () => {
      await fresh?.close()
    })
    const put = (bucket: string, body: string) =>
      signedSend(fresh.port, {
        method: 'PUT',
        path: `/${bucket}`,
        query: { encryption: '' },
        headers: { 'content-md5': md5Base64(body) },
        body,
      })
    const stored = async (bucket: string) =>
      (await signedSend(fresh.port, { method: 'GET', path: `/${bucket}`, query: { encryption: '' } })).text

    it('alias/aws/s3, not created yet, is accepted (created on first use, by name or alias ARN); the first SSE-KMS write then uses it', async () => {
      const s3 = makeClient(fresh.endpoint, { maxAttempts: 1 })
      const kms = kmsClient(fresh.endpoint)
      try {
        await s3.send(new CreateBucketCommand({ Bucket: 'lazy' }))
        expect((await kms.send(new ListAliasesCommand({}))).Aliases?.map((a) => a.AliasName)).not.toContain(
          'alias/aws/s3',
        )
        for (const id of ['alias/aws/s3', `arn:aws:kms:us-east-1:${ACCOUNT}:alias/aws/s3`]) {
          expect((await put('lazy', config(apply('aws:kms', id)))).status).toBe(200)
        }
        const obj = await s3.send(new PutObjectCommand({ Bucket: 'lazy', Key: 'o', Body: 'x' }))
        const managed = (await kms.send(new ListAliasesCommand({}))).Aliases?.find(
          (a) => a.AliasName === 'alias/aws/s3',
        )
        expect(obj).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArnOf(managed!.TargetKeyId!) })
      } finally {
        s3.destroy()
        kms.destroy()
      }
    })

    it('a malformed id, an unknown key id or key ARN, an unknown alias and an ARN of another region answer 400 KMS.NotFoundException with the KMS message; the rule is unchanged', async () => {
      const s3 = makeClient(fresh.endpoint, { maxAttempts: 1 })
      await s3.send(new CreateBucketCommand({ Bucket: 'checked' }))
      s3.destroy()
      const before = await stored('checked')
      const unknown = '134f2428-cec1-4b25-a1ae-9048164dba47'
      const cases: Array<[string, string]> = [
        ['fake-key-id', "Invalid keyId 'fake-key-id'"],
        [unknown, `Key '${keyArnOf(unknown)}' does not exist`],
        [keyArnOf(unknown), `Key '${keyArnOf(unknown)}' does not exist`],
        ['alias/nope', `Alias arn:aws:kms:us-east-1:${ACCOUNT}:alias/nope is not found.`],
        [keyArnOf(unknown, 'eu-west-1'), 'Invalid arn eu-west-1'],
      ]
      for (const [id, message] of cases) {
        for (const alg of ['aws:kms', 'aws:kms:dsse']) {
          expectRawError(await put('checked', config(apply(alg, id))), {
            status: 400,
            code: 'KMS.NotFoundException',
            message,
          })
        }
      }
      expect(await stored('checked')).toBe(before)
    })

    it('an existing key (id, ARN, alias, alias ARN) is accepted, disabled or not; a key ARN of another account is accepted unchecked', async () => {
      const s3 = makeClient(fresh.endpoint, { maxAttempts: 1 })
      const kms = kmsClient(fresh.endpoint)
      try {
        await s3.send(new CreateBucketCommand({ Bucket: 'existing' }))
        const id = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!
        await kms.send(new CreateAliasCommand({ AliasName: 'alias/here', TargetKeyId: id }))
        for (const ref of [
          id,
          keyArnOf(id),
          'alias/here',
          `arn:aws:kms:us-east-1:${ACCOUNT}:alias/here`,
          keyArnOf(id, 'us-east-1', '111122223333'),
        ]) {
          expect((await put('existing', config(apply('aws:kms', ref)))).status).toBe(200)
          expect(await stored('existing')).toContain(`<KMSMasterKeyID>${ref}</KMSMasterKeyID>`)
        }
      } finally {
        s3.destroy()
        kms.destroy()
      }
    })
  })

  describe('PutBucketEncryption with an external KMS that cannot be reached', () => {
    let down: TestServer
    beforeAll(async () => {
      down = await startTestServer({ args: ['--kms-endpoint', `http://127.0.0.1:${await freePort()}`] })
    })
    afterAll(async () => {
      await down?.close()
    })

    it('answers 503 ServiceUnavailable for a key it would have to check (never a silent success, never "not found"); alias/aws/s3 and AES256 still answer 200', async () => {
      const put = (body: string) =>
        signedSend(down.port, {
          method: 'PUT',
          path: '/unchecked',
          query: { encryption: '' },
          headers: { 'content-md5': md5Base64(body) },
          body,
        })
      expect((await signedSend(down.port, { method: 'PUT', path: '/unchecked' })).status).toBe(200)
      expectRawError(await put(config(apply('aws:kms', 'alias/app'))), { status: 503, code: 'ServiceUnavailable' })
      const rule = await signedSend(down.port, { method: 'GET', path: '/unchecked', query: { encryption: '' } })
      expect(rule.text).toContain('<SSEAlgorithm>AES256</SSEAlgorithm>')
      expect((await put(config(apply('aws:kms', 'alias/aws/s3')))).status).toBe(200)
      expect((await put(config(apply('AES256')))).status).toBe(200)
    }, 60_000)
  })
})
