/**
 * @module E2E: ListObjectsV2 and ListObjects v1 — order, delimiters, pagination, encoding, parameter errors
 * (docs/s3-sse-rules.md §3.12, §8.8 LST).
 */
import {
  CreateBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectRawError, expectSdkError } from '../support/expect-s3.js'
import { asArray, parseXml, signedSend } from '../support/raw-s3.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/'

/** Runs `fn` over `items` with at most `n` in flight. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++])
    }),
  )
}

/** UTF-8 byte order, the order S3 lists keys in (§3.12). */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))

describe('listing', () => {
  let srv: TestServer
  let s3: S3Client
  const put = (bucket: string, key: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }))
  const listRaw = (bucket: string, query: Record<string, string>) =>
    signedSend(srv.port, { method: 'GET', path: `/${bucket}`, query })

  beforeAll(async () => {
    srv = await startTestServer()
    s3 = makeClient(srv.endpoint, { maxAttempts: 1 })
    for (const b of ['big', 'tree', 'uni', 'enc']) await s3.send(new CreateBucketCommand({ Bucket: b }))
    const bigKeys = Array.from({ length: 2500 }, (_, i) => `k/${String(i).padStart(5, '0')}`)
    await pool(bigKeys, 32, (k) => put('big', k))
    for (const k of ['a/1', 'a/2', 'a/b/1', 'a/b/2', 'a/c/1', 'a/d', 'b/1', 'top', 'a-sibling']) await put('tree', k)
  })
  afterAll(async () => {
    await srv?.close()
  })

  it('LST-04 2500 keys list in pages of 1000 via NextContinuationToken; the last page has IsTruncated=false', async () => {
    const pages: string[][] = []
    let token: string | undefined
    for (;;) {
      const out = await s3.send(new ListObjectsV2Command({ Bucket: 'big', ContinuationToken: token }))
      pages.push((out.Contents ?? []).map((c) => c.Key!))
      expect(out.KeyCount).toBe(pages.at(-1)!.length)
      if (!out.IsTruncated) {
        expect(out.NextContinuationToken).toBeUndefined()
        break
      }
      expect(out.NextContinuationToken).toBeTruthy()
      // Tokens are opaque: not the raw key (§3.12.1).
      expect(out.NextContinuationToken).not.toContain('k/')
      token = out.NextContinuationToken
    }
    expect(pages.map((p) => p.length)).toEqual([1000, 1000, 500])
    const all = pages.flat()
    expect(all).toEqual(Array.from({ length: 2500 }, (_, i) => `k/${String(i).padStart(5, '0')}`))
  })

  it('ListObjectsV2 with max-keys 7 pages through 2500 keys with tokens, each key once, in order', async () => {
    const seen: string[] = []
    let token: string | undefined
    let pages = 0
    do {
      const out = await s3.send(
        new ListObjectsV2Command({ Bucket: 'big', Prefix: 'k/000', MaxKeys: 7, ContinuationToken: token }),
      )
      seen.push(...(out.Contents ?? []).map((c) => c.Key!))
      token = out.NextContinuationToken
      pages++
    } while (token)
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => `k/${String(i).padStart(5, '0')}`))
    expect(pages).toBe(15)
  })

  it('LST-01 keys Apple/, apple/, éclair/ and other unicode keys are listed in UTF-8 byte order', async () => {
    const keys = [
      'éclair/',
      'apple/',
      'Apple/',
      'Zebra',
      'ß',
      '日本語/ファイル.txt',
      '😀 emoji',
      'a b',
      'a+b',
      'a%2Bb',
      '~tilde',
      'z\u00a0nbsp',
    ]
    for (const k of keys) await put('uni', k)
    const out = await s3.send(new ListObjectsV2Command({ Bucket: 'uni' }))
    const listed = (out.Contents ?? []).map((c) => c.Key!)
    expect(listed).toEqual([...keys].sort(byteOrder))
    expect(listed.indexOf('Apple/')).toBeLessThan(listed.indexOf('apple/'))
    expect(listed.indexOf('apple/')).toBeLessThan(listed.indexOf('éclair/'))
  })

  it('LST-02 prefix=a/ delimiter=/ rolls deeper keys into CommonPrefixes, each counting once toward max-keys', async () => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: 'tree', Prefix: 'a/', Delimiter: '/' }))
    expect(out.Contents?.map((c) => c.Key)).toEqual(['a/1', 'a/2', 'a/d'])
    expect(out.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/b/', 'a/c/'])
    expect(out.Delimiter).toBe('/')
    expect(out.Prefix).toBe('a/')
    const page = await s3.send(new ListObjectsV2Command({ Bucket: 'tree', Prefix: 'a/', Delimiter: '/', MaxKeys: 3 }))
    expect(page.Contents?.map((c) => c.Key)).toEqual(['a/1', 'a/2'])
    expect(page.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/b/'])
    expect(page.IsTruncated).toBe(true)
    const rest = await s3.send(
      new ListObjectsV2Command({
        Bucket: 'tree',
        Prefix: 'a/',
        Delimiter: '/',
        MaxKeys: 3,
        ContinuationToken: page.NextContinuationToken,
      }),
    )
    expect(rest.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/c/'])
    expect(rest.Contents?.map((c) => c.Key)).toEqual(['a/d'])
    expect(rest.IsTruncated).toBe(false)
  })

  it('a delimiter without prefix groups the top level', async () => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: 'tree', Delimiter: '/' }))
    expect(out.Contents?.map((c) => c.Key)).toEqual(['a-sibling', 'top'])
    expect(out.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/', 'b/'])
  })

  it('an empty delimiter means none and is omitted from the result', async () => {
    const res = await listRaw('tree', { 'list-type': '2', delimiter: '' })
    const doc = parseXml(res.text).ListBucketResult
    expect(doc.Delimiter).toBeUndefined()
    expect(asArray(doc.Contents)).toHaveLength(9)
  })

  it('LST-03 KeyCount counts keys plus common prefixes returned', async () => {
    const res = await listRaw('tree', { 'list-type': '2', prefix: 'a/', delimiter: '/' })
    expect(res.status).toBe(200)
    const doc = parseXml(res.text).ListBucketResult
    expect(doc['@_xmlns']).toBe(NS)
    expect(doc.KeyCount).toBe('5')
    expect(doc.Name).toBe('tree')
    expect(doc.MaxKeys).toBe('1000')
    expect(doc.IsTruncated).toBe('false')
  })

  it('LST-05 a continuation token not issued by the store answers 400 InvalidArgument', async () => {
    for (const token of ['garbage', 'azEvMDAwMDE=', '']) {
      await expectSdkError(s3.send(new ListObjectsV2Command({ Bucket: 'tree', ContinuationToken: token || '%%%' })), {
        status: 400,
        code: 'InvalidArgument',
        message: 'The continuation token provided is incorrect',
        fields: { ArgumentName: 'continuation-token' },
      })
    }
  })

  it('LST-06 start-after=k lists only keys after k', async () => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: 'tree', StartAfter: 'a/c/1' }))
    expect(out.Contents?.map((c) => c.Key)).toEqual(['a/d', 'b/1', 'top'])
    expect(out.StartAfter).toBe('a/c/1')
    const none = await s3.send(new ListObjectsV2Command({ Bucket: 'tree', StartAfter: 'zzz' }))
    expect(none.KeyCount).toBe(0)
  })

  it('with both a continuation token and start-after the token wins and StartAfter is echoed', async () => {
    const first = await s3.send(new ListObjectsV2Command({ Bucket: 'tree', MaxKeys: 2 }))
    const out = await s3.send(
      new ListObjectsV2Command({
        Bucket: 'tree',
        MaxKeys: 2,
        ContinuationToken: first.NextContinuationToken,
        StartAfter: 'b/1',
      }),
    )
    expect(out.Contents?.map((c) => c.Key)).toEqual(['a/2', 'a/b/1'])
    expect(out.StartAfter).toBe('b/1')
    expect(out.ContinuationToken).toBe(first.NextContinuationToken)
  })

  it.each(['abc', '1.5', '99999999999999999999'])(
    'LST-07 max-keys=%s answers 400 InvalidArgument (max-keys not an integer)',
    async (v) => {
      expectRawError(await listRaw('tree', { 'list-type': '2', 'max-keys': v }), {
        status: 400,
        code: 'InvalidArgument',
        message: 'Provided max-keys not an integer or within integer range',
        fields: { ArgumentName: 'max-keys', ArgumentValue: v },
      })
    },
  )

  it('a negative max-keys answers 400 InvalidArgument with ArgumentName maxKeys (contract-defined, not AWS-verified)', async () => {
    expectRawError(await listRaw('tree', { 'list-type': '2', 'max-keys': '-1' }), {
      status: 400,
      code: 'InvalidArgument',
      message: 'Argument maxKeys must be an integer between 0 and 2147483647',
      fields: { ArgumentName: 'maxKeys' },
    })
  })

  it('LST-08 max-keys=0 answers no entries and IsTruncated=false', async () => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: 'tree', MaxKeys: 0 }))
    expect(out.Contents).toBeUndefined()
    expect(out.IsTruncated).toBe(false)
    expect(out.KeyCount).toBe(0)
  })

  it('max-keys above 1000 behaves as 1000 and is echoed as sent (contract-defined, not AWS-verified)', async () => {
    const res = await listRaw('big', { 'list-type': '2', 'max-keys': '5000' })
    const doc = parseXml(res.text).ListBucketResult
    expect(doc.MaxKeys).toBe('5000')
    expect(asArray(doc.Contents)).toHaveLength(1000)
    expect(doc.IsTruncated).toBe('true')
  })

  it('LST-09 encoding-type=url percent-encodes keys, prefixes and common prefixes', async () => {
    for (const k of ['foo+1/bar', 'quux ab/thud', 'asdf+b']) await put('enc', k)
    const res = await listRaw('enc', { 'list-type': '2', delimiter: '/', 'encoding-type': 'url' })
    const doc = parseXml(res.text).ListBucketResult
    expect(doc.EncodingType).toBe('url')
    expect(asArray(doc.Contents).map((c: { Key: string }) => c.Key)).toEqual(['asdf%2Bb'])
    expect(asArray(doc.CommonPrefixes).map((p: { Prefix: string }) => p.Prefix)).toEqual(['foo%2B1/', 'quux%20ab/'])
    expect(doc.Delimiter).toBe('/')
    const withPrefix = parseXml(
      (
        await listRaw('enc', {
          'list-type': '2',
          prefix: 'quux ab/',
          'start-after': 'quux ab/',
          'encoding-type': 'url',
        })
      ).text,
    ).ListBucketResult
    expect(withPrefix.Prefix).toBe('quux%20ab/')
    expect(withPrefix.StartAfter).toBe('quux%20ab/')
    expect(asArray(withPrefix.Contents).map((c: { Key: string }) => c.Key)).toEqual(['quux%20ab/thud'])
  })

  it.each(['xml', ''])('LST-10 encoding-type=%j answers 400 InvalidArgument Invalid Encoding Method', async (v) => {
    expectRawError(await listRaw('enc', { 'list-type': '2', 'encoding-type': v }), {
      status: 400,
      code: 'InvalidArgument',
      message: 'Invalid Encoding Method specified in Request',
      fields: { ArgumentName: 'encoding-type', ArgumentValue: v },
    })
    expectRawError(await listRaw('enc', { 'encoding-type': v }), {
      status: 400,
      code: 'InvalidArgument',
      fields: { ArgumentName: 'encoding-type' },
    })
  })

  it('LST-11 ListObjectsV2 has no Owner without fetch-owner and Owner{ID} with fetch-owner=true', async () => {
    const plain = await s3.send(new ListObjectsV2Command({ Bucket: 'tree', MaxKeys: 1 }))
    expect(plain.Contents?.[0].Owner).toBeUndefined()
    const owned = await s3.send(new ListObjectsV2Command({ Bucket: 'tree', MaxKeys: 1, FetchOwner: true }))
    expect(owned.Contents?.[0].Owner?.ID).toMatch(/^[0-9a-f]{64}$/)
  })

  it('LST-12 ListObjects v1 with a delimiter answers NextMarker = the last key or prefix returned; without delimiter none', async () => {
    const page1 = await s3.send(new ListObjectsCommand({ Bucket: 'tree', Delimiter: '/', MaxKeys: 2 }))
    // Byte order: '-' (0x2d) sorts before '/' (0x2f).
    expect(page1.Contents?.map((c) => c.Key)).toEqual(['a-sibling'])
    expect(page1.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/'])
    expect(page1.IsTruncated).toBe(true)
    expect(page1.NextMarker).toBe('a/')
    const page2 = await s3.send(
      new ListObjectsCommand({ Bucket: 'tree', Delimiter: '/', MaxKeys: 2, Marker: page1.NextMarker }),
    )
    expect(page2.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['b/'])
    expect(page2.Contents?.map((c) => c.Key)).toEqual(['top'])
    expect(page2.IsTruncated).toBe(false)
    expect(page2.NextMarker).toBeUndefined()

    const flat = await s3.send(new ListObjectsCommand({ Bucket: 'tree', MaxKeys: 3 }))
    expect(flat.IsTruncated).toBe(true)
    expect(flat.NextMarker).toBeUndefined()
    expect(flat.Contents?.map((c) => c.Key)).toEqual(['a-sibling', 'a/1', 'a/2'])
    const after = await s3.send(
      new ListObjectsCommand({ Bucket: 'tree', MaxKeys: 3, Marker: flat.Contents!.at(-1)!.Key }),
    )
    expect(after.Contents?.map((c) => c.Key)).toEqual(['a/b/1', 'a/b/2', 'a/c/1'])
  })

  it('ListObjects v1 always answers Marker (empty when not sent), Owner{ID} on every entry and no KeyCount', async () => {
    const res = await listRaw('tree', { 'max-keys': '2' })
    expect(res.status).toBe(200)
    const doc = parseXml(res.text).ListBucketResult
    expect(doc['@_xmlns']).toBe(NS)
    expect(doc.Marker).toBe('')
    expect(doc.KeyCount).toBeUndefined()
    for (const c of asArray(doc.Contents) as Array<{ Owner: { ID: string } }>)
      expect(c.Owner.ID).toMatch(/^[0-9a-f]{64}$/)
  })

  it('ListObjects v1 pages through 2500 keys with Marker', async () => {
    let marker: string | undefined
    let total = 0
    for (;;) {
      const out = await s3.send(new ListObjectsCommand({ Bucket: 'big', Marker: marker }))
      total += out.Contents?.length ?? 0
      if (!out.IsTruncated) break
      marker = out.Contents!.at(-1)!.Key
    }
    expect(total).toBe(2500)
  })

  it('LST-13 listings show no SSE fields; ETag, Size and LastModified agree with HeadObject to the second', async () => {
    const res = await listRaw('tree', { 'list-type': '2', prefix: 'top' })
    expect(res.text).not.toMatch(/ServerSideEncryption|SSEKMS|x-amz-server-side/i)
    const entry = parseXml(res.text).ListBucketResult.Contents as Record<string, string>
    expect(Object.keys(entry).sort()).toEqual([
      'ChecksumAlgorithm',
      'ChecksumType',
      'ETag',
      'Key',
      'LastModified',
      'Size',
      'StorageClass',
    ])
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'tree', Key: 'top' }))
    expect(entry.ETag).toBe(head.ETag)
    expect(Number(entry.Size)).toBe(head.ContentLength)
    expect(entry.StorageClass).toBe('STANDARD')
    expect(entry.LastModified).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    expect(Math.floor(new Date(entry.LastModified).getTime() / 1000)).toBe(head.LastModified!.getTime() / 1000)
  })

  it('ListObjectsV2 of an empty prefix range answers KeyCount 0 and the Name/Prefix echo', async () => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: 'tree', Prefix: 'nothing/' }))
    expect([out.KeyCount, out.IsTruncated, out.Name, out.Prefix]).toEqual([0, false, 'tree', 'nothing/'])
  })
})
