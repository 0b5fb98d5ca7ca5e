/**
 * @module Crash safety of versions: a server child is SIGKILLed while PUTs and deletes (markers)
 * run against a versioned bucket, then restarted. Every acknowledged version reads back
 * byte-identical by its id, every acknowledged delete marker is listed, and every version the
 * listing shows is whole (its bytes match its ETag): no half version is visible.
 */
import { CreateBucketCommand, GetObjectCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3'
import { randomInt } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { killChild, killStartedServers, serverArgs, spawnServer, type ChildServer } from '../support/child-server.js'
import { makeClient } from '../support/server.js'
import { listedVersions, md5Hex, writeVersionsUntilKilled } from '../support/versions.js'

const BUCKET = 'crash-versions'
const KEYS = Array.from({ length: 8 }, (_, i) => `k${i}`)
const SIZES = [0, 1, 65_536, 65_537, 300_000, 1_100_000]
const startChild = (dataDir: string) => spawnServer(process.execPath, serverArgs(dataDir, ['--log-level', 'silent']))
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
    const { acked, killed } = await writeVersionsUntilKilled({
      s3,
      bucket: BUCKET,
      workers: 12,
      rounds: 200,
      killAfter: randomInt(40, 90),
      deleteOneIn: 5,
      sizes: SIZES,
      keyOf: () => KEYS[randomInt(KEYS.length)],
      kill: () => killChild(child!),
    })
    expect(killed).toBe(true)
    s3.destroy()

    child = await startChild(dataDir)
    s3 = clientFor(child.endpoint)
    const listed = await listedVersions(s3, BUCKET)
    const byId = new Map(listed.map((l) => [l.id, l]))
    for (const [id, a] of acked) {
      const l = byId.get(id)
      expect(l, `acknowledged ${a.marker ? 'marker' : 'version'} ${a.key}@${id} is listed`).toBeDefined()
      expect(l!.marker).toBe(!!a.marker)
      if (a.marker) continue
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: a.key, VersionId: id }))
      expect(md5Hex(await got.Body!.transformToByteArray()), `${a.key}@${id}`).toBe(a.md5)
    }
    // Versions the kill cut short may or may not be there; any that is, is whole.
    for (const l of listed.filter((x) => !x.marker && !acked.has(x.id))) {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: l.key, VersionId: l.id }))
      expect(`"${md5Hex(await got.Body!.transformToByteArray())}"`).toBe(l.etag)
    }
    s3.destroy()
    child.proc.kill('SIGTERM')
    const stopped = await child.exited
    child = undefined
    expect(stopped.code).toBe(0)
  }, 180_000)
})
