/**
 * @module E2E: SSE-S3 — response headers per operation, header validation, and plaintext never at rest
 * (docs/s3-sse-rules.md §4.1–§4.5, §4.7, §8.11 SSE, §8.18 REST-01).
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { randomBytes } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { expectRawError, expectSdkError } from '../support/expect-s3.js'
import { signedSend, type RawRequest } from '../support/raw-s3.js'
import { CHECKSUM_MODES, makeClient, withServer } from '../support/server.js'

const SSE = 'x-amz-server-side-encryption'
const KMS_KEY_ID = 'x-amz-server-side-encryption-aws-kms-key-id'
const NOT_SUPPORTED_METHOD = 'The encryption method specified is not supported'
const E1 = 'x-amz-server-side-encryption header is not supported for this operation.'
const E2 = 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms'

/** Every regular file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...(await filesUnder(p)))
    else if (e.isFile()) out.push(p)
  }
  return out
}

describe('SSE-S3', () => {
  const srv = withServer()

  describe.each(CHECKSUM_MODES)('with requestChecksumCalculation %s', (mode) => {
    let s3: S3Client
    const bucket = mode === 'WHEN_SUPPORTED' ? 'sse-ws' : 'sse-wr'

    beforeAll(async () => {
      s3 = makeClient(srv.endpoint, { requestChecksumCalculation: mode, maxAttempts: 1 })
      await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    })

    it('SSE-01 without SSE headers on a never-configured bucket, PUT, GET, HEAD, Copy, Create, UploadPart, UploadPartCopy and Complete answer AES256', async () => {
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sse-01', Body: 'test-sse' }))
      expect(put.ServerSideEncryption).toBe('AES256')
      const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sse-01' }))
      expect(get.ServerSideEncryption).toBe('AES256')
      expect(await get.Body!.transformToString()).toBe('test-sse')
      expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sse-01' }))).ServerSideEncryption).toBe(
        'AES256',
      )
      expect(
        (await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'sse-01-copy', CopySource: `${bucket}/sse-01` })))
          .ServerSideEncryption,
      ).toBe('AES256')
      const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'sse-01-mp' }))
      expect(create.ServerSideEncryption).toBe('AES256')
      const up = await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: 'sse-01-mp',
          UploadId: create.UploadId,
          PartNumber: 1,
          Body: Buffer.alloc(5 * 1024 * 1024, 7),
        }),
      )
      expect(up.ServerSideEncryption).toBe('AES256')
      const upc = await s3.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: 'sse-01-mp',
          UploadId: create.UploadId,
          PartNumber: 2,
          CopySource: `${bucket}/sse-01`,
        }),
      )
      expect(upc.ServerSideEncryption).toBe('AES256')
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'sse-01-mp',
          UploadId: create.UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: up.ETag },
              { PartNumber: 2, ETag: upc.CopyPartResult?.ETag },
            ],
          },
        }),
      )
      expect(done.ServerSideEncryption).toBe('AES256')
      expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sse-01-mp' }))).ServerSideEncryption).toBe(
        'AES256',
      )
    })

    it('SSE-02 x-amz-server-side-encryption: AES256 answers as SSE-01 on PUT, Copy and Create', async () => {
      const put = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'sse-02', Body: 'test-sse', ServerSideEncryption: 'AES256' }),
      )
      expect(put.ServerSideEncryption).toBe('AES256')
      expect(put.ETag).toBe('"42832cdec7083e70a9cd6f2d5852e004"')
      const copy = await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'sse-02-copy',
          CopySource: `${bucket}/sse-02`,
          ServerSideEncryption: 'AES256',
        }),
      )
      expect(copy.ServerSideEncryption).toBe('AES256')
      const create = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'sse-02-mp', ServerSideEncryption: 'AES256' }),
      )
      expect(create.ServerSideEncryption).toBe('AES256')
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sse-02' }))
      expect(head.ServerSideEncryption).toBe('AES256')
    })

    it('SSE-05 a KMS key id header without an SSE header answers 400 InvalidArgument (requires aws:kms)', async () => {
      await expectSdkError(
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sse-05', Body: 'x', SSEKMSKeyId: 'alias/whatever' })),
        {
          status: 400,
          code: 'InvalidArgument',
          message: E2,
          fields: { ArgumentName: SSE },
        },
      )
    })

    it('SSE-06 AES256 with a KMS key id header answers 400 InvalidArgument (contract-defined, not AWS-verified)', async () => {
      await expectSdkError(
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: 'sse-06',
            Body: 'x',
            ServerSideEncryption: 'AES256',
            SSEKMSKeyId: 'alias/whatever',
          }),
        ),
        {
          status: 400,
          code: 'InvalidArgument',
          message: E2,
        },
      )
    })

    it('SSE-13 a bucket-key header with AES256 is ignored and no bucket-key header is answered (contract-defined, not AWS-verified)', async () => {
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'sse-13',
          Body: 'x',
          ServerSideEncryption: 'AES256',
          BucketKeyEnabled: true,
        }),
      )
      expect(put.ServerSideEncryption).toBe('AES256')
      expect(put.BucketKeyEnabled).toBeUndefined()
    })

    it('REST-01 a random marker written by PUT, multipart and copy appears in no file of the data directory', async () => {
      const marker = randomBytes(64)
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'rest/put', Body: Buffer.concat([marker, marker]) }))
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'rest/mp' }))
      const part = await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: 'rest/mp', UploadId, PartNumber: 1, Body: marker }),
      )
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'rest/mp',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      )
      await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'rest/copy', CopySource: `${bucket}/rest/put` }))
      const half = marker.subarray(0, 32)
      for (const f of await filesUnder(srv.dataDir)) {
        const bytes = await readFile(f)
        expect(bytes.includes(half), f).toBe(false)
        expect(bytes.includes(Buffer.from(marker.toString('hex'))), f).toBe(false)
        expect(bytes.includes(Buffer.from(marker.toString('base64'))), f).toBe(false)
      }
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rest/copy' }))
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([marker, marker]))).toBe(true)
    })
  })

  describe('raw HTTP', () => {
    const bucket = 'sse-raw'
    let uploadId: string
    const put = (headers: Record<string, string>, key = 'obj'): RawRequest => ({
      method: 'PUT',
      path: `/${bucket}/${key}`,
      headers,
      body: 'x',
    })

    beforeAll(async () => {
      const s3 = makeClient(srv.endpoint)
      await s3.send(new CreateBucketCommand({ Bucket: bucket }))
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'obj', Body: 'existing' }))
      uploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }))).UploadId!
    })

    it('SSE-03 an empty x-amz-server-side-encryption answers 400 InvalidArgument with ArgumentName and an empty ArgumentValue', async () => {
      const e = expectRawError(await signedSend(srv.port, put({ [SSE]: '' })), {
        status: 400,
        code: 'InvalidArgument',
        message: NOT_SUPPORTED_METHOD,
        fields: { ArgumentName: SSE },
      })
      expect(e.ArgumentValue ?? '').toBe('')
    })

    it.each(['aes256', 'AES512', 'aes:kms', 'aws:fsx', 'aws:backup', 'AES-256'])(
      'SSE-04 SSE-12 x-amz-server-side-encryption %j answers 400 InvalidArgument (contract-defined, not AWS-verified)',
      async (value) => {
        const res = await signedSend(srv.port, put({ [SSE]: value }))
        expectRawError(res, {
          status: 400,
          code: 'InvalidArgument',
          message: NOT_SUPPORTED_METHOD,
          fields: { ArgumentName: SSE },
        })
      },
    )

    it('SSE-03 an invalid SSE value is refused on CopyObject and CreateMultipartUpload too', async () => {
      expectRawError(
        await signedSend(srv.port, {
          method: 'PUT',
          path: `/${bucket}/copy-dst`,
          headers: { [SSE]: 'AES512', 'x-amz-copy-source': `${bucket}/obj` },
        }),
        {
          status: 400,
          code: 'InvalidArgument',
          message: NOT_SUPPORTED_METHOD,
        },
      )
      expectRawError(
        await signedSend(srv.port, {
          method: 'POST',
          path: `/${bucket}/mp2`,
          query: { uploads: '' },
          headers: { [SSE]: '' },
        }),
        {
          status: 400,
          code: 'InvalidArgument',
          message: NOT_SUPPORTED_METHOD,
        },
      )
    })

    it('SSE-05 a KMS key id on CreateMultipartUpload without an SSE header answers 400 InvalidArgument', async () => {
      expectRawError(
        await signedSend(srv.port, {
          method: 'POST',
          path: `/${bucket}/mp3`,
          query: { uploads: '' },
          headers: { [KMS_KEY_ID]: 'k' },
        }),
        {
          status: 400,
          code: 'InvalidArgument',
          message: E2,
        },
      )
    })

    it('SSE-07 x-amz-server-side-encryption on GetObject answers 400 InvalidArgument (not supported for this operation); on HeadObject 400 without a body', async () => {
      expectRawError(
        await signedSend(srv.port, { method: 'GET', path: `/${bucket}/obj`, headers: { [SSE]: 'AES256' } }),
        {
          status: 400,
          code: 'InvalidArgument',
          message: E1,
          fields: { ArgumentName: SSE, ArgumentValue: 'AES256' },
        },
      )
      const head = await signedSend(srv.port, { method: 'HEAD', path: `/${bucket}/obj`, headers: { [SSE]: 'AES256' } })
      expect([head.status, head.body.length]).toEqual([400, 0])
    })

    it('SSE-08 x-amz-server-side-encryption on UploadPart answers 400 InvalidArgument (contract-defined, not AWS-verified)', async () => {
      const res = await signedSend(srv.port, {
        method: 'PUT',
        path: `/${bucket}/mp`,
        query: { partNumber: '1', uploadId },
        headers: { [SSE]: 'AES256' },
        body: 'x',
      })
      expectRawError(res, { status: 400, code: 'InvalidArgument', message: E1, fields: { ArgumentName: SSE } })
      const copy = await signedSend(srv.port, {
        method: 'PUT',
        path: `/${bucket}/mp`,
        query: { partNumber: '1', uploadId },
        headers: { [SSE]: 'AES256', 'x-amz-copy-source': `${bucket}/obj` },
      })
      expectRawError(copy, { status: 400, code: 'InvalidArgument', message: E1 })
    })

    it('SSE-09 an encryption-context header on GetObject answers 400 InvalidArgument (contract-defined, not AWS-verified)', async () => {
      const res = await signedSend(srv.port, {
        method: 'GET',
        path: `/${bucket}/obj`,
        headers: { 'x-amz-server-side-encryption-context': 'e30=' },
      })
      expectRawError(res, {
        status: 400,
        code: 'InvalidArgument',
        fields: { ArgumentName: 'x-amz-server-side-encryption-context' },
      })
    })

    it('SSE-10 a KMS key id header on GetObject answers 400 InvalidArgument E2 (contract-defined, not AWS-verified)', async () => {
      expectRawError(
        await signedSend(srv.port, { method: 'GET', path: `/${bucket}/obj`, headers: { [KMS_KEY_ID]: 'k' } }),
        {
          status: 400,
          code: 'InvalidArgument',
          message: E2,
        },
      )
    })

    it('SSE-14 error answers carry no SSE headers (contract-defined, not AWS-verified)', async () => {
      for (const res of [
        await signedSend(srv.port, { method: 'GET', path: `/${bucket}/missing` }),
        await signedSend(srv.port, put({ [SSE]: 'bogus' })),
        await signedSend(srv.port, put({ 'content-md5': 'MTIz' })),
      ]) {
        expect(res.status).toBeGreaterThanOrEqual(400)
        expect(Object.keys(res.headers).filter((h) => h.startsWith(SSE))).toEqual([])
      }
    })

    it('ListParts, listings, DeleteObject and 304 answers carry no SSE headers', async () => {
      for (const res of [
        await signedSend(srv.port, { method: 'GET', path: `/${bucket}/mp`, query: { uploadId } }),
        await signedSend(srv.port, { method: 'GET', path: `/${bucket}`, query: { 'list-type': '2' } }),
        await signedSend(srv.port, { method: 'DELETE', path: `/${bucket}/gone` }),
        await signedSend(srv.port, { method: 'GET', path: `/${bucket}/obj`, headers: { 'if-none-match': '*' } }),
      ]) {
        expect(res.status).toBeLessThan(400)
        expect(Object.keys(res.headers).filter((h) => h.startsWith(SSE))).toEqual([])
      }
    })
  })
})
