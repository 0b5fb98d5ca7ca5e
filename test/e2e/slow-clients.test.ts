/**
 * @module E2E: clients that trickle bytes cannot hold the server's descriptors (README "Limits").
 * A server child process with short limits set by flags gets 500 connections that each send a
 * byte every 300 ms — slow request heads, slow bodies of unauthenticated PUTs with a huge
 * Content-Length, slow bodies of signed PUTs — and that ignore the server's FIN (half-open, as an
 * attacker would). Every one is cut by the server, an ordinary PUT and GET still succeed, and the
 * child's open descriptors (/proc/<pid>/fd) fall back to about where they started. The idle
 * timeout is longer than the trickle gap, so only the other limits can cut them. Also: a body that
 * keeps a real (if slow) rate is not cut, and the per-peer connection cap.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  killStartedServers,
  openFds,
  serverArgs,
  spawnServer,
  waitFor,
  type ChildServer,
} from '../support/child-server.js'
import { requestHead, signRequest } from '../support/raw-s3.js'
import { makeClient, startTestServer } from '../support/server.js'

const BUCKET = 'slow'
const HEADERS_TIMEOUT_MS = 1_000
const IDLE_TIMEOUT_MS = 5_000
const GRACE_MS = 1_000
const MIN_RATE = 200 // bytes/s; the tricklers send about 3
const TRICKLE_MS = 300
const CONNECTIONS = 500

interface Trickler {
  socket: net.Socket
  /** What it sends every TRICKLE_MS once its head is out. */
  drip: string
  closed: boolean
}

/** Opens a half-open-tolerant socket that writes `head` and then keeps writing `drip` every TRICKLE_MS. */
function trickle(port: number, head: string, drip: string, all: Trickler[]): Promise<void> {
  return new Promise((resolve) => {
    // allowHalfOpen: a FIN from the server does not end our side; we keep sending, like an attacker.
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true })
    const t: Trickler = { socket, drip, closed: false }
    all.push(t)
    socket.on('error', () => undefined)
    socket.on('data', () => undefined)
    socket.on('close', () => {
      t.closed = true
    })
    socket.once('connect', () => {
      socket.write(head)
      resolve()
    })
    socket.once('close', () => resolve())
  })
}

