/**
 * @module Crash safety of lifecycle sweeps: a server child with one-second lifecycle days is
 * SIGKILLed while its sweeper expires many versions and a client writes, then restarted with real
 * days (so nothing more is due). Every acknowledged version no rule covers reads back
 * byte-identical by its id, and every version the listing shows is whole (its bytes match its
 * ETag): no half-removed or half-written version is visible.
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { createHash, randomBytes, randomInt } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { killStartedServers, serverArgs, spawnServer, type ChildServer } from '../support/child-server.js'
import { makeClient } from '../support/server.js'

const BUCKET = 'crash-lifecycle'
const SEEDED = 40
const SIZES = [0, 1, 65_536, 65_537, 200_000]
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex')
const startChild = (dataDir: string, extra: string[] = []) =>
  spawnServer(process.execPath, serverArgs(dataDir, ['--log-level', 'silent', ...extra]))
async function killChild(child: ChildServer): Promise<void> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL')
  await child.exited
}
const clientFor = (endpoint: string): S3Client =>
  makeClient(endpoint, { maxAttempts: 1, requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 } })

/** The sweeper's action count from /metrics (skipped actions not counted). */
async function lifecycleActions(endpoint: string): Promise<number> {
  const text = await (await fetch(`${endpoint}/metrics`)).text()
  let n = 0
  for (const m of text.matchAll(/^strongroom_lifecycle_actions_total\{action="([^"]+)"\} (\d+)/gm))
    if (m[1] !== 'skipped') n += Number(m[2])
  return n
}

describe('crash: SIGKILL during lifecycle sweeps', () => {
  let dataDir: string | undefined
  let child: ChildServer | undefined
  afterAll(async () => {
    killStartedServers()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  it('acknowledged versions no rule covers survive; listed versions are whole', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-crash-lc-'))
    child = await startChild(dataDir, ['--lifecycle-day-seconds', '1'])
    let s3 = clientFor(child.endpoint)
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
    await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }))
    // Work for the sweeper: versions and markers it expires, then removes.
    for (let i = 0; i < SEEDED; i++) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `x/${i}`, Body: randomBytes(SIZES[i % SIZES.length]) }))
      await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: `x/${i}`, Body: randomBytes(SIZES[(i + 1) % SIZES.length]) }),
      )
    }
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: BUCKET,
        LifecycleConfiguration: {
          Rules: [
            {
              ID: 'x',
              Filter: { Prefix: 'x/' },
              Status: 'Enabled',
              Expiration: { Days: 1 },
              NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            },
          ],
        },
      }),
    )
    // Wait (bounded rounds) until sweeps are removing things, then write while they go on.
    for (let i = 0; i < 400 && (await lifecycleActions(child.endpoint)) === 0; i++) await sleep(100)
    expect(await lifecycleActions(child.endpoint)).toBeGreaterThan(0)

    const acked = new Map<string, { key: string; md5?: string; marker?: boolean }>()
    let done = 0
    const killAfter = randomInt(40, 120)
    let killed = false
    const worker = async () => {
      for (let i = 0; i < 300 && !killed; i++) {
        // Keys under k/ no rule covers; keys under x/ the sweeper races with.
        const key = randomInt(2) === 0 ? `k/${randomInt(6)}` : `x/${randomInt(SEEDED)}`
        try {
          if (randomInt(6) === 0) {
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
    await Promise.all(Array.from({ length: 8 }, worker))
    expect(killed).toBe(true)
    s3.destroy()

    // Real days: nothing written seconds ago is due any more, so what is there now stays.
    child = await startChild(dataDir)
    s3 = clientFor(child.endpoint)
    const listed: Array<{ key: string; id: string; marker: boolean; etag?: string }> = []
    let KeyMarker: string | undefined
    let VersionIdMarker: string | undefined
    for (let page = 0; page < 200; page++) {
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
    let checked = 0
    for (const [id, a] of acked) {
      if (!a.key.startsWith('k/')) continue
      const l = byId.get(id)
      expect(l, `acknowledged ${a.marker ? 'marker' : 'version'} ${a.key}@${id} is listed`).toBeDefined()
      expect(l!.marker).toBe(!!a.marker)
      if (a.marker) continue
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: a.key, VersionId: id }))
      expect(md5(await got.Body!.transformToByteArray()), `${a.key}@${id}`).toBe(a.md5)
      checked++
    }
    expect(checked).toBeGreaterThan(0)
    // Whatever the sweeper and the kill left under x/ (and the cut-short writes) is whole.
    for (const l of listed.filter((x) => !x.marker)) {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: l.key, VersionId: l.id }))
      expect(`"${md5(await got.Body!.transformToByteArray())}"`, `${l.key}@${l.id}`).toBe(l.etag)
    }
    s3.destroy()
    child.proc.kill('SIGTERM')
    const stopped = await child.exited
    child = undefined
    expect(stopped.code).toBe(0)
  }, 240_000)
})
