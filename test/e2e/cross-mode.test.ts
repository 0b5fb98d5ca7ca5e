/** Rows of the checklist that span the encryption modes: ETAG-02, DEL-02, ADDR-04. */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { KMSClient, ListKeysCommand } from '@aws-sdk/client-kms'
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  makeClient,
  startTestServer,
  TEST_ACCESS_KEY_ID,
  TEST_REGION,
  TEST_SECRET_ACCESS_KEY,
  type TestServer,
} from '../support/server.js'
import { K1, sdkSsec } from '../support/sse-c.js'

describe('cross-mode rows', () => {
  let srv: TestServer
  const bucket = 'cross-mode'
  const body = 'test-sse'
  const md5 = createHash('md5').update(body).digest('hex')

  beforeAll(async () => {
    srv = await startTestServer()
    const s3 = makeClient(srv.endpoint)
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    // Unblock SSE-C on this bucket (new buckets block it, docs/s3-sse-rules.md §5.4).
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
              BlockedEncryptionTypes: { EncryptionType: ['NONE'] },
            },
          ],
        },
      }),
    )
  })
  afterAll(async () => {
    await srv.close()
  })

  it('ETAG-02 single PUTs under SSE-KMS, DSSE-KMS and SSE-C have a 32-hex ETag that is not the plaintext MD5', async () => {
    const s3 = makeClient(srv.endpoint)
    const puts = [
      { ServerSideEncryption: 'aws:kms' as const },
      { ServerSideEncryption: 'aws:kms:dsse' as const },
      { ...sdkSsec(K1) },
    ]
    for (const extra of puts) {
      const res = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: `etag-02-${Object.values(extra)[0]}`, Body: body, ...extra }),
      )
      const etag = res.ETag!.replace(/"/g, '')
      expect(etag).toMatch(/^[0-9a-f]{32}$/)
      expect(etag).not.toBe(md5)
    }
  })

  it('DEL-02 DeleteObject of an SSE-C object needs no key and answers 204', async () => {
    const s3 = makeClient(srv.endpoint)
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'del-02', Body: body, ...sdkSsec(K1) }))
    const res = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del-02' }))
    expect(res.$metadata.httpStatusCode).toBe(204)
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'del-02', ...sdkSsec(K1) })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } })
  })

  it('ADDR-04 POST / with X-Amz-Target TrentService.ListKeys is answered by the KMS in JSON, not by S3 (contract-defined, not AWS-verified)', async () => {
    const kms = new KMSClient({
      endpoint: srv.endpoint,
      region: TEST_REGION,
      credentials: { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY },
    })
    const res = await kms.send(new ListKeysCommand({}))
    expect(res.$metadata.httpStatusCode).toBe(200)
    expect(Array.isArray(res.Keys)).toBe(true)
    kms.destroy()
  })
})
