/**
 * @module E2E: multipart uploads — Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts,
 * ListMultipartUploads, lib-storage (docs/s3-sse-rules.md §3.14, §8.9 MPU, ETAG-04, CKS-07).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { beforeAll, describe, expect, it } from 'vitest'
import { expectRawError, expectSdkError } from '../support/expect-s3.js'
import { parseXml, signedSend } from '../support/raw-s3.js'
import { CHECKSUM_MODES, makeClient, withServer } from '../support/server.js'

const MiB = 1024 * 1024
const NO_SUCH_UPLOAD =
  'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.'
const INVALID_PART =
  "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex')
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** The multipart ETag of §3.17: MD5 of the concatenated binary part ETags, then -N. */
function multipartEtag(partEtags: string[]): string {
  const h = createHash('md5')
  for (const e of partEtags) h.update(Buffer.from(e.replace(/"/g, ''), 'hex'))
  return `"${h.digest('hex')}-${partEtags.length}"`
}

const completeXml = (parts: Array<{ n: number; etag: string }>) =>
  `<CompleteMultipartUpload>${parts.map((p) => `<Part><PartNumber>${p.n}</PartNumber><ETag>${p.etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`

describe('multipart uploads', () => {
  const srv = withServer()

  describe.each(CHECKSUM_MODES)('with requestChecksumCalculation %s', (mode) => {
    let s3: S3Client
    const bucket = mode === 'WHEN_SUPPORTED' ? 'mpu-ws' : 'mpu-wr'
    const create = async (key: string) =>
      (await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))).UploadId!
    const part = async (
      key: string,
      UploadId: string,
      PartNumber: number,
      Body: Buffer | string,
    ): Promise<CompletedPart> => {
      const out = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber, Body }))
      return { PartNumber, ETag: out.ETag }
    }
    const complete = (key: string, UploadId: string, Parts: CompletedPart[]) =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts } }))
    const read = async (key: string) =>
      Buffer.from(
        await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray(),
      )
    const rawComplete = (key: string, uploadId: string, body: string) =>
      signedSend(srv.port, { method: 'POST', path: `/${bucket}/${key}`, query: { uploadId }, body })

    beforeAll(async () => {
      s3 = makeClient(srv.endpoint, { requestChecksumCalculation: mode, maxAttempts: 1 })
      await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    })

    it('MPU-01 CreateMultipartUpload answers InitiateMultipartUploadResult{Bucket, Key, UploadId} and the SSE header', async () => {
      const res = await signedSend(srv.port, { method: 'POST', path: `/${bucket}/dir/mpu-01`, query: { uploads: '' } })
      expect(res.status).toBe(200)
      expect(res.headers['x-amz-server-side-encryption']).toBe('AES256')
      const doc = parseXml(res.text).InitiateMultipartUploadResult
      expect(doc['@_xmlns']).toBe('http://s3.amazonaws.com/doc/2006-03-01/')
      expect([doc.Bucket, doc.Key]).toEqual([bucket, 'dir/mpu-01'])
      expect(doc.UploadId).toMatch(/^[A-Za-z0-9._~-]+$/)
      const out = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu-01' }))
      expect(out.UploadId).toBeTruthy()
      expect(out.UploadId).not.toBe(doc.UploadId)
      expect(out.ServerSideEncryption).toBe('AES256')
    })

    it.each(['0', '10001', 'abc', '-1', '1.5'])(
      'MPU-02 UploadPart with partNumber=%s answers 400 InvalidArgument',
      async (n) => {
        const uploadId = await create('mpu-02')
        const res = await signedSend(srv.port, {
          method: 'PUT',
          path: `/${bucket}/mpu-02`,
          query: { partNumber: n, uploadId },
          body: 'x',
        })
        expectRawError(res, {
          status: 400,
          code: 'InvalidArgument',
          message: 'Part number must be an integer between 1 and 10000, inclusive',
          fields: { ArgumentName: 'partNumber', ArgumentValue: n },
        })
      },
    )

    it('part numbers 1 and 10000 are accepted', async () => {
      const uploadId = await create('mpu-02-ok')
      await part('mpu-02-ok', uploadId, 1, 'a')
      await part('mpu-02-ok', uploadId, 10000, 'b')
      const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'mpu-02-ok', UploadId: uploadId }))
      expect(parts.Parts?.map((p) => p.PartNumber)).toEqual([1, 10000])
    })

    it('MPU-03 an unknown upload id answers 404 NoSuchUpload with UploadId on UploadPart, Complete, ListParts and Abort', async () => {
      const id = 'no-such-upload-id'
      const want = { status: 404, code: 'NoSuchUpload', message: NO_SUCH_UPLOAD, fields: { UploadId: id } }
      await expectSdkError(
        s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mpu-03', UploadId: id, PartNumber: 1, Body: 'x' })),
        want,
      )
      await expectSdkError(complete('mpu-03', id, [{ PartNumber: 1, ETag: '"x"' }]), want)
      await expectSdkError(s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'mpu-03', UploadId: id })), want)
      await expectSdkError(
        s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mpu-03', UploadId: id })),
        want,
      )
      // An upload id is bound to its key.
      const real = await create('mpu-03-real')
      await expectSdkError(
        s3.send(
          new UploadPartCommand({ Bucket: bucket, Key: 'mpu-03-other', UploadId: real, PartNumber: 1, Body: 'x' }),
        ),
        {
          status: 404,
          code: 'NoSuchUpload',
        },
      )
    })

    it('MPU-04 uploading part 1 twice keeps the second', async () => {
      const id = await create('mpu-04')
      await part('mpu-04', id, 1, 'first version')
      const second = await part('mpu-04', id, 1, 'second')
      const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'mpu-04', UploadId: id }))
      expect(listed.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size])).toEqual([[1, `"${md5('second')}"`, 6]])
      await complete('mpu-04', id, [second])
      expect((await read('mpu-04')).toString()).toBe('second')
    })

    it('MPU-05 ETAG-04 completing 3 × 5 MiB parts of A, B, C answers ETag "b2add96cc9702bbf4efb0ccdfc6b7747-3" and AES256', async () => {
      const id = await create('mpu-05')
      const parts: CompletedPart[] = []
      for (const [i, c] of ['A', 'B', 'C'].entries())
        parts.push(await part('mpu-05', id, i + 1, Buffer.alloc(5 * MiB, c)))
      expect(parts.map((p) => p.ETag)).toEqual(['A', 'B', 'C'].map((c) => `"${md5(Buffer.alloc(5 * MiB, c))}"`))
      const res = await rawComplete('mpu-05', id, completeXml(parts.map((p) => ({ n: p.PartNumber!, etag: p.ETag! }))))
      expect(res.status).toBe(200)
      expect(res.headers['x-amz-server-side-encryption']).toBe('AES256')
      const doc = parseXml(res.text).CompleteMultipartUploadResult
      expect(doc.ETag).toBe('"b2add96cc9702bbf4efb0ccdfc6b7747-3"')
      expect(doc.ETag).toBe(multipartEtag(parts.map((p) => p.ETag!)))
      expect([doc.Bucket, doc.Key]).toEqual([bucket, 'mpu-05'])
      expect(doc.Location).toContain(`/${bucket}/mpu-05`)
      const data = await read('mpu-05')
      expect(data.length).toBe(15 * MiB)
      expect(sha256(data)).toBe(sha256(Buffer.concat(['A', 'B', 'C'].map((c) => Buffer.alloc(5 * MiB, c)))))
    })

    it('MPU-06 Complete without any Part answers 400 InvalidRequest', async () => {
      const id = await create('mpu-06')
      await part('mpu-06', id, 1, 'x')
      expectRawError(await rawComplete('mpu-06', id, '<CompleteMultipartUpload></CompleteMultipartUpload>'), {
        status: 400,
        code: 'InvalidRequest',
        message: 'You must specify at least one part',
      })
    })

    it('MPU-07 Complete listing parts 2, 1 answers 400 InvalidPartOrder with UploadId', async () => {
      const id = await create('mpu-07')
      const p1 = await part('mpu-07', id, 1, Buffer.alloc(5 * MiB, 1))
      const p2 = await part('mpu-07', id, 2, 'tail')
      await expectSdkError(complete('mpu-07', id, [p2, p1]), {
        status: 400,
        code: 'InvalidPartOrder',
        message: 'The list of parts was not in ascending order. Parts must be ordered by part number.',
        fields: { UploadId: id },
      })
    })

    it('MPU-08 Complete naming a missing part or a wrong ETag answers 400 InvalidPart with UploadId, PartNumber, ETag', async () => {
      const id = await create('mpu-08')
      const p1 = await part('mpu-08', id, 1, 'only')
      await expectSdkError(complete('mpu-08', id, [p1, { PartNumber: 2, ETag: p1.ETag }]), {
        status: 400,
        code: 'InvalidPart',
        message: INVALID_PART,
        fields: { UploadId: id, PartNumber: 2 },
      })
      const wrong = '0123456789abcdef0123456789abcdef'
      await expectSdkError(complete('mpu-08', id, [{ PartNumber: 1, ETag: `"${wrong}"` }]), {
        status: 400,
        code: 'InvalidPart',
        fields: { UploadId: id, PartNumber: 1, ETag: wrong },
      })
      // The upload is still there and completes with the right list.
      await complete('mpu-08', id, [p1])
      expect((await read('mpu-08')).toString()).toBe('only')
    })

    it('MPU-09 a non-last part of 4 bytes answers 400 EntityTooSmall with ProposedSize, MinSizeAllowed, PartNumber, ETag', async () => {
      const id = await create('mpu-09')
      const p1 = await part('mpu-09', id, 1, 'tiny')
      const p2 = await part('mpu-09', id, 2, 'last')
      await expectSdkError(complete('mpu-09', id, [p1, p2]), {
        status: 400,
        code: 'EntityTooSmall',
        message: 'Your proposed upload is smaller than the minimum allowed size',
        fields: { ProposedSize: 4, MinSizeAllowed: 5242880, PartNumber: 1, ETag: md5('tiny') },
      })
    })

    it('MPU-10 a single 1-byte part completes', async () => {
      const id = await create('mpu-10')
      const out = await complete('mpu-10', id, [await part('mpu-10', id, 1, 'z')])
      expect(out.ETag).toBe(multipartEtag([`"${md5('z')}"`]))
      expect((await read('mpu-10')).toString()).toBe('z')
    })

    it('MPU-11 parts 1, 3, 7 complete with ETag -3; unlisted parts are discarded', async () => {
      const id = await create('mpu-11')
      const bodies = { 1: randomBytes(5 * MiB), 3: randomBytes(5 * MiB), 5: randomBytes(100), 7: randomBytes(777) }
      const parts: Record<number, CompletedPart> = {}
      for (const [n, b] of Object.entries(bodies)) parts[Number(n)] = await part('mpu-11', id, Number(n), b)
      const out = await complete('mpu-11', id, [parts[1], parts[3], parts[7]])
      expect(out.ETag).toMatch(/^"[0-9a-f]{32}-3"$/)
      expect(out.ETag).toBe(multipartEtag([parts[1].ETag!, parts[3].ETag!, parts[7].ETag!]))
      expect((await read('mpu-11')).equals(Buffer.concat([bodies[1], bodies[3], bodies[7]]))).toBe(true)
    })

    it('MPU-12 Abort answers 204; later calls on the upload answer 404 NoSuchUpload', async () => {
      const id = await create('mpu-12')
      await part('mpu-12', id, 1, 'x')
      const res = await signedSend(srv.port, { method: 'DELETE', path: `/${bucket}/mpu-12`, query: { uploadId: id } })
      expect(res.status).toBe(204)
      const want = { status: 404, code: 'NoSuchUpload', fields: { UploadId: id } }
      await expectSdkError(s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'mpu-12', UploadId: id })), want)
      await expectSdkError(
        s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mpu-12', UploadId: id, PartNumber: 2, Body: 'y' })),
        want,
      )
      await expectSdkError(
        s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mpu-12', UploadId: id })),
        want,
      )
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mpu-12' })), {
        status: 404,
        code: 'NoSuchKey',
      })
    })

    it('MPU-13 ListParts answers Part{PartNumber, ETag, Size, LastModified}, markers and MaxParts 1000, and pages', async () => {
      const id = await create('mpu-13')
      for (const n of [1, 2, 3]) await part('mpu-13', id, n, `part-${n}`)
      const res = await signedSend(srv.port, { method: 'GET', path: `/${bucket}/mpu-13`, query: { uploadId: id } })
      const doc = parseXml(res.text).ListPartsResult
      expect([doc.Bucket, doc.Key, doc.UploadId, doc.MaxParts, doc.IsTruncated, doc.PartNumberMarker]).toEqual([
        bucket,
        'mpu-13',
        id,
        '1000',
        'false',
        '0',
      ])
      expect(doc.Owner.ID).toMatch(/^[0-9a-f]{64}$/)
      expect(doc.Initiator.ID).toMatch(/^[0-9a-f]{64}$/)
      expect(doc.StorageClass).toBe('STANDARD')
      expect(doc.Part).toHaveLength(3)
      expect(doc.Part[0].PartNumber).toBe('1')
      expect(doc.Part[0].ETag).toBe(`"${md5('part-1')}"`)
      expect(doc.Part[0].Size).toBe('6')
      expect(doc.Part[0].LastModified).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
      const page = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'mpu-13', UploadId: id, MaxParts: 2 }))
      expect(page.Parts?.map((p) => p.PartNumber)).toEqual([1, 2])
      expect(page.IsTruncated).toBe(true)
      expect(page.NextPartNumberMarker).toBe('2')
      const rest = await s3.send(
        new ListPartsCommand({
          Bucket: bucket,
          Key: 'mpu-13',
          UploadId: id,
          PartNumberMarker: page.NextPartNumberMarker,
        }),
      )
      expect(rest.Parts?.map((p) => p.PartNumber)).toEqual([3])
      expect(rest.IsTruncated).toBe(false)
    })

    it('MPU-14 ListMultipartUploads orders by key then initiation and honours key-marker / upload-id-marker', async () => {
      const b = `${bucket}-uploads`
      await s3.send(new CreateBucketCommand({ Bucket: b }))
      const ids: Record<string, string[]> = { a: [], b: [], c: [] }
      for (const k of ['b', 'a', 'b', 'c', 'b'])
        ids[k].push((await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: k }))).UploadId!)
      const all = await s3.send(new ListMultipartUploadsCommand({ Bucket: b }))
      expect(all.Uploads?.map((u) => [u.Key, u.UploadId])).toEqual([
        ['a', ids.a[0]],
        ['b', ids.b[0]],
        ['b', ids.b[1]],
        ['b', ids.b[2]],
        ['c', ids.c[0]],
      ])
      expect(all.Uploads?.[0].Initiated).toBeInstanceOf(Date)
      const afterB0 = await s3.send(
        new ListMultipartUploadsCommand({ Bucket: b, KeyMarker: 'b', UploadIdMarker: ids.b[0] }),
      )
      expect(afterB0.Uploads?.map((u) => u.UploadId)).toEqual([ids.b[1], ids.b[2], ids.c[0]])
      const afterB = await s3.send(new ListMultipartUploadsCommand({ Bucket: b, KeyMarker: 'b' }))
      expect(afterB.Uploads?.map((u) => u.UploadId)).toEqual([ids.c[0]])
      const paged = await s3.send(new ListMultipartUploadsCommand({ Bucket: b, MaxUploads: 2 }))
      expect(paged.IsTruncated).toBe(true)
      expect([paged.NextKeyMarker, paged.NextUploadIdMarker]).toEqual(['b', ids.b[0]])
      await expectSdkError(
        s3.send(new ListMultipartUploadsCommand({ Bucket: b, KeyMarker: 'b', UploadIdMarker: 'not-an-upload' })),
        {
          status: 400,
          code: 'InvalidArgument',
          message: 'Invalid uploadId marker',
          fields: { ArgumentName: 'upload-id-marker' },
        },
      )
    })

    it('UploadPartCopy with x-amz-copy-source-range builds parts from slices of a source object', async () => {
      const src = randomBytes(6 * MiB + 500)
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'upc-src', Body: src }))
      const id = await create('upc-dst')
      const c1 = await s3.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: 'upc-dst',
          UploadId: id,
          PartNumber: 1,
          CopySource: `${bucket}/upc-src`,
          CopySourceRange: `bytes=0-${5 * MiB}`,
        }),
      )
      expect(c1.CopyPartResult?.ETag).toBe(`"${md5(src.subarray(0, 5 * MiB + 1))}"`)
      expect(c1.CopyPartResult?.LastModified).toBeInstanceOf(Date)
      expect(c1.ServerSideEncryption).toBe('AES256')
      const c2 = await s3.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: 'upc-dst',
          UploadId: id,
          PartNumber: 2,
          CopySource: `${bucket}/upc-src`,
          CopySourceRange: `bytes=${6 * MiB}-${6 * MiB + 499}`,
        }),
      )
      const done = await complete('upc-dst', id, [
        { PartNumber: 1, ETag: c1.CopyPartResult!.ETag },
        { PartNumber: 2, ETag: c2.CopyPartResult!.ETag },
      ])
      expect(done.ETag).toBe(multipartEtag([c1.CopyPartResult!.ETag!, c2.CopyPartResult!.ETag!]))
      const want = Buffer.concat([src.subarray(0, 5 * MiB + 1), src.subarray(6 * MiB)])
      expect((await read('upc-dst')).equals(want)).toBe(true)
    })

    it('UploadPartCopy without a range copies the whole source; a raw answer is CopyPartResult{ETag, LastModified}', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'upc-whole', Body: 'whole source' }))
      const id = await create('upc-whole-dst')
      const res = await signedSend(srv.port, {
        method: 'PUT',
        path: `/${bucket}/upc-whole-dst`,
        query: { partNumber: '1', uploadId: id },
        headers: { 'x-amz-copy-source': `/${bucket}/upc-whole` },
      })
      expect(res.status).toBe(200)
      const doc = parseXml(res.text).CopyPartResult
      expect(doc.ETag).toBe(`"${md5('whole source')}"`)
      expect(doc.LastModified).toMatch(/Z$/)
      await complete('upc-whole-dst', id, [{ PartNumber: 1, ETag: doc.ETag }])
      expect((await read('upc-whole-dst')).toString()).toBe('whole source')
    })

    it.each(['0-2', 'bytes=2-1', 'bytes=0-', 'bytes=-5', 'items=0-2'])(
      'MPU-15 x-amz-copy-source-range %j answers 400 InvalidArgument (must be of the form bytes=first-last)',
      async (range) => {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ten', Body: '0123456789' }))
        const id = await create('mpu-15')
        await expectSdkError(
          s3.send(
            new UploadPartCopyCommand({
              Bucket: bucket,
              Key: 'mpu-15',
              UploadId: id,
              PartNumber: 1,
              CopySource: `${bucket}/ten`,
              CopySourceRange: range,
            }),
          ),
          {
            status: 400,
            code: 'InvalidArgument',
            message:
              'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
            fields: { ArgumentName: 'x-amz-copy-source-range' },
          },
        )
      },
    )

    it('MPU-16 a copy range beyond a 10-byte source answers 400 InvalidArgument Range specified is not valid', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ten', Body: '0123456789' }))
      const id = await create('mpu-16')
      await expectSdkError(
        s3.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: 'mpu-16',
            UploadId: id,
            PartNumber: 1,
            CopySource: `${bucket}/ten`,
            CopySourceRange: 'bytes=5-10',
          }),
        ),
        {
          status: 400,
          code: 'InvalidArgument',
          message: 'Range specified is not valid for source object of size: 10',
        },
      )
    })

    it.each([
      ['an empty body', ''],
      ['a body that is not well-formed', '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>'],
      ['the wrong root element', '<Complete><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part></Complete>'],
      [
        'a PartNumber that is not a number',
        '<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>"x"</ETag></Part></CompleteMultipartUpload>',
      ],
    ])('MPU-17 Complete with %s answers 400 MalformedXML', async (_what, body) => {
      const id = await create('mpu-17')
      await part('mpu-17', id, 1, 'x')
      expectRawError(await rawComplete('mpu-17', id, body), {
        status: 400,
        code: 'MalformedXML',
        message: 'The XML you provided was not well-formed or did not validate against our published schema',
      })
    })

    it('MPU-18 repeating an identical Complete answers the same 200 result (contract-defined, not AWS-verified)', async () => {
      const id = await create('mpu-18')
      const p = await part('mpu-18', id, 1, 'once')
      const first = await complete('mpu-18', id, [p])
      const second = await complete('mpu-18', id, [p])
      expect([second.ETag, second.Bucket, second.Key, second.Location]).toEqual([
        first.ETag,
        first.Bucket,
        first.Key,
        first.Location,
      ])
    })

    it('CKS-07 an upload without a checksum algorithm completes with a FULL_OBJECT ChecksumCRC64NVME', async () => {
      const id = await create('cks-07')
      const p1 = await part('cks-07', id, 1, Buffer.alloc(5 * MiB, 'x'))
      const p2 = await part('cks-07', id, 2, 'end')
      const out = await complete('cks-07', id, [p1, p2])
      expect(out.ChecksumCRC64NVME).toMatch(/^[A-Za-z0-9+/]{11}=$/)
      expect(out.ChecksumType).toBe('FULL_OBJECT')
      // The whole-object CRC64NVME equals that of a single PUT of the same bytes.
      const single = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'cks-07-single',
          Body: Buffer.concat([Buffer.alloc(5 * MiB, 'x'), Buffer.from('end')]),
          ChecksumAlgorithm: 'CRC64NVME',
        }),
      )
      expect(out.ChecksumCRC64NVME).toBe(single.ChecksumCRC64NVME)
    })

    it('an upload with ChecksumAlgorithm SHA256 completes with a COMPOSITE checksum -N', async () => {
      const key = 'sha-composite'
      const { UploadId } = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: 'SHA256' }),
      )
      const bodies = [Buffer.alloc(5 * MiB, 'q'), Buffer.from('rest')]
      const parts: CompletedPart[] = []
      for (const [i, b] of bodies.entries()) {
        const out = await s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId,
            PartNumber: i + 1,
            Body: b,
            ChecksumAlgorithm: 'SHA256',
          }),
        )
        expect(out.ChecksumSHA256).toBe(createHash('sha256').update(b).digest('base64'))
        parts.push({ PartNumber: i + 1, ETag: out.ETag, ChecksumSHA256: out.ChecksumSHA256 })
      }
      const done = await complete(key, UploadId!, parts)
      const composite = createHash('sha256')
        .update(Buffer.concat(bodies.map((b) => createHash('sha256').update(b).digest())))
        .digest('base64')
      expect(done.ChecksumSHA256).toBe(`${composite}-2`)
      expect(done.ChecksumType).toBe('COMPOSITE')
    })

    it('lib-storage Upload of 20 MiB from a stream reads back byte-exact with a multipart ETag', async () => {
      const data = randomBytes(20 * MiB + 12345)
      const upload = new Upload({
        client: s3,
        params: {
          Bucket: bucket,
          Key: 'lib/20mib.bin',
          Body: Readable.from([data.subarray(0, 7 * MiB), data.subarray(7 * MiB)]),
        },
        partSize: 5 * MiB,
        queueSize: 3,
      })
      const out = await upload.done()
      expect(out.ETag).toMatch(/^"[0-9a-f]{32}-5"$/)
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'lib/20mib.bin' }))
      expect(got.ContentLength).toBe(data.length)
      expect(got.ETag).toBe(out.ETag)
      expect(sha256(Buffer.from(await got.Body!.transformToByteArray()))).toBe(sha256(data))
    })

    it('lib-storage Upload of a small body uses a single PutObject with the MD5 ETag', async () => {
      const out = await new Upload({
        client: s3,
        params: { Bucket: bucket, Key: 'lib/small', Body: 'small body' },
      }).done()
      expect(out.ETag).toBe(`"${md5('small body')}"`)
    })
  })
})
