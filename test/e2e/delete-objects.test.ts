/**
 * @module E2E: DeleteObjects — results, Quiet mode, integrity headers and malformed bodies (docs/s3-sse-rules.md §3.11,
 * §8.8 MDEL).
 */
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { beforeAll, describe, expect, it } from 'vitest'
import { expectRawError, expectSdkError } from '../support/expect-s3.js'
import { asArray, md5Base64, parseXml, signedSend } from '../support/raw-s3.js'
import { CHECKSUM_MODES, makeClient, withServer } from '../support/server.js'

const MALFORMED_XML = 'The XML you provided was not well-formed or did not validate against our published schema'

const deleteBody = (keys: string[], quiet = false) =>
  `<Delete>${quiet ? '<Quiet>true</Quiet>' : ''}${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join('')}</Delete>`

describe('DeleteObjects', () => {
  const srv = withServer()

  describe.each(CHECKSUM_MODES)('with requestChecksumCalculation %s', (mode) => {
    let s3: S3Client
    const bucket = mode === 'WHEN_SUPPORTED' ? 'mdel-ws' : 'mdel-wr'
    const put = (key: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }))
    const keysLeft = async () =>
      ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((c) => c.Key)

    beforeAll(async () => {
      s3 = makeClient(srv.endpoint, { requestChecksumCalculation: mode, maxAttempts: 1 })
      await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    })

    it('MDEL-01 deleting 3 existing keys answers 200 with three Deleted entries and removes them', async () => {
      for (const k of ['m1/a', 'm1/b', 'm1/c']) await put(k)
      const out = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: [{ Key: 'm1/a' }, { Key: 'm1/b' }, { Key: 'm1/c' }] },
        }),
      )
      expect(out.Deleted?.map((d) => d.Key).sort()).toEqual(['m1/a', 'm1/b', 'm1/c'])
      expect(out.Errors ?? []).toEqual([])
      expect((await keysLeft()).filter((k) => k?.startsWith('m1/'))).toEqual([])
    })

    it('MDEL-02 deleting 3 missing keys answers 200 with three Deleted entries', async () => {
      const out = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: [{ Key: 'nx/1' }, { Key: 'nx/2' }, { Key: 'nx/3' }] },
        }),
      )
      expect(out.Deleted?.map((d) => d.Key).sort()).toEqual(['nx/1', 'nx/2', 'nx/3'])
    })

    it('MDEL-03 Quiet=true lists only the Error entries', async () => {
      for (const k of ['q/ok', 'q/etag']) await put(k)
      const out = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: {
            Quiet: true,
            Objects: [
              { Key: 'q/ok' },
              { Key: 'q/missing' },
              { Key: 'q/etag', ETag: '"0123456789abcdef0123456789abcdef"' },
            ],
          },
        }),
      )
      expect(out.Deleted ?? []).toEqual([])
      expect(out.Errors?.map((e) => [e.Key, e.Code])).toEqual([['q/etag', 'PreconditionFailed']])
      expect((await keysLeft()).filter((k) => k?.startsWith('q/'))).toEqual(['q/etag'])
    })

    it('MDEL-04 1001 keys answer 400 MalformedXML (contract-defined, not AWS-verified); 1000 keys are accepted', async () => {
      const keys = Array.from({ length: 1001 }, (_, i) => ({ Key: `many/${i}` }))
      await expectSdkError(s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } })), {
        status: 400,
        code: 'MalformedXML',
        message: MALFORMED_XML,
      })
      const ok = await s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(0, 1000), Quiet: true } }),
      )
      expect(ok.Errors ?? []).toEqual([])
    })

    it('keys with XML special characters and unicode are deleted by their exact names', async () => {
      const keys = ['x/a&b<c>"d\'', 'x/ünïcødé 日本', 'x/sp ace+plus']
      for (const k of keys) await put(k)
      const out = await s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
      )
      expect(out.Deleted?.map((d) => d.Key).sort()).toEqual([...keys].sort())
      expect((await keysLeft()).filter((k) => k?.startsWith('x/'))).toEqual([])
    })
  })

  describe('raw HTTP', () => {
    const bucket = 'mdel-raw'
    beforeAll(async () => {
      await makeClient(srv.endpoint).send(new CreateBucketCommand({ Bucket: bucket }))
    })
    const post = (body: string, headers: Record<string, string>) =>
      signedSend(srv.port, { method: 'POST', path: `/${bucket}`, query: { delete: '' }, headers, body })

    it('DeleteObjects answers a DeleteResult document in the S3 namespace', async () => {
      const body = deleteBody(['r/1', 'r/2'])
      const res = await post(body, { 'content-md5': md5Base64(body) })
      expect(res.status).toBe(200)
      const doc = parseXml(res.text).DeleteResult
      expect(doc['@_xmlns']).toBe('http://s3.amazonaws.com/doc/2006-03-01/')
      expect(asArray(doc.Deleted).map((d: { Key: string }) => d.Key)).toEqual(['r/1', 'r/2'])
    })

    it('MDEL-05 no Content-MD5 and no checksum header answers 400 InvalidRequest (contract-defined, not AWS-verified)', async () => {
      const res = await post(deleteBody(['r/1']), {})
      expectRawError(res, {
        status: 400,
        code: 'InvalidRequest',
        message: 'Missing required header for this request: Content-MD5',
      })
    })

    it('MDEL-06 a wrong Content-MD5 answers 400 BadDigest and deletes nothing', async () => {
      await makeClient(srv.endpoint).send(new PutObjectCommand({ Bucket: bucket, Key: 'keep', Body: 'x' }))
      const body = deleteBody(['keep'])
      const res = await post(body, { 'content-md5': md5Base64('something else') })
      expectRawError(res, {
        status: 400,
        code: 'BadDigest',
        message: 'The Content-MD5 you specified did not match what we received.',
      })
      const head = await signedSend(srv.port, { method: 'HEAD', path: `/${bucket}/keep` })
      expect(head.status).toBe(200)
    })

    it.each([
      ['not well-formed', '<Delete><Object><Key>a</Key></Object>'],
      ['empty', ''],
      ['no Object', '<Delete><Quiet>true</Quiet></Delete>'],
      ['the wrong root element', '<Remove><Object><Key>a</Key></Object></Remove>'],
      ['an Object without a Key', '<Delete><Object><VersionId>1</VersionId></Object></Delete>'],
      ['not XML at all', '{"Objects":[{"Key":"a"}]}'],
    ])('a DeleteObjects body that is %s answers 400 MalformedXML (§3.11)', async (_what, body) => {
      const res = await post(body, { 'content-md5': md5Base64(body) })
      expectRawError(res, { status: 400, code: 'MalformedXML', message: MALFORMED_XML })
    })

    it('a body with nested DOCTYPE entities (billion laughs) is answered without expanding them, and the server keeps serving', async () => {
      let entities = '<!ENTITY a0 "xxxxxxxxxx">'
      for (let i = 1; i < 10; i++) entities += `<!ENTITY a${i} "${`&a${i - 1};`.repeat(10)}">`
      const body = `<?xml version="1.0"?><!DOCTYPE d [${entities}]><Delete><Object><Key>&a9;</Key></Object></Delete>`
      const res = await post(body, { 'content-md5': md5Base64(body) })
      expect([200, 400]).toContain(res.status)
      expect(res.body.length).toBeLessThan(64 * 1024)
      const list = await signedSend(srv.port, { method: 'GET', path: `/${bucket}`, query: { 'list-type': '2' } })
      expect(list.status).toBe(200)
    })
  })
})
