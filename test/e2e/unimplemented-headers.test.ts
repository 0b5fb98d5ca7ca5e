/**
 * @module E2E: headers of features we do not implement answer 501 NotImplemented and change nothing.
 * (ACL and Object Ownership headers are implemented: test/e2e/access-control.test.ts.)
 */
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signedSend } from '../support/raw-s3.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'

describe('headers of unimplemented features', () => {
  let srv: TestServer
  let s3: S3Client
  const bucket = 'unimpl'

  beforeAll(async () => {
    srv = await startTestServer()
    s3 = makeClient(srv.endpoint, { maxAttempts: 1 })
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'source' }))
  })
  afterAll(async () => {
    await srv?.close()
  })

  const objectHeaders: Array<[string, string]> = [
    ['x-amz-tagging', 'a=b'],
    ['x-amz-object-lock-mode', 'GOVERNANCE'],
    ['x-amz-object-lock-retain-until-date', '2030-01-01T00:00:00Z'],
    ['x-amz-object-lock-legal-hold', 'ON'],
  ]

  it.each(objectHeaders)('PutObject with %s: %s answers 501 and writes nothing', async (name, value) => {
    const key = `put-${name}-${value.length}`
    const res = await signedSend(srv.port, { method: 'PUT', path: `/${bucket}/${key}`, headers: { [name]: value }, body: 'data' })
    expect(res.status).toBe(501)
    expect(res.text).toContain('<Code>NotImplemented</Code>')
    expect(res.text).toContain(name)
    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } })
  })

  it.each(objectHeaders)('CopyObject with %s: %s answers 501', async (name, value) => {
    const res = await signedSend(srv.port, { method: 'PUT', path: `/${bucket}/copy`, headers: { 'x-amz-copy-source': `/${bucket}/src`, [name]: value } })
    expect(res.status).toBe(501)
  })

  it.each(objectHeaders)('CreateMultipartUpload with %s: %s answers 501', async (name, value) => {
    const res = await signedSend(srv.port, { method: 'POST', path: `/${bucket}/mpu`, query: { uploads: '' }, headers: { [name]: value } })
    expect(res.status).toBe(501)
  })

  it('PutObject with x-amz-write-offset-bytes answers 501', async () => {
    const res = await signedSend(srv.port, { method: 'PUT', path: `/${bucket}/append`, headers: { 'x-amz-write-offset-bytes': '0' }, body: 'x' })
    expect(res.status).toBe(501)
  })

  it('the canned ACLs private and bucket-owner-full-control are what every object is, and are accepted', async () => {
    for (const v of ['private', 'bucket-owner-full-control']) {
      const res = await signedSend(srv.port, { method: 'PUT', path: `/${bucket}/acl-${v}`, headers: { 'x-amz-acl': v }, body: 'x' })
      expect(res.status).toBe(200)
    }
  })

  it.each([
    ['x-amz-bucket-object-lock-enabled', 'true'],
  ])('CreateBucket with %s: %s answers 501 and creates no bucket', async (name, value) => {
    const b = `unimpl-${name.length}-${value.length}`
    const res = await signedSend(srv.port, { method: 'PUT', path: `/${b}`, headers: { [name]: value } })
    expect(res.status).toBe(501)
    const head = await signedSend(srv.port, { method: 'HEAD', path: `/${b}` })
    expect(head.status).toBe(404)
  })

  it('CreateBucket with object lock false, ACL private and BucketOwnerEnforced succeeds', async () => {
    const res = await signedSend(srv.port, {
      method: 'PUT', path: '/unimpl-ok',
      headers: { 'x-amz-bucket-object-lock-enabled': 'false', 'x-amz-acl': 'private', 'x-amz-object-ownership': 'BucketOwnerEnforced' },
    })
    expect(res.status).toBe(200)
  })
})
