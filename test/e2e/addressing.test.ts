/**
 * @module E2E: path-style and virtual-hosted addressing, awkward and hostile keys (docs/s3-sse-rules.md §1.1, §8.1
 * ADDR-01..03).
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { readdir } from 'node:fs/promises'
import http from 'node:http'
import type { LookupFunction } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { expectRawError } from '../support/expect-s3.js'
import { encodeKeyPath, parseXml, signedSend, asArray } from '../support/raw-s3.js'
import { CHECKSUM_MODES, makeClient, withServer } from '../support/server.js'

/** Resolves every `*.localhost` (and `localhost`) to 127.0.0.1 without asking a resolver. */
const loopbackLookup: LookupFunction = (hostname, options, callback) => {
  if (hostname !== 'localhost' && !hostname.endsWith('.localhost')) {
    callback(Object.assign(new Error(`refusing to resolve ${hostname} in tests`), { code: 'ENOTFOUND' }), '', 4)
    return
  }
  if ((options as { all?: boolean }).all)
    (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [
      { address: '127.0.0.1', family: 4 },
    ])
  else callback(null, '127.0.0.1', 4)
}

/** Every file and folder name under `dir`, recursively. */
async function namesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    out.push(e.name)
    if (e.isDirectory()) out.push(...(await namesUnder(path.join(dir, e.name))))
  }
  return out
}

const AWKWARD_KEYS = [
  'a//b',
  '//leading-slashes',
  'dot/./segment',
  'dotdot/../segment',
  './start',
  '../start',
  'a/..',
  'trailing/',
  'with%2Bpercent',
  'with space',
  'plus+sign',
  'unicode/日本語/ファイル.txt',
  'emoji/😀',
  'accents/éàü',
  'query?x=1&y=2',
  'hash#frag',
  'semi;colon',
  'tilde~',
  "quote'd",
  'star*',
  'back\\slash',
  '%',
  '%%41',
]

