/**
 * @module E2E: Range, partNumber and conditional headers on GetObject/HeadObject (docs/s3-sse-rules.md §3.8.1–§3.8.3,
 * §8.7, ERR-03).
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import fc from 'fast-check'
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectRawError, expectSdkError, expectSdkHeadError } from '../support/expect-s3.js'
import { signedSend } from '../support/raw-s3.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'

const MiB = 1024 * 1024
const PRECONDITION = 'At least one of the pre-conditions you specified did not hold'

describe('ranges and conditionals', () => {
  let srv: TestServer
  let s3: S3Client
  const bucket = 'ranges'
  /** A 3-part multipart object: 5 MiB, 5 MiB, 1234 bytes of random data. */
  const mpData = randomBytes(10 * MiB + 1234)
  const mpParts = [mpData.subarray(0, 5 * MiB), mpData.subarray(5 * MiB, 10 * MiB), mpData.subarray(10 * MiB)]
  let mpEtag: string
  let lastModified: Date
  let etag: string

  const get = (key: string, headers: Record<string, string> = {}, query?: Record<string, string>) =>
    signedSend(srv.port, { method: 'GET', path: `/${bucket}/${key}`, headers, query })
  const head = (key: string, headers: Record<string, string> = {}, query?: Record<string, string>) =>
    signedSend(srv.port, { method: 'HEAD', path: `/${bucket}/${key}`, headers, query })

  beforeAll(async () => {
    srv = await startTestServer()
    s3 = makeClient(srv.endpoint, { maxAttempts: 1 })
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello', Body: 'hello world' }))
    etag = put.ETag!
    lastModified = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'hello' }))).LastModified!
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'eight', Body: '12345678' }))
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: '' }))
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'multi' }))
    const parts = []
    for (let i = 0; i < mpParts.length; i++) {
      const up = await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: 'multi', UploadId, PartNumber: i + 1, Body: mpParts[i] }),
      )
      parts.push({ PartNumber: i + 1, ETag: up.ETag })
    }
    const done = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'multi', UploadId, MultipartUpload: { Parts: parts } }),
    )
    mpEtag = done.ETag!
  })
  afterAll(async () => {
    await srv?.close()
  })

  it('RNG-01 bytes=0-9 of 11 bytes answers 206, Content-Range bytes 0-9/11 and 10 bytes', async () => {
    const res = await get('hello', { range: 'bytes=0-9' })
    expect(res.status).toBe(206)
    expect(res.headers['content-range']).toBe('bytes 0-9/11')
    expect(res.headers['content-length']).toBe('10')
    expect(res.text).toBe('hello worl')
    const sdk = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello', Range: 'bytes=0-9' }))
    expect(sdk.ContentRange).toBe('bytes 0-9/11')
    expect(await sdk.Body!.transformToString()).toBe('hello worl')
  })

  it('RNG-02 bytes=-7 of 11 bytes answers 206 bytes 4-10/11', async () => {
    const res = await get('hello', { range: 'bytes=-7' })
    expect([res.status, res.headers['content-range'], res.text]).toEqual([206, 'bytes 4-10/11', 'o world'])
  })

  it('RNG-03 bytes=4- of 11 bytes answers 206 bytes 4-10/11', async () => {
    const res = await get('hello', { range: 'bytes=4-' })
    expect([res.status, res.headers['content-range'], res.text]).toEqual([206, 'bytes 4-10/11', 'o world'])
  })

  it('RNG-04 bytes=5-100 of 11 bytes answers 206 bytes 5-10/11', async () => {
    const res = await get('hello', { range: 'bytes=5-100' })
    expect([res.status, res.headers['content-range'], res.text]).toEqual([206, 'bytes 5-10/11', ' world'])
  })

  it('a suffix longer than the object answers the whole object as 206', async () => {
    const res = await get('hello', { range: 'bytes=-100' })
    expect([res.status, res.headers['content-range'], res.text]).toEqual([206, 'bytes 0-10/11', 'hello world'])
  })

  it('RNG-05 a range past the end answers 416 InvalidRange with RangeRequested and ActualObjectSize', async () => {
    const res = await get('eight', { range: 'bytes=1024-4096' })
    expectRawError(res, {
      status: 416,
      code: 'InvalidRange',
      message: 'The requested range is not satisfiable',
      fields: { RangeRequested: 'bytes=1024-4096', ActualObjectSize: 8 },
    })
    expect(res.headers['content-range']).toBe('bytes */8')
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'eight', Range: 'bytes=8-' })), {
      status: 416,
      code: 'InvalidRange',
      fields: { RangeRequested: 'bytes=8-', ActualObjectSize: 8 },
    })
  })

  it('RNG-06 bytes=0-0 on an empty object answers 416 InvalidRange', async () => {
    const res = await get('empty', { range: 'bytes=0-0' })
    expectRawError(res, { status: 416, code: 'InvalidRange', fields: { ActualObjectSize: 0 } })
    expectRawError(await get('empty', { range: 'bytes=-5' }), { status: 416, code: 'InvalidRange' })
  })

  it('bytes=-0 answers 416 InvalidRange', async () => {
    expectRawError(await get('hello', { range: 'bytes=-0' }), {
      status: 416,
      code: 'InvalidRange',
      fields: { RangeRequested: 'bytes=-0' },
    })
  })

  it.each(['bytes=0-1,3-4', 'bytes=5-2', 'items=0-3', 'bytes=abc', 'bytes=-', 'garbage'])(
    'RNG-07 the Range %j is ignored: 200 with the whole object (contract-defined, not AWS-verified)',
    async (range) => {
      const res = await get('hello', { range })
      expect(res.status).toBe(200)
      expect(res.headers['content-range']).toBeUndefined()
      expect(res.text).toBe('hello world')
    },
  )

  it('RNG-08 HEAD with bytes=0-9 answers 206 with Content-Length 10 and no body', async () => {
    const res = await head('hello', { range: 'bytes=0-9' })
    expect(res.status).toBe(206)
    expect(res.headers['content-length']).toBe('10')
    expect(res.headers['content-range']).toBe('bytes 0-9/11')
    expect(res.body.length).toBe(0)
  })

  it('HEAD with an unsatisfiable range answers 416 without a body', async () => {
    const res = await head('eight', { range: 'bytes=100-' })
    expect(res.status).toBe(416)
    expect(res.body.length).toBe(0)
  })

  it('RNG-09 partNumber=2 of a multipart object answers 206 with that part, Content-Range, x-amz-mp-parts-count and the whole ETag', async () => {
    const res = await get('multi', {}, { partNumber: '2' })
    expect(res.status).toBe(206)
    expect(res.headers['content-range']).toBe(`bytes ${5 * MiB}-${10 * MiB - 1}/${mpData.length}`)
    expect(res.headers['x-amz-mp-parts-count']).toBe('3')
    expect(res.headers.etag).toBe(mpEtag)
    expect(res.body.equals(mpParts[1])).toBe(true)
    const sdk = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'multi', PartNumber: 3 }))
    expect(sdk.PartsCount).toBe(3)
    expect(Buffer.from(await sdk.Body!.transformToByteArray()).equals(mpParts[2])).toBe(true)
    const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'multi', PartNumber: 1 }))
    expect([h.ContentLength, h.PartsCount, h.ETag]).toEqual([5 * MiB, 3, mpEtag])
  })

  it('partNumber=1 of a single-part object answers the whole object as 206', async () => {
    const res = await get('hello', {}, { partNumber: '1' })
    expect([res.status, res.headers['content-range'], res.text]).toEqual([206, 'bytes 0-10/11', 'hello world'])
  })

  it('RNG-10 partNumber=10 of a multipart object answers 416 InvalidPartNumber with PartNumberRequested and ActualPartCount', async () => {
    expectRawError(await get('multi', {}, { partNumber: '10' }), {
      status: 416,
      code: 'InvalidPartNumber',
      message: 'The requested partnumber is not satisfiable',
      fields: { PartNumberRequested: 10, ActualPartCount: 3 },
    })
  })

  it('RNG-11 partNumber together with Range answers 400 InvalidRequest', async () => {
    expectRawError(await get('multi', { range: 'bytes=0-1' }, { partNumber: '1' }), {
      status: 400,
      code: 'InvalidRequest',
      message: 'Cannot specify both Range header and partNumber query parameter',
    })
  })

  it.each([
    ['across the first part boundary', 5 * MiB - 10, 5 * MiB + 9],
    ['across the second part boundary', 10 * MiB - 1, 10 * MiB],
    ['spanning all three parts', 5 * MiB - 1, 10 * MiB + 1],
    ['the last byte of part 1', 5 * MiB - 1, 5 * MiB - 1],
    ['the first byte of part 3', 10 * MiB, 10 * MiB],
    ['the whole object', 0, 10 * MiB + 1233],
  ])('a range %s of a multipart object answers exactly those bytes', async (_name, start, end) => {
    const res = await get('multi', { range: `bytes=${start}-${end}` })
    expect(res.status).toBe(206)
    expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${mpData.length}`)
    expect(res.body.equals(mpData.subarray(start, end + 1))).toBe(true)
  })

  it('a suffix range that reaches back into the middle part of a multipart object answers exactly those bytes', async () => {
    const res = await get('multi', { range: `bytes=-${1234 + 4096}` })
    expect(res.status).toBe(206)
    expect(createHash('sha256').update(res.body).digest('hex')).toBe(
      createHash('sha256')
        .update(mpData.subarray(mpData.length - 1234 - 4096))
        .digest('hex'),
    )
  })

  it('any range of the multipart object decrypts to the plaintext slice (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: mpData.length - 1 }),
        fc.integer({ min: 1, max: 70_000 }),
        async (start, len) => {
          const end = Math.min(start + len - 1, mpData.length - 1)
          const res = await get('multi', { range: `bytes=${start}-${end}` })
          expect(res.status).toBe(206)
          expect(res.body.equals(mpData.subarray(start, end + 1))).toBe(true)
        },
      ),
      { numRuns: 40 },
    )
  })

  it('COND-01 a wrong If-Match answers 412 PreconditionFailed with Condition If-Match', async () => {
    expectRawError(await get('hello', { 'if-match': '"0123456789abcdef0123456789abcdef"' }), {
      status: 412,
      code: 'PreconditionFailed',
      message: PRECONDITION,
      fields: { Condition: 'If-Match' },
    })
    await expectSdkHeadError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'hello', IfMatch: '"nope"' })), 412)
  })

  it('COND-02 If-None-Match with the current ETag answers 304 with ETag and no body', async () => {
    const res = await get('hello', { 'if-none-match': etag })
    expect(res.status).toBe(304)
    expect(res.body.length).toBe(0)
    expect(res.headers.etag).toBe(etag)
    const h = await head('hello', { 'if-none-match': etag })
    expect(h.status).toBe(304)
  })

  it('ERR-03 a 304 answer has no body and carries ETag and Last-Modified', async () => {
    const res = await get('hello', { 'if-none-match': '*' })
    expect(res.status).toBe(304)
    expect(res.body.length).toBe(0)
    expect(res.headers.etag).toBe(etag)
    expect(res.headers['last-modified']).toBe(lastModified.toUTCString())
    expect(res.headers['x-amz-server-side-encryption']).toBeUndefined()
  })

  it('COND-03 If-Modified-Since equal to Last-Modified answers 304', async () => {
    const res = await get('hello', { 'if-modified-since': lastModified.toUTCString() })
    expect(res.status).toBe(304)
    const later = await get('hello', { 'if-modified-since': new Date(lastModified.getTime() - 60_000).toUTCString() })
    expect(later.status).toBe(200)
  })

  it('COND-04 If-Unmodified-Since before Last-Modified answers 412 with Condition If-Unmodified-Since', async () => {
    expectRawError(
      await get('hello', { 'if-unmodified-since': new Date(lastModified.getTime() - 60_000).toUTCString() }),
      {
        status: 412,
        code: 'PreconditionFailed',
        message: PRECONDITION,
        fields: { Condition: 'If-Unmodified-Since' },
      },
    )
    const ok = await get('hello', { 'if-unmodified-since': lastModified.toUTCString() })
    expect(ok.status).toBe(200)
  })

  it('COND-05 If-Match true with If-Unmodified-Since false answers 200', async () => {
    const res = await get('hello', {
      'if-match': etag,
      'if-unmodified-since': new Date(lastModified.getTime() - 3_600_000).toUTCString(),
    })
    expect(res.status).toBe(200)
    expect(res.text).toBe('hello world')
  })

  it('COND-06 If-None-Match false with If-Modified-Since true answers 304', async () => {
    const res = await get('hello', {
      'if-none-match': etag,
      'if-modified-since': new Date(lastModified.getTime() - 3_600_000).toUTCString(),
    })
    expect(res.status).toBe(304)
  })

  it('COND-07 If-Match with the unquoted ETag matches', async () => {
    const res = await get('hello', { 'if-match': etag.replace(/"/g, '') })
    expect(res.status).toBe(200)
    const sdk = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello', IfMatch: etag.replace(/"/g, '') }))
    expect(await sdk.Body!.transformToString()).toBe('hello world')
  })

  it('If-Match: * matches any existing object; a list containing the ETag matches', async () => {
    expect((await get('hello', { 'if-match': '*' })).status).toBe(200)
    expect((await get('hello', { 'if-match': `"aaa", ${etag}` })).status).toBe(200)
  })

  it('unparsable dates in If-Modified-Since / If-Unmodified-Since are ignored (inferred)', async () => {
    expect((await get('hello', { 'if-modified-since': 'not a date' })).status).toBe(200)
    expect((await get('hello', { 'if-unmodified-since': 'yesterday-ish' })).status).toBe(200)
  })

  it('COND-08 a conditional GET of a missing key answers 404 NoSuchKey (contract-defined, not AWS-verified)', async () => {
    expectRawError(await get('missing', { 'if-match': '"x"' }), {
      status: 404,
      code: 'NoSuchKey',
      fields: { Key: 'missing' },
    })
    expectRawError(await get('missing', { 'if-none-match': '*' }), { status: 404, code: 'NoSuchKey' })
  })
})
