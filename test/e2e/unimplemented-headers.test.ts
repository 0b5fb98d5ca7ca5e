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

  it('PutObject with x-amz-write-offset-bytes (appends) answers 501 naming the header and writes nothing', async () => {
    const res = await signedSend(srv.port, {
      method: 'PUT',
      path: `/${bucket}/append`,
      headers: { 'x-amz-write-offset-bytes': '0' },
      body: 'x',
    })
    expect(res.status).toBe(501)
    expect(res.text).toContain('<Code>NotImplemented</Code>')
    expect(res.text).toContain('x-amz-write-offset-bytes')
    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'append' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    })
  })

  // Headers that were once accepted and dropped: each now does what it asks or is refused as AWS refuses it.
  it('x-amz-tagging on PutObject is stored (x-amz-tagging-count on HEAD)', async () => {
    const res = await signedSend(srv.port, {
      method: 'PUT',
      path: `/${bucket}/tagged`,
      headers: { 'x-amz-tagging': 'a=b&c=d' },
      body: 'x',
    })
    expect(res.status).toBe(200)
    const head = await signedSend(srv.port, { method: 'HEAD', path: `/${bucket}/tagged` })
    expect(head.headers['x-amz-tagging-count']).toBe('2')
  })

  it.each([
    ['x-amz-acl', 'public-read'],
    ['x-amz-grant-read', 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'],
  ])(
    'PutObject with %s on a BucketOwnerEnforced bucket answers 400 AccessControlListNotSupported and writes nothing',
    async (name, value) => {
      const key = `acl-${name}`
      const res = await signedSend(srv.port, {
        method: 'PUT',
        path: `/${bucket}/${key}`,
        headers: { [name]: value },
        body: 'x',
      })
      expect(res.status).toBe(400)
      expect(res.text).toContain('<Code>AccessControlListNotSupported</Code>')
      await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 404 },
      })
    },
  )

  it.each([
    ['x-amz-object-lock-mode', 'GOVERNANCE'],
    ['x-amz-object-lock-legal-hold', 'ON'],
  ])('PutObject with %s on a bucket without Object Lock is refused and writes nothing', async (name, value) => {
    const key = `lock-${name}`
    const res = await signedSend(srv.port, {
      method: 'PUT',
      path: `/${bucket}/${key}`,
      headers: { [name]: value, 'content-md5': 'ndTkYSaMgDT1yFZOFVxnpg==' },
      body: 'x',
    })
    expect(res.status).toBe(400)
    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    })
  })

  it('CreateBucket with x-amz-bucket-object-lock-enabled: true makes an Object Lock bucket', async () => {
    const res = await signedSend(srv.port, {
      method: 'PUT',
      path: '/unimpl-lock',
      headers: { 'x-amz-bucket-object-lock-enabled': 'true' },
    })
    expect(res.status).toBe(200)
    const conf = await signedSend(srv.port, { method: 'GET', path: '/unimpl-lock', query: { 'object-lock': '' } })
    expect(conf.status).toBe(200)
    expect(conf.text).toContain('<ObjectLockEnabled>Enabled</ObjectLockEnabled>')
  })

  it('CreateBucket with x-amz-object-ownership: ObjectWriter sets it', async () => {
    const res = await signedSend(srv.port, {
      method: 'PUT',
      path: '/unimpl-writer',
      headers: { 'x-amz-object-ownership': 'ObjectWriter' },
    })
    expect(res.status).toBe(200)
    const conf = await signedSend(srv.port, { method: 'GET', path: '/unimpl-writer', query: { ownershipControls: '' } })
    expect(conf.status).toBe(200)
    expect(conf.text).toContain('<ObjectOwnership>ObjectWriter</ObjectOwnership>')
  })

  it('CreateBucket with object lock false, ACL private and BucketOwnerEnforced succeeds', async () => {
    const res = await signedSend(srv.port, {
      method: 'PUT',
      path: '/unimpl-ok',
      headers: {
        'x-amz-bucket-object-lock-enabled': 'false',
        'x-amz-acl': 'private',
        'x-amz-object-ownership': 'BucketOwnerEnforced',
      },
    })
    expect(res.status).toBe(200)
  })
})
