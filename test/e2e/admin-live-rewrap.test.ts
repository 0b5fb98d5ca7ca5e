/**
 * @module E2E: the live rewrap: rotate and re-wrap keys on a live server, with a progress
 * bar. A server child process holds objects (SSE-S3, DSSE-KMS) under root key version 1;
 * `keys rotate` runs beside it, then `keys rewrap --endpoint URL` makes the server re-seal them
 * while a traffic loop keeps writing, overwriting (same bytes: same ETag, another record) and
 * reading. Everything reads back byte-exact, a rerun finds nothing left, only the root
 * credentials may call it, one runs at a time, and once stopped `keys list` shows no object under
 * the old versions (the embedded KMS's own material stays an offline step before `keys retire`).
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../support/child-server.js'
import { signAdminRequest } from '../../server/admin/live-client.js'
import { makeClient } from '../support/server.js'

const REPO = path.resolve(import.meta.dirname, '../..')
const run = promisify(execFile)
const ROOT = { accessKeyId: 'test', secretAccessKey: 'test', region: 'us-east-1' }
const ALICE = { accessKeyId: 'AK-ALICE', secretAccessKey: 'alice-secret', region: 'us-east-1' }

/** Runs `strongroom <args>` as a child process (child-server.ts); never throws for a non-zero exit. */
const cli = (...args: string[]) =>
  runCli(args, { STRONGROOM_ACCESS_KEY_ID: '', STRONGROOM_SECRET_ACCESS_KEY: '', AWS_REGION: 'us-east-1' })

/** `keys list` rows as { version: [objects, uploads, kmsMaterials] }. */
function counts(stdout: string): Record<number, [number, number, number]> {
  const out: Record<number, [number, number, number]> = {}
  for (const line of stdout.split('\n').slice(1)) {
    const m = /^(\d+)\s+.*?\s(\d+)\s+(\d+)\s+(\d+)$/.exec(line.trim())
    if (m) out[Number(m[1])] = [Number(m[2]), Number(m[3]), Number(m[4])]
  }
  return out
}

/** A signed (or, without credentials, anonymous) POST /admin/keys/rewrap. */
function adminPost(endpoint: string, cred?: typeof ROOT, body = '{}'): Promise<Response> {
  const url = new URL('/admin/keys/rewrap', endpoint)
  const headers = cred ? signAdminRequest('POST', url, body, cred) : {}
  return fetch(url, { method: 'POST', body, headers })
}

