/**
 * @module Crash safety (docs/architecture.md#storage-on-disk): a server child process is SIGKILLed in the
 *         middle of many
 * concurrent PUTs and multipart uploads, then restarted on the same data directory. Every
 * acknowledged write must read back byte-identical, nothing half-written may become visible,
 * `tmp/` is swept, and the blob files are exactly the blobs the metadata references.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes, randomInt } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LevelMetadataStore } from '../../storage/level/metadata.js'
import { makeClient } from '../support/server.js'

const REPO = path.resolve(import.meta.dirname, '../..')
const MiB = 1024 * 1024
const BUCKET = 'crash'
const ROUNDS = 3
const KEYS = Array.from({ length: 36 }, (_, i) => `obj/${String(i).padStart(2, '0')}`)
const PUT_SIZES = [0, 1, 4096, 65_536, 65_537, 200_000, MiB, 3 * MiB + 17, 6 * MiB]
const PUTS_PER_ROUND = 22
const UPLOADS_PER_ROUND = 5
/** How long the child may take to print its URL: a guard against a hung start, not a measurement. */
const START_GUARD_MS = 30_000

const SEED = Number(process.env.CRASH_SEED ?? randomInt(2 ** 31))
/** mulberry32: the choices of a run (sizes, keys, kill moment) are reproducible with CRASH_SEED. */
const random = (() => {
  let a = SEED >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
})()
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]
const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1))

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest()

// ---- the server as a child process ----

interface Child {
  proc: ChildProcess
  endpoint: string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stderr(): string
}

/**
 * Starts `strongroom server` as a child process. It runs as one node process (`node --import tsx`),
 * not through `node_modules/.bin/tsx`: that wrapper runs the server in a grandchild, which a
 * SIGKILL of the wrapper would leave running with the data directory (and LevelDB's lock) open.
 */
async function startChild(dataDir: string): Promise<Child> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'server/main.ts', 'server', '--port', '0', '--data-dir', dataDir, '--log-level', 'silent'],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  // If the test process goes away without its afterAll, the server goes too.
  const reap = () => proc.kill('SIGKILL')
  process.once('exit', reap)
  let err = ''
  proc.stderr!.on('data', (b: Buffer) => {
    if (err.length < 100_000) err += b.toString('utf8')
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => {
      process.off('exit', reap)
      resolve({ code, signal })
    }),
  )
  const endpoint = await new Promise<string>((resolve, reject) => {
    const guard = setTimeout(
      () => reject(new Error(`server child printed no URL within ${START_GUARD_MS} ms; stderr:\n${err}`)),
      START_GUARD_MS,
    )
    const lines = createInterface({ input: proc.stdout! })
    lines.on('line', (line) => {
      const m = /^strongroom listening on (http:\/\/\S+)$/.exec(line)
      if (m) {
        clearTimeout(guard)
        resolve(m[1])
      }
    })
    proc.once('exit', (code, signal) => {
      clearTimeout(guard)
      reject(new Error(`server child exited before listening (code ${code}, signal ${signal}); stderr:\n${err}`))
    })
    proc.once('error', reject)
  })
  return { proc, endpoint, exited, stderr: () => err }
}

/** SIGKILL; resolves once the child has been reaped (so LevelDB's lock is free again). */
async function killChild(child: Child): Promise<void> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL')
  await child.exited
}

/** SIGTERM: the server closes its stores and exits 0. */
async function stopChild(child: Child): Promise<void> {
  child.proc.kill('SIGTERM')
  const { code, signal } = await child.exited
  expect({ code, signal }, `graceful stop; stderr:\n${child.stderr()}`).toEqual({ code: 0, signal: null })
}

function clientFor(endpoint: string): S3Client {
  // One attempt: a request cut by the kill must fail, not be retried against the dead server.
  return makeClient(endpoint, { maxAttempts: 1, requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 } })
}

// ---- what the test knows about each key ----

interface Version {
  size: number
  etag: string
}

/**
 * Per key: `base` is the version that must be there (the last acknowledged one, or what a restart
 * showed; null = absent), `pending` the versions whose write started after it and was not
 * acknowledged — any of them may be what the store holds.
 */
interface KeyState {
  base: string | null
  pending: Set<string>
}

const versions = new Map<string, Version>()
const model = new Map<string, KeyState>(KEYS.map((k) => [k, { base: null, pending: new Set<string>() }]))

function begin(key: string, body: Buffer, etag: string): string {
  const hash = sha256(body)
  versions.set(hash, { size: body.length, etag })
  model.get(key)!.pending.add(hash)
  return hash
}

function acknowledge(key: string, hash: string): void {
  const st = model.get(key)!
  st.base = hash
  st.pending.clear()
}

// ---- data directory inspection (server stopped) ----

