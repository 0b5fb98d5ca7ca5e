/**
 * @module Test support for the SSE-KMS suites: the KMS clients of a test server, moto_server on a
 * free loopback port (a missing moto_server is a loud failure, never a skip), a counting HTTP
 * proxy in front of a KMS, offline reads of the metadata store, and data-directory scans.
 */
import { KMSClient } from '@aws-sdk/client-kms'
import { spawn, type ChildProcess } from 'node:child_process'
import http from 'node:http'
import { createServer, type AddressInfo } from 'node:net'
import path from 'node:path'
import { LevelMetadataStore } from '../../storage/level/metadata.js'
import type { ObjectRecord, UploadRecord } from '../../storage/types.js'
import { TEST_ACCESS_KEY_ID, TEST_REGION, TEST_SECRET_ACCESS_KEY } from './server.js'

export const ACCOUNT = '000000000000'
export const SSE = 'x-amz-server-side-encryption'
export const KID = 'x-amz-server-side-encryption-aws-kms-key-id'
export const CTX = 'x-amz-server-side-encryption-context'
export const BK = 'x-amz-server-side-encryption-bucket-key-enabled'

/** Messages of docs/s3-sse-rules.md §4.5, §4.6, §4.9 and §4.11. */
export const KMS_MSG = {
  overHttp:
    'Requests specifying Server Side Encryption with AWS KMS managed keys must be made over a secure connection.',
  contextInvalid:
    "The header 'x-amz-server-side-encryption-context' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map",
  arnInvalid: 'Encryption context key aws:s3:arn has an invalid value',
  awsManagedDescription: 'Default key that protects my S3 objects when no other key is defined',
  selfCopy:
    "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
} as const

/** An @aws-sdk/client-kms client for `endpoint` (no retries: an error is an answer). */
export function kmsClient(endpoint: string, region = TEST_REGION): KMSClient {
  return new KMSClient({
    endpoint,
    region,
    credentials: { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY },
    maxAttempts: 1,
  })
}

export const keyArnOf = (id: string, region = TEST_REGION, account = ACCOUNT) =>
  `arn:aws:kms:${region}:${account}:key/${id}`

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port
      srv.close(() => resolve(port))
    })
  })
}

export interface Moto {
  endpoint: string
  port: number
  child: ChildProcess
  output(): string
  stop(): Promise<void>
}

/**
 * Starts `moto_server -H 127.0.0.1 -p <port>` (in its own process group, so stopping it also stops
 * a launcher shim's child) and waits until it answers. Rejects with a clear message if it cannot:
 * callers turn that into failing tests, never skipped ones.
 */
export async function startMoto(port?: number): Promise<Moto> {
  const p = port ?? (await freePort())
  let output = ''
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(p)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()))
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'ENOENT'
            ? "moto_server is not installed or not on PATH: this suite needs it (pip install 'moto[server]'); it fails rather than skips"
            : `moto_server could not start: ${err.message}`,
        ),
      ),
    )
    child.once('exit', (code) => reject(new Error(`moto_server exited (code ${code}) before answering:\n${output}`)))
  })
  failed.catch(() => undefined)
  const endpoint = `http://127.0.0.1:${p}`
  const ready = (async () => {
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`${endpoint}/moto-api/`)
        await res.arrayBuffer()
        if (res.status < 500) return
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200))
    }
    throw new Error(`moto_server did not answer on ${endpoint} within 30 s:\n${output}`)
  })()
  const moto: Moto = { endpoint, port: p, child, output: () => output, stop: () => stopProcessGroup(child) }
  try {
    await Promise.race([ready, failed])
  } catch (err) {
    await moto.stop()
    throw err
  }
  return moto
}

/** Stops a detached child and its process group, by id: SIGTERM, then SIGKILL after 3 s. */
export function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // already gone
      }
    }, 3000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    try {
      process.kill(-child.pid!, 'SIGTERM')
    } catch {
      clearTimeout(timer)
      resolve()
    }
  })
}

/** A counting reverse proxy in front of a KMS: every request is forwarded; KMS operations are tallied. */
export interface CountingProxy {
  endpoint: string
  /** Calls per operation (`GenerateDataKey`, `Decrypt`, …) since the last reset. */
  counts(): Record<string, number>
  total(): number
  reset(): void
  close(): Promise<void>
}

/** Starts a proxy on 127.0.0.1 forwarding to `target` (an http://127.0.0.1:port origin). */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const to = new URL(target)
  let counts: Record<string, number> = {}
  const server = http.createServer((req, res) => {
    const op = String(req.headers['x-amz-target'] ?? '').replace(/^TrentService\./, '') || `${req.method} ${req.url}`
    counts[op] = (counts[op] ?? 0) + 1
    const upstream = http.request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers, agent: false },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      },
    )
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502)
      res.end()
    })
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    total: () => Object.values(counts).reduce((a, b) => a + b, 0),
    reset: () => {
      counts = {}
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** Reads object (and upload) records straight from `<dataDir>/meta`; the server must be stopped. */
export async function readRecords<T>(dataDir: string, fn: (meta: LevelMetadataStore) => Promise<T>): Promise<T> {
  const meta = await LevelMetadataStore.open(path.join(dataDir, 'meta'))
  try {
    return await fn(meta)
  } finally {
    await meta.close()
  }
}

export async function readObjectRecord(meta: LevelMetadataStore, bucket: string, key: string): Promise<ObjectRecord> {
  const rec = await meta.getObject(bucket, key)
  if (!rec) throw new Error(`no record for ${bucket}/${key}`)
  return rec
}

export type { ObjectRecord, UploadRecord }

export { allFiles, blobFiles, filesContaining, newBlobs } from './data-dir.js'

/** Base64 of UTF-8 JSON, as the context header carries it. */
export const contextHeader = (ctx: unknown): string => Buffer.from(JSON.stringify(ctx), 'utf8').toString('base64')
