/**
 * @module E2E: GetObjectAttributes (AWS GetObjectAttributes API reference) with the JS SDK: ETag,
 * Checksum, ObjectParts with pagination, StorageClass, ObjectSize; versionId and delete markers;
 * an SSE-C object needs its key as for HEAD.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectAttributesCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checksumOf } from '../../server/s3/checksums.js'
import { expectRawError, expectSdkError } from '../support/expect-s3.js'
import { signedSend } from '../support/raw-s3.js'
import { K1, sdkSsec } from '../support/sse-c.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'

const BUCKET = 'attributes'
const ALL = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const
const MiB = 1024 * 1024

describe('GetObjectAttributes', () => {
  let srv: TestServer
  let s3: S3Client
  beforeAll(async () => {
    srv = await startTestServer({ args: ['--allow-sse-c-on-new-buckets'] })
    s3 = makeClient(srv.endpoint, { maxAttempts: 1, requestChecksumCalculation: 'WHEN_REQUIRED' })
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
  })
  afterAll(async () => {
    await srv?.close()
  })

  it('a single PUT: ETag without quotes, size, storage class, its checksum, no ObjectParts, Last-Modified', async () => {
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'single',
        Body: 'hello',
        ChecksumCRC32: checksumOf('CRC32', Buffer.from('hello')),
      }),
    )
    const a = await s3.send(
      new GetObjectAttributesCommand({ Bucket: BUCKET, Key: 'single', ObjectAttributes: [...ALL] }),
    )
    expect(a.ETag).toBe(put.ETag!.replace(/"/g, ''))
    expect([a.ObjectSize, a.StorageClass, a.ObjectParts]).toEqual([5, 'STANDARD', undefined])
    expect(a.Checksum).toMatchObject({
      ChecksumCRC32: checksumOf('CRC32', Buffer.from('hello')),
      ChecksumType: 'FULL_OBJECT',
    })
    expect(a.LastModified).toBeInstanceOf(Date)
    const only = await s3.send(
      new GetObjectAttributesCommand({ Bucket: BUCKET, Key: 'single', ObjectAttributes: ['ObjectSize'] }),
    )
    expect([only.ObjectSize, only.ETag, only.Checksum]).toEqual([5, undefined, undefined])
  })

  it('a multipart object: PartsCount and its parts with size and checksum, paged by max-parts and part-number-marker', async () => {
    const key = 'multi'
    const bodies = [Buffer.alloc(5 * MiB, 'a'), Buffer.alloc(5 * MiB, 'b'), Buffer.from('tail')]
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ChecksumAlgorithm: 'CRC32' }),
    )
    const parts = []
    for (const [i, Body] of bodies.entries()) {
      const r = await s3.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId,
          PartNumber: i + 1,
          Body,
          ChecksumCRC32: checksumOf('CRC32', Body),
        }),
      )
      parts.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32 })
    }
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts: parts } }),
    )
    const page1 = await s3.send(
      new GetObjectAttributesCommand({
        Bucket: BUCKET,
        Key: key,
        ObjectAttributes: ['ObjectParts', 'ObjectSize'],
        MaxParts: 2,
      }),
    )
    expect(page1.ObjectSize).toBe(10 * MiB + 4)
    expect(page1.ObjectParts).toMatchObject({
      TotalPartsCount: 3,
      MaxParts: 2,
      IsTruncated: true,
      NextPartNumberMarker: '2',
    })
    expect(page1.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size, p.ChecksumCRC32])).toEqual([
      [1, 5 * MiB, checksumOf('CRC32', bodies[0])],
      [2, 5 * MiB, checksumOf('CRC32', bodies[1])],
    ])
    const page2 = await s3.send(
      new GetObjectAttributesCommand({
        Bucket: BUCKET,
        Key: key,
        ObjectAttributes: ['ObjectParts'],
        MaxParts: 2,
        PartNumberMarker: '2',
      }),
    )
    expect(page2.ObjectParts).toMatchObject({ IsTruncated: false, PartNumberMarker: '2' })
    expect(page2.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([[3, 4]])
  })

  it('a missing or unknown attribute name is 400 InvalidArgument; a missing key is 404 NoSuchKey', async () => {
    expectRawError(
      await signedSend(srv.port, { method: 'GET', path: `/${BUCKET}/single`, query: { attributes: '' } }),
      { status: 400, code: 'InvalidArgument' },
    )
    expectRawError(
      await signedSend(srv.port, {
        method: 'GET',
        path: `/${BUCKET}/single`,
        query: { attributes: '' },
        headers: { 'x-amz-object-attributes': 'ETag,Colour' },
      }),
      { status: 400, code: 'InvalidArgument' },
    )
    await expectSdkError(
      s3.send(new GetObjectAttributesCommand({ Bucket: BUCKET, Key: 'nope', ObjectAttributes: ['ETag'] })),
      { status: 404, code: 'NoSuchKey' },
    )
  })

  it('an SSE-C object: without the key 400, with the right key 200 and the C headers', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'ssec', Body: 'secret', ...sdkSsec(K1) }))
    await expectSdkError(
      s3.send(new GetObjectAttributesCommand({ Bucket: BUCKET, Key: 'ssec', ObjectAttributes: ['ETag'] })),
      { status: 400, code: 'InvalidRequest' },
    )
    const a = await s3.send(
      new GetObjectAttributesCommand({
        Bucket: BUCKET,
        Key: 'ssec',
        ObjectAttributes: ['ObjectSize', 'Checksum'],
        ...sdkSsec(K1),
      }),
    )
    expect(a.ObjectSize).toBe(6)
    expect(a.Checksum?.ChecksumCRC64NVME).toBe(checksumOf('CRC64NVME', Buffer.from('secret')))
  })

  it('versioned bucket: versionId names a version and x-amz-version-id answers it; a current delete marker is 404 with x-amz-delete-marker', async () => {
    const b = 'attributes-versions'
    await s3.send(new CreateBucketCommand({ Bucket: b }))
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }))
    const v1 = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'one' }))
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'second' }))
    const a = await s3.send(
      new GetObjectAttributesCommand({
        Bucket: b,
        Key: 'k',
        VersionId: v1.VersionId,
        ObjectAttributes: ['ObjectSize'],
      }),
    )
    expect([a.ObjectSize, a.VersionId]).toEqual([3, v1.VersionId])
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }))
    const res = await signedSend(srv.port, {
      method: 'GET',
      path: `/${b}/k`,
      query: { attributes: '' },
      headers: { 'x-amz-object-attributes': 'ETag' },
    })
    expectRawError(res, { status: 404, code: 'NoSuchKey' })
    expect(res.headers['x-amz-delete-marker']).toBe('true')
  })
})