async function blobIds(dataDir: string): Promise<Set<string>> {
  const root = path.join(dataDir, 'blobs')
  const ids = new Set<string>()
  for (const shard of await readdir(root)) {
    if (!/^[0-9a-f]{2}$/.test(shard)) continue
    for (const name of await readdir(path.join(root, shard))) ids.add(name)
  }
  return ids
}

async function referencedBlobs(dataDir: string): Promise<Set<string>> {
  const meta = await LevelMetadataStore.open(path.join(dataDir, 'meta'))
  try {
    const ids = new Set<string>()
    for await (const id of meta.referencedBlobs()) ids.add(id)
    return ids
  } finally {
    await meta.close()
  }
}

const minus = (a: Set<string>, b: Set<string>) => [...a].filter((x) => !b.has(x)).sort()

// ---- one round of writes, killed in the middle ----

interface RoundReport {
  requests: number
  acks: number
  killedAfterAcks: number
  unacknowledged: string[]
  unexpectedErrors: string[]
}

async function writeAndKill(child: Child): Promise<RoundReport> {
  const client = clientFor(child.endpoint)
  const order = [...KEYS]
  for (let i = order.length - 1; i > 0; i--) {
    const j = between(0, i)
    ;[order[i], order[j]] = [order[j], order[i]]
  }
  const putKeys = order.slice(0, PUTS_PER_ROUND)
  const uploadKeys = order.slice(PUTS_PER_ROUND, PUTS_PER_ROUND + UPLOADS_PER_ROUND)
  const uploadPlans = uploadKeys.map(() => {
    const n = between(2, 3)
    return Array.from({ length: n }, (_, i) => (i < n - 1 ? 5 * MiB : between(1, 2 * MiB)))
  })
  const requests = putKeys.length + uploadPlans.reduce((n, parts) => n + parts.length + 2, 0)
  const killAfter = between(3, Math.floor(requests * 0.6))

  let acks = 0
  let killed = false
  let killing: Promise<void> | undefined
  const report: RoundReport = {
    requests,
    acks: 0,
    killedAfterAcks: killAfter,
    unacknowledged: [],
    unexpectedErrors: [],
  }
  const kill = () => {
    if (!killing) {
      killing = (async () => {
        // A little jitter so the kill does not always land right after a response was written.
        await new Promise((r) => setTimeout(r, between(0, 15)))
        killed = true
        await killChild(child)
      })()
    }
    return killing
  }
  const acked = () => {
    acks++
    if (acks === killAfter) void kill()
  }
  const failed = (what: string, e: unknown) => {
    if (killed) report.unacknowledged.push(what)
    else report.unexpectedErrors.push(`${what}: ${(e as Error)?.name}: ${(e as Error)?.message}`)
  }

  const puts = putKeys.map(async (key) => {
    const body = randomBytes(pick(PUT_SIZES))
    const hash = begin(key, body, md5(body).toString('hex'))
    try {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }))
    } catch (e) {
      return failed(`PUT ${key} (${body.length} B)`, e)
    }
    acknowledge(key, hash)
    acked()
  })

  const uploads = uploadKeys.map(async (key, u) => {
    const parts = uploadPlans[u].map((size) => randomBytes(size))
    let step = 'CreateMultipartUpload'
    try {
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }))
      acked()
      const done = []
      for (const [i, body] of parts.entries()) {
        step = `UploadPart ${i + 1}/${parts.length}`
        const r = await client.send(
          new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: i + 1, Body: body }),
        )
        done.push({ PartNumber: i + 1, ETag: r.ETag })
        acked()
      }
      step = 'CompleteMultipartUpload'
      const etag = `${md5(Buffer.concat(parts.map(md5))).toString('hex')}-${parts.length}`
      const hash = begin(key, Buffer.concat(parts), etag)
      await client.send(
        new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts: done } }),
      )
      acknowledge(key, hash)
      acked()
    } catch (e) {
      failed(`multipart ${key} at ${step}`, e)
    }
  })

  await Promise.all([...puts, ...uploads])
  await kill() // if everything finished before the chosen moment, the kill still comes (with nothing in flight)
  client.destroy()
  report.acks = acks
  return report
}

// ---- verification after a restart ----

