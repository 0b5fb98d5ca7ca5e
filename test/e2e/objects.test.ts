/**
 * @module E2E: PutObject, GetObject, HeadObject, DeleteObject and user metadata (docs/s3-sse-rules.md §3.7–§3.10,
 * §3.15, §8.6, §8.10 META).
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  CreateBucketCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { randomBytes } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { expectRawError, expectSdkError, expectSdkHeadError } from '../support/expect-s3.js'
import { encodeKeyPath, requestHead, sendBytes, signRequest, signedSend } from '../support/raw-s3.js'
import { CHECKSUM_MODES, makeClient, withServer } from '../support/server.js'

const TEST_SSE_MD5 = '42832cdec7083e70a9cd6f2d5852e004'

describe('objects', () => {
  const srv = withServer()

  describe.each(CHECKSUM_MODES)('with requestChecksumCalculation %s', (mode) => {
    let s3: S3Client
    const bucket = mode === 'WHEN_SUPPORTED' ? 'objects-ws' : 'objects-wr'

    beforeAll(async () => {
      s3 = makeClient(srv.endpoint, { requestChecksumCalculation: mode, maxAttempts: 1 })
      await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    })

    it('PUT-01 PutObject of test-sse without SSE headers answers the MD5 ETag, AES256 and a FULL_OBJECT checksum', async () => {
      const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'put-01', Body: 'test-sse' }))
      expect(out.ETag).toBe(`"${TEST_SSE_MD5}"`)
      expect(out.ServerSideEncryption).toBe('AES256')
      expect(out.ChecksumType).toBe('FULL_OBJECT')
      // The SDK sends CRC32 when it computes a checksum; otherwise the store computes CRC64NVME (§3.16).
      if (mode === 'WHEN_SUPPORTED') expect(out.ChecksumCRC32).toBe('KHcEKQ==')
      else expect(out.ChecksumCRC64NVME).toBe('Kr7StX/uFlQ=')
    })

    it('PutObject and GetObject round-trip 1 MiB of random bytes and an empty object byte-exact', async () => {
      const data = randomBytes(1024 * 1024 + 17)
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bin/random', Body: data }))
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'bin/random' }))
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true)
      expect(got.ContentLength).toBe(data.length)

      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bin/empty', Body: '' }))
      const empty = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'bin/empty' }))
      expect((await empty.Body!.transformToByteArray()).length).toBe(0)
      expect(empty.ETag).toBe('"d41d8cd98f00b204e9800998ecf8427e"')
    })

    it('PUT-02 overwriting a key with different metadata drops the old metadata', async () => {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'put-02',
          Body: 'one',
          ContentType: 'text/plain',
          CacheControl: 'no-cache',
          Metadata: { a: '1', b: '2' },
        }),
      )
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'put-02',
          Body: 'two',
          ContentType: 'text/csv',
          Metadata: { c: '3' },
        }),
      )
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'put-02' }))
      expect(head.Metadata).toEqual({ c: '3' })
      expect(head.ContentType).toBe('text/csv')
      expect(head.CacheControl).toBeUndefined()
      expect(head.ContentLength).toBe(3)
    })

    it('PUT-03 an object stored without Content-Type is served as binary/octet-stream', async () => {
      // Raw, so that no client adds a Content-Type of its own.
      const res = await signedSend(srv.port, { method: 'PUT', path: `/${bucket}/put-03`, body: 'abc' })
      expect(res.status).toBe(200)
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'put-03' }))
      expect(got.ContentType).toBe('binary/octet-stream')
    })

    it('PUT-04 a key of 1025 bytes answers 400 KeyTooLongError with MaxSizeAllowed 1024 and Size', async () => {
      await expectSdkError(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k'.repeat(1025), Body: 'x' })), {
        status: 400,
        code: 'KeyTooLongError',
        message: 'Your key is too long',
        fields: { MaxSizeAllowed: 1024, Size: 1025 },
      })
      const ok = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'é'.repeat(512), Body: 'x' }))
      expect(ok.ETag).toBeTruthy()
      await expectSdkError(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'é'.repeat(512) + 'x', Body: 'x' })), {
        status: 400,
        code: 'KeyTooLongError',
        fields: { Size: 1025 },
      })
    })

    it('PUT-06 If-None-Match: * on an existing key answers 412 PreconditionFailed and keeps the object', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'put-06', Body: 'first' }))
      await expectSdkError(
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'put-06', Body: 'second', IfNoneMatch: '*' })),
        {
          status: 412,
          code: 'PreconditionFailed',
          message: 'At least one of the pre-conditions you specified did not hold',
        },
      )
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'put-06' }))
      expect(await got.Body!.transformToString()).toBe('first')
      const fresh = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'put-06-new', Body: 'x', IfNoneMatch: '*' }),
      )
      expect(fresh.ETag).toBeTruthy()
    })

    it('PUT-07 If-Match with a wrong ETag answers 412, on a missing key 404 NoSuchKey; the right ETag writes', async () => {
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'put-07', Body: 'v1' }))
      await expectSdkError(
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: 'put-07',
            Body: 'v2',
            IfMatch: '"00000000000000000000000000000000"',
          }),
        ),
        {
          status: 412,
          code: 'PreconditionFailed',
        },
      )
      await expectSdkError(
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'put-07-missing', Body: 'v2', IfMatch: put.ETag })),
        {
          status: 404,
          code: 'NoSuchKey',
          message: 'The specified key does not exist.',
        },
      )
      // Regression: a quoted If-Match (as every SDK sends it) must match the stored ETag at commit too.
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'put-07', Body: 'v2', IfMatch: put.ETag }))
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'put-07' }))
      expect(await got.Body!.transformToString()).toBe('v2')
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'put-07', Body: 'v3', IfMatch: '*' }))
      expect(
        await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'put-07' }))).Body!.transformToString(),
      ).toBe('v3')
      await expectSdkError(
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'put-07-none', Body: 'v', IfMatch: '*' })),
        { status: 404, code: 'NoSuchKey' },
      )
    })

    it('GET-01 GetObject answers Content-Type, Content-Length, ETag, Last-Modified, Accept-Ranges, system and user metadata, SSE', async () => {
      const before = Math.floor(Date.now() / 1000) * 1000
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'get-01',
          Body: 'hello world',
          ContentType: 'text/plain',
          CacheControl: 'max-age=60',
          ContentDisposition: 'attachment; filename="a.txt"',
          ContentLanguage: 'en',
          ContentEncoding: 'identity',
          Expires: new Date('2030-01-01T00:00:00Z'),
          Metadata: { color: 'blue' },
        }),
      )
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'get-01' }))
      expect(await got.Body!.transformToString()).toBe('hello world')
      expect(got).toMatchObject({
        ContentType: 'text/plain',
        ContentLength: 11,
        ETag: '"5eb63bbbe01eeed093cb22bb8f5acdc3"',
        AcceptRanges: 'bytes',
        CacheControl: 'max-age=60',
        ContentDisposition: 'attachment; filename="a.txt"',
        ContentLanguage: 'en',
        ContentEncoding: 'identity',
        Metadata: { color: 'blue' },
        ServerSideEncryption: 'AES256',
      })
      expect(got.LastModified!.getTime()).toBeGreaterThanOrEqual(before)
      expect(got.LastModified!.getTime() % 1000).toBe(0)
      expect(got.ExpiresString ?? got.Expires?.toUTCString()).toBe('Tue, 01 Jan 2030 00:00:00 GMT')
      expect(got.StorageClass).toBeUndefined()
    })

    it('GET-02 GetObject of a missing key answers 404 NoSuchKey with Key', async () => {
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'no/such key' })), {
        status: 404,
        code: 'NoSuchKey',
        message: 'The specified key does not exist.',
        fields: { Key: 'no/such key' },
      })
    })

    it('GET-03 response-content-type and the other response-* overrides replace the response headers', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'get-03', Body: 'x', ContentType: 'application/json' }))
      const got = await s3.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: 'get-03',
          ResponseContentType: 'text/plain',
          ResponseCacheControl: 'no-store',
          ResponseContentDisposition: 'inline',
          ResponseContentLanguage: 'de',
          ResponseContentEncoding: 'gzip',
          ResponseExpires: new Date('2031-02-03T04:05:06Z'),
        }),
      )
      expect(got).toMatchObject({
        ContentType: 'text/plain',
        CacheControl: 'no-store',
        ContentDisposition: 'inline',
        ContentLanguage: 'de',
        ContentEncoding: 'gzip',
      })
      await got.Body!.transformToString()
    })

    it('HEAD-01 HeadObject answers the same headers as GetObject and no body', async () => {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'head-01',
          Body: 'abcdef',
          ContentType: 'text/x-a',
          Metadata: { m: 'n' },
        }),
      )
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'head-01' }))
      await got.Body!.transformToString()
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'head-01' }))
      for (const f of [
        'ContentType',
        'ContentLength',
        'ETag',
        'LastModified',
        'AcceptRanges',
        'Metadata',
        'ServerSideEncryption',
      ] as const) {
        expect(head[f], f).toEqual(got[f])
      }
      const raw = await signedSend(srv.port, { method: 'HEAD', path: `/${bucket}/head-01` })
      expect(raw.status).toBe(200)
      expect(raw.headers['content-length']).toBe('6')
      expect(raw.body.length).toBe(0)
      await expectSdkHeadError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'head-01-missing' })), 404)
    })

    it('DEL-01 DeleteObject answers 204 for an existing and for a missing key', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'del-01', Body: 'x' }))
      const del = await signedSend(srv.port, { method: 'DELETE', path: `/${bucket}/del-01` })
      expect(del.status).toBe(204)
      expect(del.body.length).toBe(0)
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'del-01' })), {
        status: 404,
        code: 'NoSuchKey',
      })
      const again = await signedSend(srv.port, { method: 'DELETE', path: `/${bucket}/del-01` })
      expect(again.status).toBe(204)
      const out = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'never-existed' }))
      expect(out.$metadata.httpStatusCode).toBe(204)
    })

    it('DeleteObject with a mismatching If-Match answers 412 and keeps the object', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'del-if', Body: 'x' }))
      await expectSdkError(
        s3.send(
          new DeleteObjectCommand({ Bucket: bucket, Key: 'del-if', IfMatch: '"0123456789abcdef0123456789abcdef"' }),
        ),
        {
          status: 412,
          code: 'PreconditionFailed',
        },
      )
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'del-if' }))
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del-if', IfMatch: head.ETag }))
      await expectSdkHeadError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'del-if' })), 404)
    })

    it('META-01 x-amz-meta-MyKey: v is returned as x-amz-meta-mykey: v', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta-01', Body: 'x', Metadata: { MyKey: 'v' } }))
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta-01' }))
      expect(head.Metadata).toEqual({ mykey: 'v' })
      const raw = await signedSend(srv.port, { method: 'GET', path: `/${bucket}/meta-01` })
      expect(raw.headers['x-amz-meta-mykey']).toBe('v')
    })

    it('META-02 2049 bytes of metadata answer 400 MetadataTooLarge (contract-defined, not AWS-verified); 2048 bytes are accepted', async () => {
      await expectSdkError(
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta-02', Body: 'x', Metadata: { a: 'v'.repeat(2048) } })),
        {
          status: 400,
          code: 'MetadataTooLarge',
          message: 'Your metadata headers exceed the maximum allowed metadata size.',
          fields: { Size: 2049, MaxSizeAllowed: 2048 },
        },
      )
      await expectSdkHeadError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta-02' })), 404)
      const ok = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'meta-02b', Body: 'x', Metadata: { a: 'v'.repeat(2047) } }),
      )
      expect(ok.ETag).toBeTruthy()
    })

    it('META-03 an empty metadata value round-trips', async () => {
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'meta-03', Body: 'x', Metadata: { empty: '', full: 'y' } }),
      )
      const raw = await signedSend(srv.port, { method: 'HEAD', path: `/${bucket}/meta-03` })
      expect(raw.headers['x-amz-meta-empty']).toBe('')
      expect(raw.headers['x-amz-meta-full']).toBe('y')
    })
  })

  describe('raw HTTP', () => {
    const bucket = 'objects-raw'
    beforeAll(async () => {
      await makeClient(srv.endpoint).send(new CreateBucketCommand({ Bucket: bucket }))
    })

    it('PUT-05 PutObject without Content-Length and without Transfer-Encoding answers 411 MissingContentLength', async () => {
      const req = await signRequest(srv.port, {
        method: 'PUT',
        path: `/${bucket}/put-05`,
        headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      })
      const res = await sendBytes(srv.port, requestHead(req))
      expectRawError(res, {
        status: 411,
        code: 'MissingContentLength',
        message: 'You must provide the Content-Length HTTP header.',
      })
    })

    it('PUT-08 a body shorter than Content-Length answers 400 IncompleteBody and stores nothing', async () => {
      const req = await signRequest(srv.port, {
        method: 'PUT',
        path: `/${bucket}/put-08`,
        headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': '100' },
      })
      const res = await sendBytes(srv.port, requestHead(req), 'x'.repeat(10), { halfClose: true })
      const head = await signedSend(srv.port, { method: 'HEAD', path: `/${bucket}/put-08` })
      expect(head.status).toBe(404)
      expectRawError(res, {
        status: 400,
        code: 'IncompleteBody',
        message: 'You did not provide the number of bytes specified by the Content-Length HTTP header',
      })
    })

    it('a body sent with Transfer-Encoding: chunked and no Content-Length answers 411 MissingContentLength, as AWS', async () => {
      const req = await signRequest(srv.port, {
        method: 'PUT',
        path: `/${bucket}/chunked`,
        headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'transfer-encoding': 'chunked' },
      })
      const res = await sendBytes(srv.port, requestHead(req), '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n')
      expectRawError(res, { status: 411, code: 'MissingContentLength' })
      expect((await signedSend(srv.port, { method: 'HEAD', path: `/${bucket}/chunked` })).status).toBe(404)
    })

    it('an aws-chunked body with x-amz-decoded-content-length needs no Content-Length', async () => {
      const req = await signRequest(srv.port, {
        method: 'PUT',
        path: `/${bucket}/aws-chunked-te`,
        headers: {
          'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
          'content-encoding': 'aws-chunked',
          'x-amz-decoded-content-length': '5',
          'transfer-encoding': 'chunked',
        },
      })
      // Unsigned aws-chunked with an empty trailer, inside HTTP chunked framing.
      const framed = '5\r\nhello\r\n0\r\n\r\n'
      const wire = `${framed.length.toString(16)}\r\n${framed}\r\n0\r\n\r\n`
      const res = await sendBytes(srv.port, requestHead(req), wire)
      expect(res.status, res.text).toBe(200)
      const get = await signedSend(srv.port, { method: 'GET', path: `/${bucket}/aws-chunked-te` })
      expect(get.text).toBe('hello')
    })

    it('META-04 a non-ASCII metadata value is returned RFC 2047-encoded', async () => {
      const value = 'Grüße, 日本 ✓'
      // Header bytes are UTF-8 on the wire; node:http writes a string header as latin1, one byte per char.
      const wire = Buffer.from(value, 'utf8').toString('latin1')
      const put = await signedSend(srv.port, {
        method: 'PUT',
        path: `/${bucket}/meta-04`,
        headers: { 'x-amz-meta-greeting': wire },
        body: 'x',
      })
      expect(put.status).toBe(200)
      const head = await signedSend(srv.port, { method: 'HEAD', path: `/${bucket}/meta-04` })
      expect(head.headers['x-amz-meta-greeting']).toBe(`=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`)
    })

    it('GetObject of an encoded key with a space and a plus finds the object stored under the decoded key', async () => {
      const key = 'dir/a b+c.txt'
      const put = await signedSend(srv.port, {
        method: 'PUT',
        path: `/${bucket}/${encodeKeyPath(key)}`,
        body: 'spaced',
      })
      expect(put.status).toBe(200)
      const got = await makeClient(srv.endpoint).send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      expect(await got.Body!.transformToString()).toBe('spaced')
    })
  })
})
