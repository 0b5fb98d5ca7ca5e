/** @module E2E: request XML with character references, as Go clients (rclone) write it. */
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeReferences } from '../../server/s3/xml.js'
import { asArray, md5Base64, parseXml, signedSend } from '../support/raw-s3.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'

describe('XML character references in request bodies', () => {
  let srv: TestServer
  let s3: S3Client
  const bucket = 'xml-refs'

  beforeAll(async () => {
    srv = await startTestServer()
    s3 = makeClient(srv.endpoint, { maxAttempts: 1 })
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
  })
  afterAll(async () => {
    await srv?.close()
  })

  it('decodes the predefined entities and decimal and hex character references in one pass', () => {
    expect(decodeReferences('&#34;ab&#x22; it&#39;s &amp;#34; &lt;&gt;&quot;&apos; &#x1F600;')).toBe(
      '"ab" it\'s &#34; <>"\' \u{1F600}',
    )
  })

  it.each(['&nbsp;', '&#0;', '&#x110000;', '&#xFFFE;', '&bogus;', '&#;', '& x'])('refuses %s as malformed', (text) => {
    expect(() => decodeReferences(text)).toThrow(expect.objectContaining({ code: 'MalformedXML' }))
  })

  it('CompleteMultipartUpload with ETags written as &#34;…&#34; completes and reads back', async () => {
    const key = 'rclone-style'
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))
    const part = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: 'hello rclone' }),
    )
    const etag = part.ETag!.replace(/"/g, '&#34;')
    const body = `<CompleteMultipartUpload><Part><ETag>${etag}</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>`
    const res = await signedSend(srv.port, {
      method: 'POST',
      path: `/${bucket}/${key}`,
      query: { uploadId: UploadId! },
      body,
    })
    expect(res.status, res.text).toBe(200)
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    expect(await got.Body!.transformToString()).toBe('hello rclone')
  })

  it("DeleteObjects with <Key>it&#39;s</Key> deletes the object it's and names it so", async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "it's", Body: 'x' }))
    const body = '<Delete><Object><Key>it&#39;s</Key></Object></Delete>'
    const res = await signedSend(srv.port, {
      method: 'POST',
      path: `/${bucket}`,
      query: { delete: '' },
      headers: { 'content-md5': md5Base64(body) },
      body,
    })
    expect(res.status, res.text).toBe(200)
    const deleted = asArray(parseXml(res.text).DeleteResult.Deleted)
    expect(deleted.map((d: { Key: string }) => d.Key)).toEqual(["it's"])
    await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "it's" }))).rejects.toMatchObject({
      name: 'NoSuchKey',
    })
  })

  it('a body with an undeclared entity answers 400 MalformedXML', async () => {
    const body = '<Delete><Object><Key>a&nbsp;b</Key></Object></Delete>'
    const res = await signedSend(srv.port, {
      method: 'POST',
      path: `/${bucket}`,
      query: { delete: '' },
      headers: { 'content-md5': md5Base64(body) },
      body,
    })
    expect(res.status).toBe(400)
    expect(res.text).toContain('<Code>MalformedXML</Code>')
  })
})