async function verifyVisible(
  endpoint: string,
): Promise<{ violations: string[]; visible: number; leftoverUploads: number }> {
  const client = clientFor(endpoint)
  const violations: string[] = []
  try {
    const listed = new Map<string, { size: number; etag: string }>()
    let token: string | undefined
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }))
      for (const o of page.Contents ?? []) listed.set(o.Key!, { size: o.Size!, etag: o.ETag!.replace(/"/g, '') })
      token = page.NextContinuationToken
    } while (token)

    for (const key of listed.keys()) if (!model.has(key)) violations.push(`${key}: listed but never written`)
    for (const key of KEYS) {
      const st = model.get(key)!
      const allowed = new Set([...(st.base === null ? [] : [st.base]), ...st.pending])
      const entry = listed.get(key)
      let observed: string | null = null
      if (entry) {
        const res = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
        const body = Buffer.from(await res.Body!.transformToByteArray())
        observed = sha256(body)
        const v = versions.get(observed)
        if (!allowed.has(observed)) {
          violations.push(
            `${key}: content (${body.length} B) is neither the acknowledged version nor one being written ` +
              `(base ${st.base === null ? 'absent' : versions.get(st.base)!.size + ' B'}, ${st.pending.size} pending)`,
          )
        } else if (v) {
          if (entry.size !== v.size || body.length !== v.size)
            violations.push(`${key}: listed ${entry.size} B, read ${body.length} B, written ${v.size} B`)
          if (entry.etag !== v.etag) violations.push(`${key}: listed ETag ${entry.etag}, expected ${v.etag}`)
        }
      } else {
        const missing = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })).then(
          () => false,
          (e: { name?: string }) => e.name === 'NoSuchKey',
        )
        if (!missing) violations.push(`${key}: not listed but GET does not answer NoSuchKey`)
        if (st.base !== null) violations.push(`${key}: acknowledged version (${versions.get(st.base)!.size} B) is gone`)
      }
      // What the restart showed is the new starting point.
      model.set(key, { base: observed, pending: new Set() })
    }
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))
    return { violations, visible: listed.size, leftoverUploads: uploads.Uploads?.length ?? 0 }
  } finally {
    client.destroy()
  }
}

describe(`crash safety: SIGKILL during concurrent writes, restart on the same data dir (CRASH_SEED=${SEED})`, () => {
  let dataDir: string
  let child: Child | undefined

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-crash-'))
    child = await startChild(dataDir)
    const client = clientFor(child.endpoint)
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }))
    client.destroy()
  })

  afterAll(async () => {
    if (child) await killChild(child)
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}/${ROUNDS}: acknowledged writes survive, nothing partial appears, tmp/ is swept, blob files = referenced blobs`, async () => {
      child ??= await startChild(dataDir)
      const report = await writeAndKill(child)
      child = undefined
      expect(report.unexpectedErrors, `requests failed before the kill (seed ${SEED})`).toEqual([])
      expect(report.unacknowledged.length, 'the kill landed while writes were in flight').toBeGreaterThan(0)

      // Killed: every blob a committed record names is already durable (blob first, record last).
      const filesAtKill = await blobIds(dataDir)
      const referencedAtKill = await referencedBlobs(dataDir)
      expect(
        minus(referencedAtKill, filesAtKill),
        `records naming missing blobs right after the kill (seed ${SEED})`,
      ).toEqual([])

      child = await startChild(dataDir)
      expect(await readdir(path.join(dataDir, 'tmp')), 'tmp/ after restart').toEqual([])
      const seen = await verifyVisible(child.endpoint)
      expect(
        seen.violations,
        `after restart (seed ${SEED}; ${report.acks}/${report.requests} requests acknowledged, ` +
          `kill after ${report.killedAfterAcks} acks; cut: ${report.unacknowledged.join('; ')})`,
      ).toEqual([])

      // Stopped cleanly with no writes since the restart: the start-up collection left exactly the referenced blobs.
      await stopChild(child)
      child = undefined
      const files = await blobIds(dataDir)
      const referenced = await referencedBlobs(dataDir)
      expect({ unreferencedFiles: minus(files, referenced), missingFiles: minus(referenced, files) }).toEqual({
        unreferencedFiles: [],
        missingFiles: [],
      })
    })
  }

  it("after aborting the interrupted uploads and a restart, the blob files are exactly the visible objects' parts", async () => {
    child ??= await startChild(dataDir)
    const client = clientFor(child.endpoint)
    const uploads = (await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? []
    for (const u of uploads)
      await client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: u.Key, UploadId: u.UploadId }))
    expect((await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? []).toEqual([])
    client.destroy()
    // Aborted parts' blobs are deleted in the background; a restart collects any the stop overtook.
    await stopChild(child)
    child = await startChild(dataDir)
    const seen = await verifyVisible(child.endpoint)
    expect(seen.violations).toEqual([])
    await stopChild(child)
    child = undefined

    const files = await blobIds(dataDir)
    const referenced = await referencedBlobs(dataDir)
    expect(minus(files, referenced)).toEqual([])
    expect(minus(referenced, files)).toEqual([])
    // Every remaining blob belongs to a visible object: one per single PUT, one per multipart part.
    const meta = await LevelMetadataStore.open(path.join(dataDir, 'meta'))
    try {
      let parts = 0
      for (const key of KEYS) parts += (await meta.getObject(BUCKET, key))?.parts.length ?? 0
      expect(files.size).toBe(parts)
    } finally {
      await meta.close()
    }
  })
})
