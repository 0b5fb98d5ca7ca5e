/**
 * @module E2E: CopyObject — metadata directive, source conditions, copy onto itself, odd source keys
 * (docs/s3-sse-rules.md §3.13, §4.11, §8.9 CPY, §8.14 SELF).
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
  type S3Client,
} from '@aws-sdk/client-s3'
import { createHash, randomBytes } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { expectRawError, expectSdkError } from '../support/expect-s3.js'
import { encodeKeyPath, parseXml, signedSend } from '../support/raw-s3.js'
import { CHECKSUM_MODES, makeClient, withServer } from '../support/server.js'

const SELF_COPY_ILLEGAL =
  "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex')

describe('CopyObject', () => {
  const srv = withServer()

  describe.each(CHECKSUM_MODES)('with requestChecksumCalculation %s', (mode) => {
    let s3: S3Client
    const bucket = mode === 'WHEN_SUPPORTED' ? 'copy-ws' : 'copy-wr'
    const other = `${bucket}-dst`
    const body = async (key: string, b = bucket) =>
      (await s3.send(new GetObjectCommand({ Bucket: b, Key: key }))).Body!.transformToString()

    beforeAll(async () => {
      s3 = makeClient(srv.endpoint, { requestChecksumCalculation: mode, maxAttempts: 1 })
      await s3.send(new CreateBucketCommand({ Bucket: bucket }))
      await s3.send(new CreateBucketCommand({ Bucket: other }))
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'src',
          Body: 'copy me',
          ContentType: 'text/x-src',
          CacheControl: 'max-age=5',
          ContentLanguage: 'fr',
          Metadata: { origin: 'source' },
          WebsiteRedirectLocation: '/elsewhere',
        }),
      )
    })

    it('CPY-01 copying to another key answers 200 CopyObjectResult{ETag, LastModified} and the destination SSE header', async () => {
      const res = await signedSend(srv.port, {
        method: 'PUT',
        path: `/${other}/cpy-01`,
        headers: { 'x-amz-copy-source': `/${bucket}/src` },
      })
      expect(res.status).toBe(200)
      expect(res.headers['x-amz-server-side-encryption']).toBe('AES256')
      const doc = parseXml(res.text).CopyObjectResult
      expect(doc['@_xmlns']).toBe('http://s3.amazonaws.com/doc/2006-03-01/')
      expect(doc.ETag).toBe(`"${md5('copy me')}"`)
      expect(doc.LastModified).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
      expect(doc.ChecksumType).toBe('FULL_OBJECT')
      const out = await s3.send(
        new CopyObjectCommand({ Bucket: other, Key: 'cpy-01-sdk', CopySource: `${bucket}/src` }),
      )
      expect(out.CopyObjectResult?.ETag).toBe(`"${md5('copy me')}"`)
      expect(out.ServerSideEncryption).toBe('AES256')
      expect(await body('cpy-01-sdk', other)).toBe('copy me')
    })

    it('CPY-02 the default directive keeps the source metadata and Content-Type and ignores new x-amz-meta-*', async () => {
      await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'cpy-02',
          CopySource: `${bucket}/src`,
          Metadata: { ignored: 'yes' },
          ContentType: 'text/ignored',
        }),
      )
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cpy-02' }))
      expect(head.Metadata).toEqual({ origin: 'source' })
      expect(head.ContentType).toBe('text/x-src')
      expect(head.CacheControl).toBe('max-age=5')
      expect(head.ContentLanguage).toBe('fr')
      // x-amz-website-redirect-location is never copied (§3.13).
      expect(head.WebsiteRedirectLocation).toBeUndefined()
    })

    it('CPY-03 REPLACE without Content-Type takes the request metadata and binary/octet-stream', async () => {
      await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'cpy-03',
          CopySource: `${bucket}/src`,
          MetadataDirective: 'REPLACE',
          Metadata: { fresh: '1' },
        }),
      )
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cpy-03' }))
      expect(head.Metadata).toEqual({ fresh: '1' })
      expect(head.CacheControl).toBeUndefined()
      expect(head.ContentLanguage).toBeUndefined()
      // Raw: the SDK may add a Content-Type of its own to the copy request.
      const raw = await signedSend(srv.port, {
        method: 'PUT',
        path: `/${bucket}/cpy-03-raw`,
        headers: { 'x-amz-copy-source': `${bucket}/src`, 'x-amz-metadata-directive': 'REPLACE' },
      })
      expect(raw.status).toBe(200)
      expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cpy-03-raw' }))).ContentType).toBe(
        'binary/octet-stream',
      )
    })

    it('an unknown metadata directive answers 400 InvalidArgument (contract-defined, not AWS-verified)', async () => {
      const res = await signedSend(srv.port, {
        method: 'PUT',
        path: `/${bucket}/bad-directive`,
        headers: { 'x-amz-copy-source': `${bucket}/src`, 'x-amz-metadata-directive': 'MERGE' },
      })
      expectRawError(res, { status: 400, code: 'InvalidArgument', message: 'Unknown metadata directive.' })
    })

    it('CPY-04 a wrong x-amz-copy-source-if-match answers 412', async () => {
      await expectSdkError(
        s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: 'cpy-04',
            CopySource: `${bucket}/src`,
            CopySourceIfMatch: '"abc"',
          }),
        ),
        {
          status: 412,
          code: 'PreconditionFailed',
          message: 'At least one of the pre-conditions you specified did not hold',
        },
      )
    })

    it('CPY-05 x-amz-copy-source-if-none-match equal to the source ETag answers 412, not 304', async () => {
      await expectSdkError(
        s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: 'cpy-05',
            CopySource: `${bucket}/src`,
            CopySourceIfNoneMatch: `"${md5('copy me')}"`,
          }),
        ),
        {
          status: 412,
          code: 'PreconditionFailed',
        },
      )
      await expectSdkError(
        s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: 'cpy-05',
            CopySource: `${bucket}/src`,
            CopySourceIfModifiedSince: new Date(Date.now() + 3_600_000),
          }),
        ),
        {
          status: 412,
          code: 'PreconditionFailed',
        },
      )
    })

    it('source conditions: if-match true + if-unmodified-since false copies; if-none-match false + if-modified-since true answers 412', async () => {
      const etag = `"${md5('copy me')}"`
      const past = new Date(Date.now() - 86_400_000)
      const ok = await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'cond-ok',
          CopySource: `${bucket}/src`,
          CopySourceIfMatch: etag,
          CopySourceIfUnmodifiedSince: past,
        }),
      )
      expect(ok.CopyObjectResult?.ETag).toBe(etag)
      await expectSdkError(
        s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: 'cond-412',
            CopySource: `${bucket}/src`,
            CopySourceIfNoneMatch: etag,
            CopySourceIfModifiedSince: past,
          }),
        ),
        { status: 412, code: 'PreconditionFailed' },
      )
      const fine = await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'cond-ok2',
          CopySource: `${bucket}/src`,
          CopySourceIfUnmodifiedSince: new Date(Date.now() + 60_000),
        }),
      )
      expect(fine.CopyObjectResult?.ETag).toBe(etag)
    })

    it('destination conditions If-None-Match: * and If-Match apply to the copy as to PutObject', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dst-cond', Body: 'old' }))
      await expectSdkError(
        s3.send(
          new CopyObjectCommand({ Bucket: bucket, Key: 'dst-cond', CopySource: `${bucket}/src`, IfNoneMatch: '*' }),
        ),
        {
          status: 412,
          code: 'PreconditionFailed',
        },
      )
      await expectSdkError(
        s3.send(
          new CopyObjectCommand({ Bucket: bucket, Key: 'dst-cond', CopySource: `${bucket}/src`, IfMatch: '"nope"' }),
        ),
        {
          status: 412,
          code: 'PreconditionFailed',
        },
      )
      await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'dst-cond',
          CopySource: `${bucket}/src`,
          IfMatch: `"${md5('old')}"`,
        }),
      )
      expect(await body('dst-cond')).toBe('copy me')
    })

    it('CPY-06 a missing source bucket answers 404 NoSuchBucket, a missing source key 404 NoSuchKey', async () => {
      await expectSdkError(
        s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'cpy-06', CopySource: 'no-such-source-bucket/src' })),
        {
          status: 404,
          code: 'NoSuchBucket',
          message: 'The specified bucket does not exist',
          fields: { BucketName: 'no-such-source-bucket' },
        },
      )
      await expectSdkError(
        s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'cpy-06', CopySource: `${bucket}/no-such-source-key` })),
        {
          status: 404,
          code: 'NoSuchKey',
          message: 'The specified key does not exist.',
          fields: { Key: 'no-such-source-key' },
        },
      )
    })

    it.each(['nobucket', 'nobucket/', '/', '%E0%A4%A'])(
      'CPY-07 x-amz-copy-source %j answers 400 InvalidArgument Invalid copy source object key',
      async (source) => {
        const res = await signedSend(srv.port, {
          method: 'PUT',
          path: `/${bucket}/cpy-07`,
          headers: { 'x-amz-copy-source': source },
        })
        expectRawError(res, {
          status: 400,
          code: 'InvalidArgument',
          message: 'Invalid copy source object key',
          fields: { ArgumentName: 'x-amz-copy-source' },
        })
      },
    )

    it('CPY-08 a copy of a 2-part SSE-S3 object gets the MD5 of its data as ETag, without -N (inferred)', async () => {
      const p1 = randomBytes(5 * 1024 * 1024)
      const p2 = randomBytes(1000)
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp-src' }))
      const e1 = (
        await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp-src', UploadId, PartNumber: 1, Body: p1 }))
      ).ETag
      const e2 = (
        await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp-src', UploadId, PartNumber: 2, Body: p2 }))
      ).ETag
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'mp-src',
          UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: e1 },
              { PartNumber: 2, ETag: e2 },
            ],
          },
        }),
      )
      expect(done.ETag).toMatch(/-2"$/)
      const copy = await s3.send(
        new CopyObjectCommand({ Bucket: bucket, Key: 'mp-copy', CopySource: `${bucket}/mp-src` }),
      )
      const whole = Buffer.concat([p1, p2])
      expect(copy.CopyObjectResult?.ETag).toBe(`"${md5(whole)}"`)
      // No algorithm was declared for the source: the copy gets a FULL_OBJECT CRC64NVME (§3.13).
      expect(copy.CopyObjectResult?.ChecksumCRC64NVME).toBeTruthy()
      expect(copy.CopyObjectResult?.ChecksumType).toBe('FULL_OBJECT')
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp-copy' }))
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(whole)).toBe(true)
      expect(got.PartsCount).toBeUndefined()
    })

    it('a copy keeps the source checksum algorithm for its full-object checksum', async () => {
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'sha-src', Body: 'hello world', ChecksumAlgorithm: 'SHA256' }),
      )
      const copy = await s3.send(
        new CopyObjectCommand({ Bucket: bucket, Key: 'sha-copy', CopySource: `${bucket}/sha-src` }),
      )
      expect(copy.CopyObjectResult?.ChecksumSHA256).toBe(createHash('sha256').update('hello world').digest('base64'))
    })

    it('CPY-09 a source key with ?, &, % and spaces, URL-encoded in x-amz-copy-source, is copied (decoded once)', async () => {
      const key = 'odd/what?x=1&y=%41 b+c#frag'
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'odd body' }))
      await s3.send(
        new CopyObjectCommand({ Bucket: bucket, Key: 'cpy-09', CopySource: `${bucket}/${encodeURIComponent(key)}` }),
      )
      expect(await body('cpy-09')).toBe('odd body')
      // And as the destination, addressed raw.
      const res = await signedSend(srv.port, {
        method: 'PUT',
        path: `/${bucket}/${encodeKeyPath(key + '-dst')}`,
        headers: { 'x-amz-copy-source': `/${bucket}/${encodeKeyPath(key)}` },
      })
      expect(res.status).toBe(200)
      expect(await body(key + '-dst')).toBe('odd body')
    })

    it('a versionId=null suffix on the copy source is accepted', async () => {
      const out = await s3.send(
        new CopyObjectCommand({ Bucket: bucket, Key: 'ver-null', CopySource: `${bucket}/src?versionId=null` }),
      )
      expect(out.CopyObjectResult?.ETag).toBe(`"${md5('copy me')}"`)
    })

    describe('copy onto itself', () => {
      let etag: string
      beforeAll(async () => {
        etag = (
          await s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: 'self',
              Body: 'self body',
              ContentType: 'text/a',
              Metadata: { v: '1' },
            }),
          )
        ).ETag!
      })

      it('SELF-01 a self-copy without changes answers 400 InvalidRequest', async () => {
        await expectSdkError(
          s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'self', CopySource: `${bucket}/self` })),
          {
            status: 400,
            code: 'InvalidRequest',
            message: SELF_COPY_ILLEGAL,
          },
        )
      })

      it('SELF-02 a self-copy with REPLACE answers 200, replaces the metadata and keeps the SSE-S3 ETag', async () => {
        const out = await s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: 'self',
            CopySource: `${bucket}/self`,
            MetadataDirective: 'REPLACE',
            ContentType: 'text/b',
            Metadata: { v: '2' },
          }),
        )
        expect(out.CopyObjectResult?.ETag).toBe(etag)
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'self' }))
        expect([head.ContentType, head.Metadata, head.ETag]).toEqual(['text/b', { v: '2' }, etag])
        expect(await body('self')).toBe('self body')
      })

      it('SELF-03 a self-copy with x-amz-storage-class: STANDARD answers 200', async () => {
        const out = await s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: 'self',
            CopySource: `${bucket}/self`,
            StorageClass: 'STANDARD',
          }),
        )
        expect(out.CopyObjectResult?.ETag).toBe(etag)
      })

      it('SELF-04 a self-copy with x-amz-website-redirect-location answers 200', async () => {
        const out = await s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: 'self',
            CopySource: `${bucket}/self`,
            WebsiteRedirectLocation: '/moved',
          }),
        )
        expect(out.CopyObjectResult?.ETag).toBe(etag)
      })

      it('SELF-05 a self-copy with x-amz-server-side-encryption: AES256 on an SSE-S3 object answers 200', async () => {
        const out = await s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: 'self',
            CopySource: `${bucket}/self`,
            ServerSideEncryption: 'AES256',
          }),
        )
        expect(out.CopyObjectResult?.ETag).toBe(etag)
        expect(out.ServerSideEncryption).toBe('AES256')
        expect(await body('self')).toBe('self body')
      })

      it('SELF-08 a self-copy with only x-amz-acl answers 400 like SELF-01', async () => {
        await expectSdkError(
          s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'self', CopySource: `${bucket}/self`, ACL: 'private' })),
          {
            status: 400,
            code: 'InvalidRequest',
            message: SELF_COPY_ILLEGAL,
          },
        )
      })

      it('a copy to the same key of another bucket is not a self-copy', async () => {
        const out = await s3.send(new CopyObjectCommand({ Bucket: other, Key: 'self', CopySource: `${bucket}/self` }))
        expect(out.CopyObjectResult?.ETag).toBe(etag)
      })
    })
  })
})
