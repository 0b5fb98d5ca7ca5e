/**
 * @module E2E: conditional writes (If-None-Match: *, If-Match) on PutObject, CompleteMultipartUpload
 * and CopyObject's destination, answered as AWS does (AWS S3 User Guide, conditional writes): 412
 * PreconditionFailed when the condition does not hold, 404 NoSuchKey for If-Match on a missing key,
 * and of concurrent conditional writers exactly one wins.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectSdkError } from '../support/expect-s3.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'

const BUCKET = 'conditional-writes'

describe('conditional writes', () => {
  let srv: TestServer
  let s3: S3Client
  beforeAll(async () => {
    srv = await startTestServer()
    s3 = makeClient(srv.endpoint, { maxAttempts: 1 })
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
  })
  afterAll(async () => {
    await srv?.close()
  })

  const text = async (key: string) =>
    (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString()

  async function upload(key: string, body: string) {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }))
    const { ETag } = await s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, Body: body }),
    )
    return { UploadId: UploadId!, MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] } }
  }

  it('PutObject If-Match: the current ETag writes; another ETag is 412; a missing key is 404 NoSuchKey', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'put-if-match', Body: 'one' }))
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'put-if-match', Body: 'two', IfMatch: first.ETag }))
    expect(await text('put-if-match')).toBe('two')
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'put-if-match', Body: 'three', IfMatch: first.ETag })),
      { status: 412, code: 'PreconditionFailed' },
    )
    expect(await text('put-if-match')).toBe('two')
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'put-if-match-missing', Body: 'x', IfMatch: first.ETag })),
      { status: 404, code: 'NoSuchKey' },
    )
  })

  it('CompleteMultipartUpload If-None-Match: * on an existing key is 412 and the upload stays; on a free key it completes', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'mpu-inm', Body: 'existing' }))
    const up = await upload('mpu-inm', 'from the upload')
    await expectSdkError(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'mpu-inm', ...up, IfNoneMatch: '*' })),
      { status: 412, code: 'PreconditionFailed' },
    )
    expect(await text('mpu-inm')).toBe('existing')
    expect(
      (await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'mpu-inm', UploadId: up.UploadId }))).Parts?.length,
    ).toBe(1)

    const free = await upload('mpu-inm-free', 'fresh')
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'mpu-inm-free', ...free, IfNoneMatch: '*' }),
    )
    expect(await text('mpu-inm-free')).toBe('fresh')
  })

  it('CompleteMultipartUpload If-Match: the current ETag completes, another is 412, a missing key is 404 NoSuchKey', async () => {
    const cur = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'mpu-im', Body: 'existing' }))
    const wrong = await upload('mpu-im', 'not this one')
    await expectSdkError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'mpu-im',
          ...wrong,
          IfMatch: '"0123456789abcdef0123456789abcdef"',
        }),
      ),
      { status: 412, code: 'PreconditionFailed' },
    )
    expect(await text('mpu-im')).toBe('existing')
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'mpu-im', ...wrong, IfMatch: cur.ETag }))
    expect(await text('mpu-im')).toBe('not this one')

    const missing = await upload('mpu-im-missing', 'x')
    await expectSdkError(
      s3.send(
        new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'mpu-im-missing', ...missing, IfMatch: cur.ETag }),
      ),
      { status: 404, code: 'NoSuchKey' },
    )
  })

  it("two concurrent If-None-Match: * PutObjects of one key: exactly one 200, the other 412, and the object is the winner's", async () => {
    for (let round = 0; round < 5; round++) {
      const key = `race-put-${round}`
      const results = await Promise.allSettled(
        ['a', 'b'].map((Body) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body, IfNoneMatch: '*' }))),
      )
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [['a', 'b'][i]] : []))
      expect(won.length).toBe(1)
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
      expect(lost.reason.$metadata?.httpStatusCode).toBe(412)
      expect(await text(key)).toBe(won[0])
    }
  })

  it('two concurrent If-None-Match: * Completes of one key: exactly one 200, the other 412', async () => {
    for (let round = 0; round < 3; round++) {
      const key = `race-mpu-${round}`
      const ups = [await upload(key, 'a'), await upload(key, 'b')]
      const results = await Promise.allSettled(
        ups.map((up) =>
          s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, ...up, IfNoneMatch: '*' })),
        ),
      )
      expect(results.filter((r) => r.status === 'fulfilled').length).toBe(1)
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
      expect(lost.reason.$metadata?.httpStatusCode).toBe(412)
    }
  })
})
