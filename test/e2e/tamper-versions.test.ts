/**
 * @module Format SR2 on real files, with the server stopped: records swapped between two keys,
 * copied to another key, bucket or version, two versions' records swapped, and a multipart
 * object's parts reordered, dropped or duplicated (sizes adjusted so they still add up). Each
 * fails authentication on GET (500 InternalError, no data) and in `strongroom verify` (exit 1);
 * untouched objects still read.
 */
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Level } from 'level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { versionKey } from '../../storage/level/keys.js'
import { expectRawError } from '../support/expect-s3.js'
import { signedSend } from '../support/raw-s3.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'

const REPO = path.resolve(import.meta.dirname, '../..')
const TSX = path.join(REPO, 'node_modules/.bin/tsx')
const MiB = 1024 * 1024
const B = 'tamper-ver'
const B2 = 'tv-other'

describe('SR2: records and parts moved on disk fail authentication', () => {
  let dataDir: string
  let server: TestServer | undefined
  const ids: Record<string, string> = {}
  const bodies: Record<string, Buffer> = {}

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-tamper-v-'))
    server = await startTestServer({ dataDir })
    const s3 = makeClient(server.endpoint, { maxAttempts: 1 })
    for (const Bucket of [B, B2]) {
      await s3.send(new CreateBucketCommand({ Bucket }))
      await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }))
    }
    const put = async (Bucket: string, Key: string, name = Key) => {
      bodies[name] = randomBytes(70_000)
      ids[name] = (await s3.send(new PutObjectCommand({ Bucket, Key, Body: bodies[name] }))).VersionId!
    }
    for (const k of ['a', 'b', 'copied', 'intact']) await put(B, k)
    await put(B2, 'other')
    await put(B, 'doc', 'doc-1')
    await put(B, 'doc', 'doc-2')
    for (const k of ['mp-reorder', 'mp-drop', 'mp-dup']) {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: k }))
      const parts = [randomBytes(5 * MiB), randomBytes(100_000)]
      const Parts = []
      for (const [i, Body] of parts.entries())
        Parts.push({
          PartNumber: i + 1,
          ETag: (await s3.send(new UploadPartCommand({ Bucket: B, Key: k, UploadId, PartNumber: i + 1, Body }))).ETag,
        })
      ids[k] = (
        await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: k, UploadId, MultipartUpload: { Parts } }))
      ).VersionId!
      bodies[k] = Buffer.concat(parts)
    }
    s3.destroy()
    await server.close({ keepData: true })
    server = undefined

    const db = new Level<Buffer, string>(path.join(dataDir, 'meta'), { keyEncoding: 'buffer', valueEncoding: 'utf8' })
    await db.open()
    try {
      const at = (bucket: string, key: string) =>
        versionKey(bucket, key, ids[bucket === B2 ? key : key === 'doc' ? 'doc-1' : key])
      const get = async (k: Buffer) => (await db.get(k))!
      // Swap the records of two keys.
      const [ra, rb] = [await get(at(B, 'a')), await get(at(B, 'b'))]
      await db.put(at(B, 'a'), rb)
      await db.put(at(B, 'b'), ra)
      // Copy a record to another key (over its own version), and to another bucket.
      await db.put(versionKey(B, 'copied', ids.copied), await get(versionKey(B, 'intact', ids.intact)))
      await db.put(versionKey(B2, 'other', ids.other), await get(versionKey(B, 'intact', ids.intact)))
      // Swap two versions' records of one key.
      const [v1, v2] = [await get(versionKey(B, 'doc', ids['doc-1'])), await get(versionKey(B, 'doc', ids['doc-2']))]
      await db.put(versionKey(B, 'doc', ids['doc-1']), v2)
      await db.put(versionKey(B, 'doc', ids['doc-2']), v1)
      // Splice the parts of multipart objects; sizes adjusted so the record still adds up.
      const splice = async (key: string, f: (parts: Array<{ size: number }>) => Array<{ size: number }>) => {
        const k = versionKey(B, key, ids[key])
        const rec = JSON.parse(await get(k))
        rec.parts = f(rec.parts)
        rec.size = rec.parts.reduce((n: number, p: { size: number }) => n + p.size, 0)
        rec.multipartCount = rec.parts.length
        await db.put(k, JSON.stringify(rec))
      }
      await splice('mp-reorder', (p) => [p[1], p[0]])
      await splice('mp-drop', (p) => [p[0]])
      await splice('mp-dup', (p) => [p[0], p[0], p[1]])
    } finally {
      await db.close()
    }
    server = await startTestServer({ dataDir })
  }, 120_000)
  afterAll(async () => {
    await server?.close({ keepData: true })
    await rm(dataDir, { recursive: true, force: true })
  })

  const TAMPERED: Array<[string, string, string?]> = [
    ['swap two keys (a)', 'a'],
    ['swap two keys (b)', 'b'],
    ['copy to another key', 'copied'],
    ['copy to another bucket', 'other'],
    ['swap versions (current)', 'doc'],
    ['swap versions (by id)', 'doc', 'doc-1'],
    ['parts reordered', 'mp-reorder'],
    ['last part dropped', 'mp-drop'],
    ['a part duplicated', 'mp-dup'],
  ]

  it.each(TAMPERED)('%s: GET answers 500 InternalError and none of the data', async (_name, key, version) => {
    const bucket = key === 'other' ? B2 : B
    const query = version ? { versionId: ids[version] } : undefined
    const res = await signedSend(server!.port, { method: 'GET', path: `/${bucket}/${key}`, query })
    expectRawError(res, { status: 500, code: 'InternalError' })
    for (const body of Object.values(bodies)) expect(res.body.includes(body.subarray(0, 32))).toBe(false)
  })

  it('untouched objects still read', async () => {
    const res = await signedSend(server!.port, { method: 'GET', path: `/${B}/intact` })
    expect(res.status).toBe(200)
    expect(res.body.equals(bodies.intact)).toBe(true)
  })

  it('strongroom verify (server stopped) reports every tampered version, exit 1', async () => {
    await server!.close({ keepData: true })
    server = undefined
    const out: { code: number; stdout: string } = await new Promise((resolve, reject) => {
      execFile(
        TSX,
        ['server/main.ts', 'verify', '--data-dir', dataDir],
        { cwd: REPO, timeout: 60_000 },
        (err, stdout) => {
          if (err && typeof err.code !== 'number') reject(err)
          else resolve({ code: err ? Number(err.code) : 0, stdout })
        },
      )
    })
    server = await startTestServer({ dataDir })
    expect(out.code, out.stdout).toBe(1)
    const failed = (bucket: string, key: string, id: string) =>
      new RegExp(`^FAILED\\s+${bucket}/${key} \\(version ${id}\\)`, 'm')
    for (const k of ['a', 'b', 'copied', 'mp-reorder', 'mp-drop', 'mp-dup'])
      expect(out.stdout).toMatch(failed(B, k, ids[k]))
    expect(out.stdout).toMatch(failed(B2, 'other', ids.other))
    expect(out.stdout).toMatch(failed(B, 'doc', ids['doc-1']))
    expect(out.stdout).toMatch(failed(B, 'doc', ids['doc-2']))
    expect(out.stdout).toMatch(new RegExp(`^OK\\s+${B}/intact`, 'm'))
  }, 120_000)
})