describe('live rewrap: keys rewrap --endpoint beside a serving server', () => {
  let dataDir: string
  let proc: ChildProcess | undefined
  let exited: Promise<number | null>
  let endpoint: string
  let s3: S3Client
  const objects = new Map<string, { data: Buffer; extra: Record<string, string> }>()

  const get = async (Key: string): Promise<Buffer> => {
    const res = await s3.send(new GetObjectCommand({ Bucket: 'live', Key }))
    return Buffer.from(await res.Body!.transformToByteArray())
  }
  const put = (Key: string, data: Buffer, extra: Record<string, string> = {}) =>
    s3.send(new PutObjectCommand({ Bucket: 'live', Key, Body: data, ...extra }))

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-live-rewrap-'))
    const credsFile = path.join(dataDir, '..', `${path.basename(dataDir)}-accounts.json`)
    await writeFile(
      credsFile,
      JSON.stringify({ accounts: [{ name: 'alice', accountId: '111122223333', keys: [ALICE] }] }),
    )
    proc = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'server/main.ts',
        'server',
        '--port',
        '0',
        '--data-dir',
        dataDir,
        '--log-level',
        'silent',
        '--credentials-file',
        credsFile,
      ],
      {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          STRONGROOM_ACCESS_KEY_ID: '',
          STRONGROOM_SECRET_ACCESS_KEY: '',
          STRONGROOM_AUDIT_LOG: '',
        },
      },
    )
    let err = ''
    proc.stderr!.on('data', (b: Buffer) => {
      if (err.length < 100_000) err += b.toString('utf8')
    })
    exited = new Promise((resolve) => proc!.once('exit', (code) => resolve(code)))
    endpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start within 30 s:\n${err}`)), 30_000)
      createInterface({ input: proc!.stdout! }).on('line', (line) => {
        const m = /^strongroom listening on (http:\/\/\S+)$/.exec(line)
        if (m) {
          clearTimeout(timer)
          resolve(m[1])
        }
      })
      void exited.then((code) => {
        clearTimeout(timer)
        reject(new Error(`server exited (code ${code}) before listening:\n${err}`))
      })
    })
    s3 = makeClient(endpoint)
    await s3.send(new CreateBucketCommand({ Bucket: 'live' }))
    const keys = Array.from({ length: 600 }, (_, i) => `obj-${i}`)
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys.slice(i, i + 50).map(async (k) => {
          const data = randomBytes(100 + ((k.length * 37) % 3000))
          await put(k, data)
          objects.set(k, { data, extra: {} })
        }),
      )
    }
    for (let i = 0; i < 4; i++) {
      const data = randomBytes(20_000 + i)
      const extra = { ServerSideEncryption: 'aws:kms:dsse' }
      await put(`dsse-${i}`, data, extra)
      objects.set(`dsse-${i}`, { data, extra })
    }
  }, 120_000)

  afterAll(async () => {
    s3?.destroy()
    if (proc && proc.exitCode === null) {
      proc.kill('SIGKILL')
      await exited
    }
    await rm(dataDir, { recursive: true, force: true })
    await rm(path.join(dataDir, '..', `${path.basename(dataDir)}-accounts.json`), { force: true })
  })

  it('only the root credentials may start it: anonymous, another account, a bad signature get 403', async () => {
    const anon = await adminPost(endpoint)
    expect(anon.status).toBe(403)
    const alice = await adminPost(endpoint, ALICE)
    expect(alice.status).toBe(403)
    expect(await alice.json()).toMatchObject({ error: 'AccessDenied' })
    const forged = await adminPost(endpoint, { ...ROOT, secretAccessKey: 'wrong' })
    expect(forged.status).toBe(403)
    // the CLI with non-root credentials says so and exits 1
    const r = await run(
      process.execPath,
      [path.join(REPO, 'bin/strongroom.js'), 'keys', 'rewrap', '--endpoint', endpoint],
      {
        cwd: REPO,
        env: {
          ...process.env,
          STRONGROOM_ACCESS_KEY_ID: ALICE.accessKeyId,
          STRONGROOM_SECRET_ACCESS_KEY: ALICE.secretAccessKey,
          STRONGROOM_AUDIT_LOG: '',
        },
      },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    )
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/refused the live rewrap \(HTTP 403\)/)
  }, 30_000)

  it('rotate, then rewrap live while traffic writes, overwrites and reads; everything reads back byte-exact', async () => {
    const rot = await cli('keys', 'rotate', '--data-dir', dataDir)
    expect(rot.code, rot.stderr).toBe(0)
    expect(rot.stdout).toMatch(/version 2 is now active/)
    let stop = false
    const errors: string[] = []
    let ops = 0
    const originals = [...objects.keys()]
    const traffic = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        try {
          const k = originals[(i * 7 + w * 131) % originals.length]
          const o = objects.get(k)!
          if (i % 3 === 0) await put(k, o.data, o.extra) // same bytes, a new record (and new blobs)
          const got = await get(k)
          if (!got.equals(o.data)) errors.push(`${k}: content differs`)
          const t = randomBytes(500)
          await put(`traffic-${w}-${i}`, t)
          if (!(await get(`traffic-${w}-${i}`)).equals(t)) errors.push(`traffic-${w}-${i}: content differs`)
          ops++
        } catch (err) {
          errors.push(String(err))
        }
      }
    })
    await new Promise((r) => setTimeout(r, 200))
    const r = await cli('keys', 'rewrap', '--endpoint', endpoint)
    stop = true
    await Promise.all(traffic)
    expect(r.code, r.stderr + r.stdout).toBe(0)
    const m = /rewrapped (\d+) of (\d+) records to root key version 2/.exec(r.stdout)
    expect(m, r.stdout).not.toBeNull()
    const [rewrapped, total] = [Number(m![1]), Number(m![2])]
    const changed = Number(/, (\d+) changed meanwhile/.exec(r.stdout)?.[1] ?? 0)
    expect(rewrapped + changed).toBe(total)
    expect(total).toBeGreaterThan(500)
    expect(total).toBeLessThanOrEqual(objects.size)
    expect(r.stdout).toMatch(/embedded-KMS key material is not rewrapped live/)
    expect(errors).toEqual([])
    expect(ops).toBeGreaterThan(0)
    // a rerun finds nothing left under version 1
    const again = await cli('keys', 'rewrap', '--endpoint', endpoint)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toMatch(/rewrapped 0 of 0 records/)
    for (const [k, o] of objects) expect((await get(k)).equals(o.data), k).toBe(true)
  }, 120_000)

  it('streams progress lines and a final JSON result; a second live rewrap meanwhile is refused (409)', async () => {
    expect((await cli('keys', 'rotate', '--data-dir', dataDir)).code).toBe(0)
    const first = await adminPost(endpoint, ROOT)
    expect(first.status).toBe(200)
    const reader = first.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    while (!/^progress \d+ \d+$/m.test(text)) {
      const { done, value } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
    }
    const second = await adminPost(endpoint, ROOT)
    expect(second.status).toBe(409)
    expect(await second.json()).toMatchObject({ error: 'RewrapInProgress' })
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
    }
    const lines = text.trim().split('\n')
    expect(lines[0]).toMatch(/^progress \d+ \d+$/)
    const final = JSON.parse(lines.at(-1)!) as {
      result: { toVersion: number; total: number; rewrapped: number; changed: number; failed: unknown[] }
    }
    expect(final.result.toVersion).toBe(3)
    expect(final.result.failed).toEqual([])
    expect(final.result.rewrapped + final.result.changed).toBe(final.result.total)
    expect(final.result.total).toBeGreaterThanOrEqual(objects.size)
    // free again once it is done
    const third = await adminPost(endpoint, ROOT)
    expect(third.status).toBe(200)
    expect(await third.text()).toMatch(/"rewrapped":0,/)
  }, 60_000)

  it('stopped: no object is left under versions 1 and 2; the KMS material is the offline step before retire', async () => {
    for (const [k, o] of objects) expect((await get(k)).equals(o.data), k).toBe(true)
    s3.destroy()
    proc!.kill('SIGTERM')
    expect(await exited).toBe(0)
    const list = await cli('keys', 'list', '--data-dir', dataDir)
    expect(list.code, list.stderr).toBe(0)
    const c = counts(list.stdout)
    expect(c[1]?.[0]).toBe(0)
    expect(c[1]?.[1]).toBe(0)
    expect(c[2]?.[0]).toBe(0)
    expect(c[3]?.[0]).toBeGreaterThanOrEqual(objects.size)
    if ((c[1]?.[2] ?? 0) > 0) {
      const refused = await cli('keys', 'retire', '1', '--data-dir', dataDir)
      expect(refused.code).toBe(1)
      expect(refused.stderr).toMatch(/still seals 0 objects, 0 multipart uploads and \d+ KMS key materials/)
      const offline = await cli('keys', 'rewrap', '--data-dir', dataDir)
      expect(offline.code, offline.stderr).toBe(0)
      expect(offline.stdout).toMatch(/rewrapped 0 of 0 records .*KMS key materials/)
    }
    const retire = await cli('keys', 'retire', '1', '--data-dir', dataDir)
    expect(retire.code, retire.stderr).toBe(0)
  }, 60_000)
})
