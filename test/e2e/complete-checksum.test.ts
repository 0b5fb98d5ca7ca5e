/**
 * @module E2E: the x-amz-checksum-* header of CompleteMultipartUpload is the checksum of the whole
 * object (AWS CompleteMultipartUpload API reference), not of the XML body: the right FULL_OBJECT
 * value completes, a wrong one is 400 BadDigest and leaves the upload in place.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListPartsCommand,
  UploadPartCommand,
  type ChecksumAlgorithm,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checksumOf } from '../../server/s3/checksums.js'
import { expectSdkError } from '../support/expect-s3.js'
import { K1, sdkSsec } from '../support/sse-c.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'

const MiB = 1024 * 1024
const BUCKET = 'complete-checksum'
const PARTS = ['A', 'B', 'C'].map((c) => Buffer.alloc(5 * MiB, c))
const WHOLE = Buffer.concat(PARTS)

describe('CompleteMultipartUpload with a FULL_OBJECT checksum header', () => {
  let srv: TestServer
  let s3: S3Client
  beforeAll(async () => {
    srv = await startTestServer({ args: ['--allow-sse-c-on-new-buckets'] })
    s3 = makeClient(srv.endpoint, { requestChecksumCalculation: 'WHEN_REQUIRED', maxAttempts: 1 })
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
  })
  afterAll(async () => {
    await srv?.close()
  })

  it('the CRC32 of 3 parts of 5 MiB of A, B, C is WgDhBQ==', () => {
    expect(checksumOf('CRC32', WHOLE)).toBe('WgDhBQ==')
  })

  async function upload(algorithm: 'CRC32' | 'CRC32C' | 'CRC64NVME', key: string) {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        ChecksumAlgorithm: algorithm,
        ChecksumType: 'FULL_OBJECT',
      }),
    )
    const field = `Checksum${algorithm}` as const
    const parts = []
    for (const [i, Body] of PARTS.entries()) {
      const r = await s3.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId,
          PartNumber: i + 1,
          Body,
          [field]: checksumOf(algorithm, Body),
        }),
      )
      parts.push({ PartNumber: i + 1, ETag: r.ETag, [field]: r[field] })
    }
    return { UploadId: UploadId!, parts, field }
  }

  for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
    it(`${algorithm}: the whole-object value completes and is the object's checksum`, async () => {
      const key = `ok-${algorithm}`
      const { UploadId, parts, field } = await upload(algorithm, key)
      const whole = checksumOf(algorithm, WHOLE)
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: parts },
          ChecksumType: 'FULL_OBJECT',
          [field]: whole,
        }),
      )
      expect([done[field], done.ChecksumType]).toEqual([whole, 'FULL_OBJECT'])
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: 'ENABLED' }))
      expect(head[field]).toBe(whole)
    })

    it(`${algorithm}: a value that is not the object's answers 400 BadDigest and keeps the upload`, async () => {
      const key = `bad-${algorithm}`
      const { UploadId, parts, field } = await upload(algorithm, key)
      const wrong = checksumOf(algorithm, Buffer.from('not the object'))
      await expectSdkError(
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: BUCKET,
            Key: key,
            UploadId,
            MultipartUpload: { Parts: parts },
            ChecksumType: 'FULL_OBJECT',
            [field]: wrong,
          }),
        ),
        { status: 400, code: 'BadDigest' },
      )
      const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId }))
      expect(listed.Parts?.length).toBe(3)
    })
  }

  it('SSE-C: the whole-object CRC32 completes with the customer key, and HEAD with the key answers it', async () => {
    const key = 'ssec-crc32'
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        ChecksumAlgorithm: 'CRC32',
        ChecksumType: 'FULL_OBJECT',
        ...sdkSsec(K1),
      }),
    )
    const parts = []
    for (const [i, Body] of PARTS.entries()) {
      const r = await s3.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId,
          PartNumber: i + 1,
          Body,
          ChecksumCRC32: checksumOf('CRC32', Body),
          ...sdkSsec(K1),
        }),
      )
      parts.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32 })
    }
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: parts },
        ChecksumType: 'FULL_OBJECT',
        ChecksumCRC32: 'WgDhBQ==',
        ...sdkSsec(K1),
      }),
    )
    expect(done.ChecksumCRC32).toBe('WgDhBQ==')
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: 'ENABLED', ...sdkSsec(K1) }),
    )
    expect(head.ChecksumCRC32).toBe('WgDhBQ==')
  })

  it("a checksum header of another algorithm than the upload's answers 400 InvalidRequest", async () => {
    const { UploadId, parts } = await upload('CRC32', 'other-alg')
    const alg: ChecksumAlgorithm = 'CRC32C'
    await expectSdkError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'other-alg',
          UploadId,
          MultipartUpload: { Parts: parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
          ChecksumCRC32C: checksumOf(alg, WHOLE),
        }),
      ),
      { status: 400, code: 'InvalidRequest' },
    )
  })
})
