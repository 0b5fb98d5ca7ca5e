/**
 * @module Crash safety of versions: a server child is SIGKILLed while PUTs and deletes (markers)
 * run against a versioned bucket, then restarted. Every acknowledged version reads back
 * byte-identical by its id, every acknowledged delete marker is listed, and every version the
 * listing shows is whole (its bytes match its ETag): no half version is visible.
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { createHash, randomBytes, randomInt } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { killStartedServers, serverArgs, spawnServer, type ChildServer } from '../support/child-server.js'
import { makeClient } from '../support/server.js'

const BUCKET = 'crash-versions'
const KEYS = Array.from({ length: 8 }, (_, i) => `k${i}`)
const SIZES = [0, 1, 65_536, 65_537, 300_000, 1_100_000]
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex')
const startChild = (dataDir: string) => spawnServer(process.execPath, serverArgs(dataDir, ['--log-level', 'silent']))
/** SIGKILL; resolves once the child has been reaped (so LevelDB's lock is free again). */
async function killChild(child: ChildServer): Promise<void> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL')
  await child.exited
}
const clientFor = (endpoint: string): S3Client =>
  makeClient(endpoint, { maxAttempts: 1, requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 } })

describe('crash: SIGKILL during versioned PUTs and deletes', () => {
  let dataDir: string | undefined
  let child: ChildServer | undefined
  afterAll(async () => {
    killStartedServers()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  it('acknowledged versions and markers survive; listed versions are whole', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-crash-v-'))
    child = await startChild(dataDir)
    let s3 = clientFor(child.endpoint)
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
    await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }))
    const acked = new Map<string, { key: string; md5?: string; marker?: boolean }>()
    let done = 0
    const killAfter = randomInt(40, 90)
    let killed = false
    const worker = async () => {
      for (let i = 0; i < 200 && !killed; i++) {
        const key = KEYS[randomInt(KEYS.length)]
        try {
          if (randomInt(5) === 0) {
            const r = await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }))
            acked.set(r.VersionId!, { key, marker: true })
          } else {
            const body = randomBytes(SIZES[randomInt(SIZES.length)])
            const r = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }))
            acked.set(r.VersionId!, { key, md5: md5(body) })
          }
        } catch {
          if (!killed) throw new Error('a request failed before the kill')
          return
        }
        if (++done === killAfter) {
          killed = true
          await killChild(child!)
        }
      }
    }
    await Promise.all(Array.from({ length: 12 }, worker))
    expect(killed).toBe(true)
    s3.destroy()

    child = await startChild(dataDir)
    s3 = clientFor(child.endpoint)
    const listed: Array<{ key: string; id: string; marker: boolean; etag?: string }> = []
    let KeyMarker: string | undefined
    let VersionIdMarker: string | undefined
    for (let page = 0; page < 100; page++) {
      const r = await s3.send(
        new ListObjectVersionsCommand({ Bucket: BUCKET, KeyMarker, VersionIdMarker, MaxKeys: 50 }),
      )
      for (const v of r.Versions ?? []) listed.push({ key: v.Key!, id: v.VersionId!, marker: false, etag: v.ETag })
      for (const m of r.DeleteMarkers ?? []) listed.push({ key: m.Key!, id: m.VersionId!, marker: true })
      if (!r.IsTruncated) break
      KeyMarker = r.NextKeyMarker
      VersionIdMarker = r.NextVersionIdMarker
    }
    const byId = new Map(listed.map((l) => [l.id, l]))
    for (const [id, a] of acked) {
      const l = byId.get(id)
      expect(l, `acknowledged ${a.marker ? 'marker' : 'version'} ${a.key}@${id} is listed`).toBeDefined()
      expect(l!.marker).toBe(!!a.marker)
      if (a.marker) continue
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: a.key, VersionId: id }))
      expect(md5(await got.Body!.transformToByteArray()), `${a.key}@${id}`).toBe(a.md5)
    }
    // Versions the kill cut short may or may not be there; any that is, is whole.
    for (const l of listed.filter((x) => !x.marker && !acked.has(x.id))) {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: l.key, VersionId: l.id }))
      expect(`"${md5(await got.Body!.transformToByteArray())}"`).toBe(l.etag)
    }
    s3.destroy()
    child.proc.kill('SIGTERM')
    const stopped = await child.exited
    child = undefined
    expect(stopped.code).toBe(0)
  }, 180_000)
})