describe('addressing', () => {
  const srv = withServer()

  describe.each(CHECKSUM_MODES)('with requestChecksumCalculation %s', (mode) => {
    let pathStyle: S3Client
    let vhost: S3Client
    const bucket = mode === 'WHEN_SUPPORTED' ? 'addr-ws' : 'addr-wr'

    beforeAll(async () => {
      pathStyle = makeClient(srv.endpoint, { requestChecksumCalculation: mode, maxAttempts: 1 })
      vhost = makeClient(`http://localhost:${srv.port}`, {
        forcePathStyle: false,
        requestChecksumCalculation: mode,
        maxAttempts: 1,
        requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ lookup: loopbackLookup }) }),
      })
      await pathStyle.send(new CreateBucketCommand({ Bucket: bucket }))
    })

    it('ADDR-02 a virtual-hosted client (Host <bucket>.localhost:<port>) runs put, head, get, list, copy and delete', async () => {
      const seen: Array<{ hostname: string; path: string }> = []
      vhost.middlewareStack.add(
        (next) => async (args) => {
          const r = args.request as { hostname: string; path: string }
          seen.push({ hostname: r.hostname, path: r.path })
          return next(args)
        },
        { step: 'finalizeRequest', name: 'recordHost' },
      )
      const put = await vhost.send(new PutObjectCommand({ Bucket: bucket, Key: 'vh/one.txt', Body: 'virtual' }))
      expect(put.ServerSideEncryption).toBe('AES256')
      expect((await vhost.send(new HeadObjectCommand({ Bucket: bucket, Key: 'vh/one.txt' }))).ContentLength).toBe(7)
      expect(
        await (await vhost.send(new GetObjectCommand({ Bucket: bucket, Key: 'vh/one.txt' }))).Body!.transformToString(),
      ).toBe('virtual')
      await vhost.send(new CopyObjectCommand({ Bucket: bucket, Key: 'vh/two.txt', CopySource: `${bucket}/vh/one.txt` }))
      const list = await vhost.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'vh/' }))
      expect(list.Contents?.map((c) => c.Key)).toEqual(['vh/one.txt', 'vh/two.txt'])
      await vhost.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'vh/two.txt' }))
      expect((await vhost.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'vh/' }))).KeyCount).toBe(1)
      vhost.middlewareStack.remove('recordHost')
      // The client really addressed the bucket by host name.
      expect(seen[0]).toEqual({ hostname: `${bucket}.localhost`, path: '/vh/one.txt' })
      expect(seen.every((r) => r.hostname === `${bucket}.localhost`)).toBe(true)
    })

    it('ADDR-01 path-style and virtual-hosted requests address the same bucket and key', async () => {
      await pathStyle.send(new PutObjectCommand({ Bucket: bucket, Key: 'both/ways', Body: 'path-style' }))
      expect(
        await (await vhost.send(new GetObjectCommand({ Bucket: bucket, Key: 'both/ways' }))).Body!.transformToString(),
      ).toBe('path-style')
      await vhost.send(new PutObjectCommand({ Bucket: bucket, Key: 'both/ways', Body: 'virtual' }))
      const viaPath = await pathStyle.send(new GetObjectCommand({ Bucket: bucket, Key: 'both/ways' }))
      expect(await viaPath.Body!.transformToString()).toBe('virtual')
    })

    it.each(AWKWARD_KEYS)(
      'ADDR-03 the key %j is stored, read and listed verbatim, path-style and virtual-hosted',
      async (key) => {
        const k = `awk/${key}`
        await pathStyle.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: `body of ${key}` }))
        expect(
          await (await pathStyle.send(new GetObjectCommand({ Bucket: bucket, Key: k }))).Body!.transformToString(),
        ).toBe(`body of ${key}`)
        expect(
          await (await vhost.send(new GetObjectCommand({ Bucket: bucket, Key: k }))).Body!.transformToString(),
        ).toBe(`body of ${key}`)
        const list = await pathStyle.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: k }))
        expect(list.Contents?.map((c) => c.Key)).toContain(k)
      },
    )

    it('ADDR-03 all awkward keys list as distinct, exact keys (no normalization)', async () => {
      const list = await pathStyle.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'awk/' }))
      const keys = (list.Contents ?? []).map((c) => c.Key!)
      expect([...keys].sort()).toEqual(AWKWARD_KEYS.map((k) => `awk/${k}`).sort())
    })
  })

  describe('raw HTTP', () => {
    const bucket = 'addr-raw'
    beforeAll(async () => {
      await makeClient(srv.endpoint).send(new CreateBucketCommand({ Bucket: bucket }))
    })

    it('ADDR-03 %2B in a path is a plus sign and a literal + stays a plus; both address the key a+b', async () => {
      expect((await signedSend(srv.port, { method: 'PUT', path: `/${bucket}/a%2Bb`, body: 'plus' })).status).toBe(200)
      const literal = await signedSend(srv.port, { method: 'GET', path: `/${bucket}/a+b` })
      expect(literal.text).toBe('plus')
      const list = parseXml(
        (await signedSend(srv.port, { method: 'GET', path: `/${bucket}`, query: { 'list-type': '2', prefix: 'a' } }))
          .text,
      )
      expect(asArray(list.ListBucketResult.Contents).map((c: { Key: string }) => c.Key)).toEqual(['a+b'])
    })

    it('ADDR-02 Host <bucket>.s3.localhost and <bucket>.s3.us-east-1.localhost are virtual-hosted; Host localhost is path-style', async () => {
      await signedSend(srv.port, { method: 'PUT', path: `/${bucket}/vh-raw`, body: 'vh raw' })
      for (const host of [
        `${bucket}.localhost:${srv.port}`,
        `${bucket}.s3.localhost:${srv.port}`,
        `${bucket}.s3.us-east-1.localhost:${srv.port}`,
      ]) {
        const res = await signedSend(srv.port, { method: 'GET', path: '/vh-raw', headers: { host } })
        expect([host, res.status, res.text]).toEqual([host, 200, 'vh raw'])
      }
      const pathStyle = await signedSend(srv.port, {
        method: 'GET',
        path: `/${bucket}/vh-raw`,
        headers: { host: `localhost:${srv.port}` },
      })
      expect(pathStyle.text).toBe('vh raw')
      const service = await signedSend(srv.port, {
        method: 'GET',
        path: '/',
        headers: { host: `s3.localhost:${srv.port}` },
      })
      expect(parseXml(service.text).ListAllMyBucketsResult).toBeDefined()
    })

    it('ADDR-02 virtual-host matching is case-insensitive: Host ADDR-RAW.LOCALHOST addresses the bucket addr-raw', async () => {
      await signedSend(srv.port, { method: 'PUT', path: `/${bucket}/vh-case`, body: 'any case' })
      const res = await signedSend(srv.port, {
        method: 'GET',
        path: '/vh-case',
        headers: { host: `${bucket.toUpperCase()}.LOCALHOST:${srv.port}` },
      })
      expect([res.status, res.text]).toEqual([200, 'any case'])
    })

    it('CreateBucket by a virtual-hosted request answers Location http://<bucket>.<host>/', async () => {
      const host = `addr-vh-new.localhost:${srv.port}`
      const res = await signedSend(srv.port, { method: 'PUT', path: '/', headers: { host } })
      expect(res.status, res.text).toBe(200)
      expect(res.headers.location).toBe(`http://${host}/`)
    })

    it('a virtual-hosted key keeps its leading slashes: Host <bucket>.localhost with path //x addresses the key /x', async () => {
      const host = `${bucket}.localhost:${srv.port}`
      expect(
        (await signedSend(srv.port, { method: 'PUT', path: '//x', headers: { host }, body: 'slash' })).status,
      ).toBe(200)
      const head = await signedSend(srv.port, { method: 'HEAD', path: `/${bucket}//x` })
      expect(head.status).toBe(200)
    })

    it.each([
      ['../../escape', '../../escape'],
      ['..%2F..%2Fescape', '../../escape'],
      ['%2e%2e/%2e%2e/%2e%2e/escape', '../../../escape'],
      ['..%5C..%5Cescape', '..\\..\\escape'],
      ['%2F..%2F..%2Fetc%2Fescape', '/../../etc/escape'],
    ])(
      'the hostile path /<bucket>/%s stores the key %j verbatim and writes nothing outside the data directory',
      async (rawKey, key) => {
        const marker = `escape-${randomBytes(6).toString('hex')}`
        const wireKey = rawKey.replace('escape', marker)
        const storedKey = key.replace('escape', marker)
        const put = await signedSend(srv.port, { method: 'PUT', path: `/${bucket}/${wireKey}`, body: 'hostile' })
        expect(put.status).toBe(200)
        const get = await signedSend(srv.port, { method: 'GET', path: `/${bucket}/${encodeKeyPath(storedKey)}` })
        expect(get.text).toBe('hostile')
        const list = parseXml(
          (
            await signedSend(srv.port, {
              method: 'GET',
              path: `/${bucket}`,
              query: { 'list-type': '2', prefix: storedKey },
            })
          ).text,
        )
        expect(asArray(list.ListBucketResult.Contents).map((c: { Key: string }) => c.Key)).toEqual([storedKey])
        // Nothing named after the key anywhere near the data directory, inside or out.
        expect(await namesUnder(srv.dataDir)).not.toContain(marker)
        for (const dir of [
          path.dirname(srv.dataDir),
          tmpdir(),
          path.dirname(tmpdir()),
          path.resolve(srv.dataDir, '../..'),
          path.resolve(srv.dataDir, '../../..'),
        ]) {
          expect(await readdir(dir).catch(() => [])).not.toContain(marker)
        }
        const names = await namesUnder(srv.dataDir)
        expect(names.some((n) => n.includes('escape'))).toBe(false)
      },
    )

    it('a key with a NUL byte is stored as a key and never as a file name', async () => {
      const put = await signedSend(srv.port, { method: 'PUT', path: `/${bucket}/nul%00byte`, body: 'nul' })
      expect([200, 400]).toContain(put.status)
      if (put.status === 200)
        expect((await signedSend(srv.port, { method: 'GET', path: `/${bucket}/nul%00byte` })).text).toBe('nul')
      expect((await namesUnder(srv.dataDir)).some((n) => n.includes('byte'))).toBe(false)
    })

    it('a path that is not valid percent-encoding answers 400 InvalidURI', async () => {
      expectRawError(await signedSend(srv.port, { method: 'GET', path: `/${bucket}/bad%E0%A4%A` }), {
        status: 400,
        code: 'InvalidURI',
      })
    })

    it('a path whose bucket is .. answers an error, not a file', async () => {
      const res = await signedSend(srv.port, { method: 'PUT', path: `/../${bucket}/x`, body: 'x' })
      expect(res.status).toBeGreaterThanOrEqual(400)
      expect(res.status).toBeLessThan(500)
    })
  })
})
