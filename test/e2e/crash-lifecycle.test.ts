/**
 * @module Crash safety of lifecycle sweeps: a server child with one-second lifecycle days is
 * SIGKILLed while its sweeper expires many versions and a client writes, then restarted with real
 * days (so nothing more is due). Every acknowledged version no rule covers reads back
 * byte-identical by its id, and every version the listing shows is whole (its bytes match its
 * ETag): no half-removed or half-written version is visible.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { randomBytes, randomInt } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { killChild, killStartedServers, serverArgs, spawnServer, type ChildServer } from '../support/child-server.js'
import { makeClient } from '../support/server.js'
import { listedVersions, md5Hex, writeVersionsUntilKilled } from '../support/versions.js'

const BUCKET = 'crash-lifecycle'
const SEEDED = 40
const SIZES = [0, 1, 65_536, 65_537, 200_000]
const startChild = (dataDir: string, extra: string[] = []) =>
  spawnServer(process.execPath, serverArgs(dataDir, ['--log-level', 'silent', ...extra]))
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

    const { acked, killed } = await writeVersionsUntilKilled({
      s3,
      bucket: BUCKET,
      workers: 8,
      rounds: 300,
      killAfter: randomInt(40, 120),
      deleteOneIn: 6,
      sizes: SIZES,
      // Keys under k/ no rule covers; keys under x/ the sweeper races with.
      keyOf: () => (randomInt(2) === 0 ? `k/${randomInt(6)}` : `x/${randomInt(SEEDED)}`),
      kill: () => killChild(child!),
    })
    expect(killed).toBe(true)
    s3.destroy()

    // Real days: nothing written seconds ago is due any more, so what is there now stays.
    child = await startChild(dataDir)
    s3 = clientFor(child.endpoint)
    const listed = await listedVersions(s3, BUCKET)
    const byId = new Map(listed.map((l) => [l.id, l]))
    let checked = 0
    for (const [id, a] of acked) {
      if (!a.key.startsWith('k/')) continue
      const l = byId.get(id)
      expect(l, `acknowledged ${a.marker ? 'marker' : 'version'} ${a.key}@${id} is listed`).toBeDefined()
      expect(l!.marker).toBe(!!a.marker)
      if (a.marker) continue
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: a.key, VersionId: id }))
      expect(md5Hex(await got.Body!.transformToByteArray()), `${a.key}@${id}`).toBe(a.md5)
      checked++
    }
    expect(checked).toBeGreaterThan(0)
    // Whatever the sweeper and the kill left under x/ (and the cut-short writes) is whole.
    for (const l of listed.filter((x) => !x.marker)) {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: l.key, VersionId: l.id }))
      expect(`"${md5Hex(await got.Body!.transformToByteArray())}"`, `${l.key}@${l.id}`).toBe(l.etag)
    }
    s3.destroy()
    child.proc.kill('SIGTERM')
    const stopped = await child.exited
    child = undefined
    expect(stopped.code).toBe(0)
  }, 240_000)
})
