/**
 * @module E2E: graceful shutdown. A server child process gets SIGTERM while an
 * upload is in flight: it stops accepting, lets the upload finish, closes LevelDB and the KMS,
 * and exits 0; a restart on the same data directory opens cleanly and has the object. With a
 * short grace period a stalled upload is cut instead, and nothing of it becomes visible.
 */
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { createHash, randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { killStartedServers, serverArgs, spawnServer, type ChildServer } from '../support/child-server.js'
import { makeClient } from '../support/server.js'

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The server as a child process on a free port over `dataDir` (child-server.ts), with `env` added. */
function startChild(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<ChildServer> {
  return spawnServer(process.execPath, serverArgs(dataDir), { env: { ...process.env, ...env } })
}

/**
 * PUTs `body` to a presigned URL in `pieces` writes `gapMs` apart; `afterFirst` runs when the
 * second piece is written (the server has the request head and the first piece by then). Resolves with the status, or
 * rejects when the connection is cut.
 */
function slowPut(
  url: string,
  body: Buffer,
  pieces: number,
  gapMs: number,
  afterFirst: () => void,
  stallAfter?: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { 'Content-Length': String(body.length) } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
      res.on('error', reject)
    })
    req.on('error', reject)
    const size = Math.ceil(body.length / pieces)
    void (async () => {
      for (let i = 0; i < pieces; i++) {
        if (stallAfter !== undefined && i >= stallAfter) return // never finishes: the server must cut it
        req.write(body.subarray(i * size, (i + 1) * size))
        if (i === 1) afterFirst()
        await sleep(gapMs)
      }
      req.end()
    })()
  })
}

let dataDir: string

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-shutdown-'))
})

afterAll(async () => {
  killStartedServers()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

describe('graceful shutdown', () => {
  it('SIGTERM lets an in-flight upload finish, exits 0, and the restart opens LevelDB and has the object', async () => {
    const first = await startChild(dataDir)
    const s3 = makeClient(first.endpoint, { maxAttempts: 1 })
    await s3.send(new CreateBucketCommand({ Bucket: 'grace' }))
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'grace', Key: 'slow' }), { expiresIn: 600 })
    s3.destroy()
    const body = randomBytes(2 * 1024 * 1024 + 123)
    let signalledAt = 0
    const status = await slowPut(url, body, 16, 100, () => {
      signalledAt = Date.now()
      first.proc.kill('SIGTERM')
    })
    expect(status).toBe(200)
    // The upload kept going for ~1.5 s after SIGTERM: the server waited for it.
    expect(Date.now() - signalledAt).toBeGreaterThan(1000)
    // No new connections once stopping.
    const exit = await first.exited
    expect(exit, first.stderr()).toEqual({ code: 0, signal: null })
    await expect(fetch(`${first.endpoint}/health/live`)).rejects.toThrow()
    expect(first.stderr()).not.toMatch(/"level":"error"/)

    const second = await startChild(dataDir)
    const s3b = makeClient(second.endpoint, { maxAttempts: 1 })
    try {
      const got = await s3b.send(new GetObjectCommand({ Bucket: 'grace', Key: 'slow' }))
      expect(sha256(await got.Body!.transformToByteArray())).toBe(sha256(body))
      expect((await fetch(`${second.endpoint}/health/ready`)).status).toBe(200)
    } finally {
      s3b.destroy()
    }
    second.proc.kill('SIGINT')
    expect(await second.exited, second.stderr()).toEqual({ code: 0, signal: null })
  })

  it('after the grace period a stalled upload is cut; the process still exits 0 and nothing half-written is visible', async () => {
    const child = await startChild(dataDir, { STRONGROOM_SHUTDOWN_TIMEOUT_MS: '500' })
    const s3 = makeClient(child.endpoint, { maxAttempts: 1 })
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'grace', Key: 'stalled' }), { expiresIn: 600 })
    s3.destroy()
    const started = Date.now()
    const put = slowPut(url, randomBytes(1024 * 1024), 8, 50, () => undefined, 2)
    await sleep(300)
    child.proc.kill('SIGTERM')
    await expect(put).rejects.toThrow()
    expect(await child.exited, child.stderr()).toEqual({ code: 0, signal: null })
    expect(Date.now() - started).toBeLessThan(5000)

    const again = await startChild(dataDir)
    const s3b = makeClient(again.endpoint, { maxAttempts: 1 })
    try {
      await expect(s3b.send(new HeadObjectCommand({ Bucket: 'grace', Key: 'stalled' }))).rejects.toMatchObject({
        name: 'NotFound',
      })
      const got = await s3b.send(new GetObjectCommand({ Bucket: 'grace', Key: 'slow' }))
      expect((await got.Body!.transformToByteArray()).length).toBe(2 * 1024 * 1024 + 123)
      expect(await readdir(path.join(dataDir, 'tmp'))).toEqual([])
    } finally {
      s3b.destroy()
    }
    again.proc.kill('SIGTERM')
    expect(await again.exited, again.stderr()).toEqual({ code: 0, signal: null })
  })
})