describe('slow clients', () => {
  let dataDir: string
  let server: ChildServer
  let port: number
  let s3: S3Client

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-slow-'))
    server = await spawnServer(
      process.execPath,
      serverArgs(dataDir, [
        '--headers-timeout-ms',
        String(HEADERS_TIMEOUT_MS),
        '--idle-timeout-ms',
        String(IDLE_TIMEOUT_MS),
        '--body-rate-grace-ms',
        String(GRACE_MS),
        '--body-min-rate',
        String(MIN_RATE),
      ]),
    )
    port = Number(new URL(server.endpoint).port)
    s3 = makeClient(server.endpoint, { maxAttempts: 1 })
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
  })

  afterAll(async () => {
    s3?.destroy()
    if (server && server.proc.exitCode === null) {
      server.proc.kill('SIGTERM')
      await Promise.race([server.exited, new Promise((r) => setTimeout(r, 15_000))])
    }
    killStartedServers()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  async function putGet(key: string): Promise<void> {
    const body = randomBytes(100_000)
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }))
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true)
  }

  it(`${CONNECTIONS} trickling connections are all cut; PUT and GET still work; the descriptors fall back`, async () => {
    const pid = server.proc.pid!
    await putGet('warm-up')
    const baseline = await openFds(pid)

    const all: Trickler[] = []
    const dripper = setInterval(() => {
      for (const t of all) if (!t.closed) t.socket.write(t.drip)
    }, TRICKLE_MS)
    try {
      const signedHeads: string[] = []
      for (let i = 0; i < 100; i++) {
        const req = await signRequest(
          port,
          { method: 'PUT', path: `/${BUCKET}/signed-${i}`, headers: { 'content-length': '1000000000' } },
          { payloadHash: 'UNSIGNED-PAYLOAD' },
        )
        signedHeads.push(requestHead(req) + '\r\n\r\n')
      }
      for (let i = 0; i < CONNECTIONS; i += 50) {
        const batch: Array<Promise<void>> = []
        for (let j = i; j < i + 50; j++) {
          const kind = j % 5
          if (kind < 2)
            batch.push(trickle(port, `PUT /${BUCKET}/head-${j} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `, 'a', all))
          else if (kind < 4)
            batch.push(
              trickle(
                port,
                `PUT /${BUCKET}/anon-${j} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000000\r\n\r\n`,
                'b',
                all,
              ),
            )
          else batch.push(trickle(port, signedHeads[j % 100], 'c', all))
        }
        await Promise.all(batch)
      }
      // The server held them (this is what the limits must undo).
      let peak = 0
      await waitFor(async () => (peak = Math.max(peak, await openFds(pid))) > baseline + CONNECTIONS / 2, 10_000)
      expect(peak).toBeGreaterThan(baseline + CONNECTIONS / 2)

      // While they trickle, ordinary requests are served.
      await putGet('during')

      // Every trickler is cut by the server (heads after the headers timeout, unauthenticated
      // bodies right after their 403, signed bodies once under the minimum rate).
      const allCut = await waitFor(() => all.every((t) => t.closed), 30_000)
      expect(all.filter((t) => !t.closed).length).toBe(0)
      expect(allCut).toBe(true)

      const fellBack = await waitFor(async () => (await openFds(pid)) <= baseline + 20, 30_000)
      expect(fellBack, `fds ${await openFds(pid)} vs baseline ${baseline}`).toBe(true)
      await putGet('after')
    } finally {
      clearInterval(dripper)
      for (const t of all) t.socket.destroy()
    }
    // Cutting a slow client is the client's fault: nothing logged at error level.
    expect(server.stderr()).not.toMatch(/"level":"error"/)
  })

  it('a body that keeps more than the minimum rate is not cut, however long it takes', async () => {
    const total = 16 * 1024
    const req = await signRequest(
      port,
      { method: 'PUT', path: `/${BUCKET}/steady`, headers: { 'content-length': String(total) } },
      { payloadHash: 'UNSIGNED-PAYLOAD' },
    )
    const status = await new Promise<number | undefined>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port })
      let text = ''
      const statusOf = () => {
        const m = /^HTTP\/1\.1 (\d{3})/.exec(text)
        return m ? Number(m[1]) : undefined
      }
      socket.on('data', (b: Buffer) => {
        text += b.toString('latin1')
        if (statusOf() !== undefined && text.includes('\r\n\r\n')) {
          socket.destroy()
          resolve(statusOf())
        }
      })
      socket.on('close', () => resolve(statusOf()))
      socket.on('error', () => undefined)
      socket.once('connect', async () => {
        socket.write(requestHead(req) + '\r\n\r\n')
        // 1 KiB every 300 ms (~3.4 KB/s, well above the 200 B/s bound) for ~4.8 s: past the grace period.
        for (let sent = 0; sent < total && !socket.destroyed; sent += 1024) {
          await new Promise((r) => setTimeout(r, TRICKLE_MS))
          socket.write(Buffer.alloc(1024, 7))
        }
      })
    })
    expect(status).toBe(200)
  })
})

describe('--max-connections-per-peer', () => {
  it('a peer over the cap has its new connections closed at once; under it again, it is served', async () => {
    const server = await startTestServer({ args: ['--max-connections-per-peer', '4'] })
    const held: net.Socket[] = []
    try {
      for (let i = 0; i < 4; i++) {
        const s = net.connect({ host: '127.0.0.1', port: server.port })
        s.on('error', () => undefined)
        await new Promise((r) => s.once('connect', r))
        held.push(s)
      }
      // The fifth is closed by the server without an answer, even though it sends a request.
      const fifth = await new Promise<{ data: string }>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port: server.port })
        let data = ''
        s.on('data', (b: Buffer) => (data += b.toString()))
        s.on('error', () => undefined)
        s.on('close', () => resolve({ data }))
        s.once('connect', () => s.write('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'))
      })
      expect(fifth.data).toBe('')
      // One of the four goes away: a new connection is served again.
      held.pop()!.destroy()
      const served = await waitFor(
        async () =>
          (await fetch(`${server.endpoint}/health/live`).then(
            (r) => r.status,
            () => 0,
          )) === 200,
        10_000,
      )
      expect(served).toBe(true)
    } finally {
      for (const s of held) s.destroy()
      await server.close()
    }
  })
})
