/**
 * @module Hardening (concurrent writers): many SDK clients write, overwrite, read and delete the same and
 * different keys at once (sizes across the 64 KiB chunk boundary, a few multipart uploads). Every
 * read must return exactly one of the versions written to that key — never a mix — the final
 * listing must agree with the objects, and after a restart the blob files must be exactly the
 * blobs the metadata references.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { createHash, randomInt } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LevelMetadataStore } from '../../storage/level/metadata.js'
import { versionContent as content } from '../support/content.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'

const BUCKET = 'concurrency'
const CLIENTS = 16
const OPS_PER_CLIENT = 30
const SHARED_KEYS = ['shared/a', 'shared/b', 'shared/c', 'shared/d']
const CHUNK = 64 * 1024
const SIZES = [0, 1, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 7, 3 * CHUNK - 1, 300_000]
const MiB = 1024 * 1024
const SEED = Number(process.env.CONCURRENCY_SEED ?? randomInt(2 ** 31))

/** mulberry32: a run's choices are reproducible with CONCURRENCY_SEED. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

interface Version {
  version: number
  size: number
  /** Multipart: the assembled content is given directly. */
  data?: Buffer
}

describe('concurrent clients', () => {
  let dataDir: string
  let server: TestServer
  const clients: S3Client[] = []
  /** Every version ever sent to a key (recorded before the request, so in-flight writes count). */
  const written = new Map<string, Map<string, Version>>()
  let nextVersion = 1
  const stats = { puts: 0, gets: 0, ranged: 0, deletes: 0, multipart: 0, misses: 0 }

  function record(key: string, v: Version, data: Buffer): void {
    let m = written.get(key)
    if (!m) written.set(key, (m = new Map()))
    m.set(sha(data), v)
  }

  function bodyOf(v: Version): Buffer {
    return v.data ?? content(v.version, v.size)
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-conc-'))
    server = await startTestServer({ dataDir })
    for (let i = 0; i < CLIENTS; i++)
      clients.push(
        makeClient(server.endpoint, { requestChecksumCalculation: i % 2 ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED' }),
      )
    await clients[0].send(new CreateBucketCommand({ Bucket: BUCKET }))
  })

  afterAll(async () => {
    for (const c of clients) c.destroy()
    await server?.close()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  async function put(s3: S3Client, key: string, size: number): Promise<void> {
    const v: Version = { version: nextVersion++, size }
    const data = content(v.version, size)
    record(key, v, data)
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: data }))
    stats.puts++
  }

  async function multipart(s3: S3Client, key: string): Promise<void> {
    const parts = [content(nextVersion++, 5 * MiB), content(nextVersion++, 5 * MiB + 3), content(nextVersion++, 70_001)]
    const whole = Buffer.concat(parts)
    record(key, { version: 0, size: whole.length, data: whole }, whole)
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }))
    const etags = await Promise.all(
      parts.map((p, i) =>
        s3
          .send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: i + 1, Body: p }))
          .then((r) => r.ETag),
      ),
    )
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    )
    stats.multipart++
  }

  /** A full or ranged GET; the bytes must be (the same slice of) exactly one written version. */
  async function get(s3: S3Client, key: string, range?: [number, number]): Promise<void> {
    let bytes: Uint8Array
    let etag: string | undefined
    try {
      const out = await s3.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: range ? `bytes=${range[0]}-${range[1]}` : undefined }),
      )
      bytes = await out.Body!.transformToByteArray()
      etag = out.ETag
    } catch (err) {
      const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } }
      // A GET holds the blobs of the version it found (every part of a multipart object) until it
      // has sent them, so a concurrent overwrite or delete never cuts it short: no tolerance here.
      if (e.name === 'NoSuchKey') {
        stats.misses++
        return
      }
      // A range past the end of a (then) shorter version.
      if (range && e.$metadata?.httpStatusCode === 416) return
      throw err
    }
    const versions = written.get(key)
    expect(versions, `read of never-written key ${key}`).toBeDefined()
    if (!range) {
      stats.gets++
      const v = versions!.get(sha(bytes))
      expect(v, `GET ${key} returned ${bytes.length} bytes matching no written version (seed ${SEED})`).toBeDefined()
      if (!v!.data) expect(etag).toBe(`"${createHash('md5').update(bytes).digest('hex')}"`)
      return
    }
    stats.ranged++
    const matches = [...versions!.values()].filter((v) => {
      const whole = bodyOf(v)
      if (range[0] >= whole.length) return false
      return Buffer.from(bytes).equals(whole.subarray(range[0], Math.min(range[1], whole.length - 1) + 1))
    })
    expect(matches.length, `ranged GET ${key} ${range} matches no single version (seed ${SEED})`).toBeGreaterThan(0)
  }

  it(`${CLIENTS} clients × ${OPS_PER_CLIENT} mixed operations: every read is exactly one written version`, async () => {
    const workers = clients.map(async (s3, id) => {
      const random = rng(SEED + id)
      const own = [`own/${id}/x`, `own/${id}/y`]
      for (let op = 0; op < OPS_PER_CLIENT; op++) {
        const key =
          random() < 0.65
            ? SHARED_KEYS[Math.floor(random() * SHARED_KEYS.length)]
            : own[Math.floor(random() * own.length)]
        const r = random()
        if (id < 3 && op === 5) await multipart(s3, SHARED_KEYS[id])
        else if (r < 0.4) await put(s3, key, SIZES[Math.floor(random() * SIZES.length)])
        else if (r < 0.75) await get(s3, key)
        else if (r < 0.9) {
          const start = Math.floor(random() * 3 * CHUNK)
          await get(s3, key, [start, start + Math.floor(random() * 2 * CHUNK)])
        } else {
          await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }))
          stats.deletes++
        }
      }
    })
    // allSettled: a failing worker must not leave the others running into the next test.
    const settled = await Promise.allSettled(workers)
    for (const r of settled) if (r.status === 'rejected') throw r.reason
    console.log(`concurrency seed ${SEED}:`, JSON.stringify(stats))
    expect(stats.puts).toBeGreaterThan(50)
    expect(stats.gets + stats.misses).toBeGreaterThan(50)
  })

  it('the final listing agrees with the objects', async () => {
    const s3 = clients[0]
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))
    const keys = (listed.Contents ?? []).map((o) => o.Key!)
    expect(new Set(keys).size).toBe(keys.length)
    expect([...keys].sort()).toEqual(keys)
    for (const o of listed.Contents ?? []) {
      expect(written.has(o.Key!)).toBe(true)
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: o.Key! }))
      expect(head.ContentLength).toBe(o.Size)
      expect(head.ETag).toBe(o.ETag)
      await get(s3, o.Key!)
    }
    // Every key not listed is really gone.
    for (const key of written.keys()) {
      if (keys.includes(key)) continue
      await expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 404 },
      })
    }
  })

  it('after a restart: same objects, and the blob files are exactly the referenced blobs', async () => {
    const before = await clients[0].send(new ListObjectsV2Command({ Bucket: BUCKET }))
    await server.close()
    server = await startTestServer({ dataDir })
    const s3 = makeClient(server.endpoint)
    try {
      const after = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))
      expect(after.Contents?.map((o) => [o.Key, o.ETag, o.Size])).toEqual(
        before.Contents?.map((o) => [o.Key, o.ETag, o.Size]),
      )
      for (const o of after.Contents ?? []) await get(s3, o.Key!)
    } finally {
      s3.destroy()
      await server.close()
    }
    const meta = await LevelMetadataStore.open(path.join(dataDir, 'meta'))
    const referenced = new Set<string>()
    try {
      for await (const id of meta.referencedBlobs()) referenced.add(id)
    } finally {
      await meta.close()
    }
    const files = new Set<string>()
    const blobsDir = path.join(dataDir, 'blobs')
    for (const shard of await readdir(blobsDir))
      for (const name of await readdir(path.join(blobsDir, shard))) files.add(name)
    expect(
      [...files].filter((f) => !referenced.has(f)),
      'orphan blob files',
    ).toEqual([])
    expect(
      [...referenced].filter((r) => !files.has(r)),
      'referenced blobs without a file',
    ).toEqual([])
    expect(await readdir(path.join(dataDir, 'tmp'))).toEqual([])
    // Reopen for afterAll's close (it is idempotent on a fresh server).
    server = await startTestServer({ dataDir })
  })
})
