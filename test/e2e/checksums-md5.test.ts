/**
 * @module E2E: Content-MD5, x-amz-checksum-* headers and trailers, ETags of single PUTs (docs/s3-sse-rules.md §3.16,
 * §3.17, §8.10 MD5/CKS/ETAG).
 */
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { beforeAll, describe, expect, it } from 'vitest'
import { expectRawError, expectSdkError, expectSdkHeadError } from '../support/expect-s3.js'
import { md5Base64, md5Hex, signedSend } from '../support/raw-s3.js'
import { CHECKSUM_MODES, makeClient, withServer } from '../support/server.js'

const INVALID_DIGEST = 'The Content-MD5 you specified was invalid.'
const BAD_DIGEST = 'The Content-MD5 you specified did not match what we received.'
const b64 = (alg: string, data: string | Buffer) => createHash(alg).update(data).digest('base64')

describe('Content-MD5 and checksums', () => {
  const srv = withServer()

  describe.each(CHECKSUM_MODES)('with requestChecksumCalculation %s', (mode) => {
    let s3: S3Client
    const bucket = mode === 'WHEN_SUPPORTED' ? 'cks-ws' : 'cks-wr'
    const head = (key: string) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))

    beforeAll(async () => {
      s3 = makeClient(srv.endpoint, { requestChecksumCalculation: mode, maxAttempts: 1 })
      await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    })

    it('MD5-01 a correct Content-MD5 is accepted', async () => {
      const out = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'md5-01', Body: 'test', ContentMD5: md5Base64('test') }),
      )
      expect(out.ETag).toBe('"098f6bcd4621d373cade4e832627b4f6"')
    })

    it.each(['MTIz', '__invalid__', ''])(
      'MD5-02 Content-MD5 %j answers 400 InvalidDigest with Content-MD5',
      async (value) => {
        const res = await signedSend(srv.port, {
          method: 'PUT',
          path: `/${bucket}/md5-02`,
          headers: { 'content-md5': value },
          body: 'test',
        })
        expectRawError(res, {
          status: 400,
          code: 'InvalidDigest',
          message: INVALID_DIGEST,
          fields: { 'Content-MD5': value },
        })
      },
    )

    it('MD5-02 through the SDK: a 3-byte Content-MD5 answers 400 InvalidDigest', async () => {
      await expectSdkError(
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5-02', Body: 'test', ContentMD5: 'MTIz' })),
        {
          status: 400,
          code: 'InvalidDigest',
          message: INVALID_DIGEST,
        },
      )
      await expectSdkHeadError(head('md5-02'), 404)
    })

    it('MD5-03 a Content-MD5 of another body answers 400 BadDigest with ExpectedDigest (hex) and CalculatedDigest (base64); nothing is stored', async () => {
      await expectSdkError(
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5-03', Body: 'test', ContentMD5: md5Base64('other') })),
        {
          status: 400,
          code: 'BadDigest',
          message: BAD_DIGEST,
          fields: { ExpectedDigest: md5Hex('other'), CalculatedDigest: md5Base64('test') },
        },
      )
      await expectSdkHeadError(head('md5-03'), 404)
    })

    it('MD5-03 a failed PutObject leaves the previous object intact', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5-keep', Body: 'original' }))
      await expectSdkError(
        s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: 'md5-keep', Body: 'replacement', ContentMD5: md5Base64('nope') }),
        ),
        {
          status: 400,
          code: 'BadDigest',
        },
      )
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'md5-keep' }))
      expect(await got.Body!.transformToString()).toBe('original')
    })

    it('MD5-04 UploadPart checks Content-MD5 like PutObject: InvalidDigest, and BadDigest with the base64 ExpectedDigest as sent', async () => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'md5-04' }))
      const path = `/${bucket}/md5-04`
      const query = { partNumber: '1', uploadId: UploadId! }
      expectRawError(
        await signedSend(srv.port, { method: 'PUT', path, query, headers: { 'content-md5': 'MTIz' }, body: 'part' }),
        {
          status: 400,
          code: 'InvalidDigest',
          message: INVALID_DIGEST,
          fields: { 'Content-MD5': 'MTIz' },
        },
      )
      await expectSdkError(
        s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: 'md5-04',
            UploadId,
            PartNumber: 1,
            Body: 'part',
            ContentMD5: md5Base64('trap'),
          }),
        ),
        {
          status: 400,
          code: 'BadDigest',
          message: BAD_DIGEST,
          fields: { ExpectedDigest: md5Base64('trap'), CalculatedDigest: md5Base64('part') },
        },
      )
      const ok = await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: 'md5-04',
          UploadId,
          PartNumber: 1,
          Body: 'part',
          ContentMD5: md5Base64('part'),
        }),
      )
      expect(ok.ETag).toBe(`"${md5Hex('part')}"`)
    })

    it('CKS-01 x-amz-checksum-crc32 DUoRhQ== with hello world is accepted, echoed, with x-amz-checksum-type FULL_OBJECT', async () => {
      const out = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'cks-01', Body: 'hello world', ChecksumCRC32: 'DUoRhQ==' }),
      )
      expect(out.ChecksumCRC32).toBe('DUoRhQ==')
      expect(out.ChecksumType).toBe('FULL_OBJECT')
      const res = await signedSend(srv.port, {
        method: 'PUT',
        path: `/${bucket}/cks-01-raw`,
        headers: { 'x-amz-checksum-crc32': 'DUoRhQ==' },
        body: 'hello world',
      })
      expect(res.status).toBe(200)
      expect(res.headers['x-amz-checksum-crc32']).toBe('DUoRhQ==')
      expect(res.headers['x-amz-checksum-type']).toBe('FULL_OBJECT')
    })

    it('CKS-03 a well-formed but wrong CRC32 answers 400 BadDigest (The CRC32 you specified did not match…) and stores nothing', async () => {
      await expectSdkError(
        s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: 'cks-03', Body: 'hello world', ChecksumCRC32: 'AAAAAA==' }),
        ),
        {
          status: 400,
          code: 'BadDigest',
          message: 'The CRC32 you specified did not match the calculated checksum.',
        },
      )
      await expectSdkHeadError(head('cks-03'), 404)
    })

    it.each([
      ['SHA256', 'ChecksumSHA256', b64('sha256', 'hello world')],
      ['SHA1', 'ChecksumSHA1', b64('sha1', 'hello world')],
      ['CRC32', 'ChecksumCRC32', 'DUoRhQ=='],
    ] as const)(
      'a PutObject with ChecksumAlgorithm %s stores and returns that checksum of the plaintext',
      async (alg, field, value) => {
        const key = `alg-${alg}`
        const out = await s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'hello world', ChecksumAlgorithm: alg }),
        )
        expect(out[field]).toBe(value)
        const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }))
        expect(h[field]).toBe(value)
        expect(h.ChecksumType).toBe('FULL_OBJECT')
      },
    )

    it('a CRC32C checksum of 66560 × a is sOO8/Q==', async () => {
      const body = Buffer.alloc(66560, 'a')
      const out = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'crc32c', Body: body, ChecksumAlgorithm: 'CRC32C' }),
      )
      expect(out.ChecksumCRC32C).toBe('sOO8/Q==')
    })

    it('a streamed body (aws-chunked with a trailer in WHEN_SUPPORTED) is stored byte-exact with its checksum', async () => {
      const data = randomBytes(300_000)
      const out = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'streamed',
          Body: Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]),
          ContentLength: data.length,
        }),
      )
      expect(out.ETag).toBe(`"${md5Hex(data)}"`)
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'streamed', ChecksumMode: 'ENABLED' }))
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true)
      expect(got.ContentEncoding).toBeUndefined()
      if (mode === 'WHEN_SUPPORTED') expect(got.ChecksumCRC32).toBe(out.ChecksumCRC32)
    })

    it('ETAG-01 a single SSE-S3 PutObject has the MD5 of the plaintext as ETag, quoted lowercase hex', async () => {
      const data = randomBytes(12345)
      const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'etag-01', Body: data }))
      expect(out.ETag).toBe(`"${md5Hex(data)}"`)
      expect(out.ETag).toMatch(/^"[0-9a-f]{32}"$/)
      expect((await head('etag-01')).ETag).toBe(out.ETag)
    })
  })

  describe('raw HTTP', () => {
    const bucket = 'cks-raw'
    const put = (key: string, headers: Record<string, string>, body: string) =>
      signedSend(srv.port, { method: 'PUT', path: `/${bucket}/${key}`, headers, body })
    beforeAll(async () => {
      await makeClient(srv.endpoint).send(new CreateBucketCommand({ Bucket: bucket }))
    })

    it.each(['xyz', 'AAAA', 'DUoRhQ', 'DUoRhQ==DUoRhQ=='])(
      'CKS-02 x-amz-checksum-crc32: %s answers 400 InvalidRequest (header is invalid)',
      async (value) => {
        expectRawError(await put('cks-02', { 'x-amz-checksum-crc32': value }, 'hello world'), {
          status: 400,
          code: 'InvalidRequest',
          message: 'Value for x-amz-checksum-crc32 header is invalid.',
        })
      },
    )

    it('CKS-02 an invalid x-amz-checksum-sha256 names its own header', async () => {
      expectRawError(await put('cks-02', { 'x-amz-checksum-sha256': 'short' }, 'hello world'), {
        status: 400,
        code: 'InvalidRequest',
        message: 'Value for x-amz-checksum-sha256 header is invalid.',
      })
    })

    it('CKS-03 a wrong SHA256 answers 400 BadDigest naming SHA256', async () => {
      expectRawError(await put('cks-03', { 'x-amz-checksum-sha256': b64('sha256', 'other') }, 'hello world'), {
        status: 400,
        code: 'BadDigest',
        message: 'The SHA256 you specified did not match the calculated checksum.',
      })
    })

    it('CKS-04 two different checksum headers answer 400 InvalidRequest (Expecting a single x-amz-checksum- header)', async () => {
      expectRawError(
        await put(
          'cks-04',
          { 'x-amz-checksum-crc32': 'DUoRhQ==', 'x-amz-checksum-sha1': b64('sha1', 'hello world') },
          'hello world',
        ),
        {
          status: 400,
          code: 'InvalidRequest',
          message: 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
        },
      )
    })

    it('CKS-05 with no checksum sent, GET with x-amz-checksum-mode: ENABLED answers x-amz-checksum-crc64nvme', async () => {
      expect((await put('cks-05', {}, 'test data..')).status).toBe(200)
      const res = await signedSend(srv.port, {
        method: 'GET',
        path: `/${bucket}/cks-05`,
        headers: { 'x-amz-checksum-mode': 'ENABLED' },
      })
      expect(res.headers['x-amz-checksum-crc64nvme']).toBe('qUVrWYOrIAM=')
      expect(res.headers['x-amz-checksum-type']).toBe('FULL_OBJECT')
      const h = await signedSend(srv.port, {
        method: 'HEAD',
        path: `/${bucket}/cks-05`,
        headers: { 'x-amz-checksum-mode': 'ENABLED' },
      })
      expect(h.headers['x-amz-checksum-crc64nvme']).toBe('qUVrWYOrIAM=')
      const sdk = await makeClient(srv.endpoint).send(
        new GetObjectCommand({ Bucket: bucket, Key: 'cks-05', ChecksumMode: 'ENABLED' }),
      )
      expect(sdk.ChecksumCRC64NVME).toBe('qUVrWYOrIAM=')
      expect(await sdk.Body!.transformToString()).toBe('test data..')
    })

    it('CKS-06 GET and HEAD without checksum mode answer no checksum headers', async () => {
      await put('cks-06', { 'x-amz-checksum-crc32': 'DUoRhQ==' }, 'hello world')
      for (const method of ['GET', 'HEAD']) {
        const res = await signedSend(srv.port, { method, path: `/${bucket}/cks-06` })
        expect(Object.keys(res.headers).filter((h) => h.startsWith('x-amz-checksum'))).toEqual([])
      }
    })

    it('a ranged GET with checksum mode answers no whole-object checksum (inferred)', async () => {
      await put('cks-range', {}, 'test data..')
      const res = await signedSend(srv.port, {
        method: 'GET',
        path: `/${bucket}/cks-range`,
        headers: { 'x-amz-checksum-mode': 'ENABLED', range: 'bytes=0-3' },
      })
      expect(res.status).toBe(206)
      expect(res.headers['x-amz-checksum-crc64nvme']).toBeUndefined()
    })

    it('CKS-08 x-amz-checksum-algorithm XXHASH64 on CreateMultipartUpload answers 400 InvalidRequest (contract-defined, not AWS-verified)', async () => {
      const res = await signedSend(srv.port, {
        method: 'POST',
        path: `/${bucket}/cks-08`,
        query: { uploads: '' },
        headers: { 'x-amz-checksum-algorithm': 'XXHASH64' },
      })
      expectRawError(res, {
        status: 400,
        code: 'InvalidRequest',
        message:
          'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]',
      })
    })

    it('an x-amz-checksum-xxhash64 header on PutObject answers 400 InvalidRequest (contract-defined, not AWS-verified)', async () => {
      const res = await put('xx', { 'x-amz-checksum-xxhash64': 'AAAAAAAAAAA=' }, 'hello world')
      expectRawError(res, { status: 400, code: 'InvalidRequest' })
    })

    it('Content-MD5 and a checksum header are both checked: a right MD5 with a wrong CRC32 answers BadDigest for CRC32', async () => {
      const res = await put(
        'both',
        { 'content-md5': md5Base64('hello world'), 'x-amz-checksum-crc32': 'AAAAAA==' },
        'hello world',
      )
      expectRawError(res, {
        status: 400,
        code: 'BadDigest',
        message: 'The CRC32 you specified did not match the calculated checksum.',
      })
    })
  })
})
