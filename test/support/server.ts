/** @module Test support: a real strongroom server on a free loopback port with a temp data dir, and clients for it. */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { afterAll, beforeAll } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { loadConfig, type Config } from '../../server/config.js'
import type { LifecycleSweeper } from '../../server/lifecycle-sweeper.js'
import { startServer } from '../../server/main.js'

export const TEST_ACCESS_KEY_ID = 'test'
export const TEST_SECRET_ACCESS_KEY = 'test'
export const TEST_REGION = 'us-east-1'

export interface TestServer {
  endpoint: string
  port: number
  dataDir: string
  config: Config
  /** The server's lifecycle sweeper (sweepNow runs a whole pass at once). */
  lifecycle: LifecycleSweeper
  /** Stops the server; removes the data directory unless `keepData`. */
  close(opts?: { keepData?: boolean }): Promise<void>
}

/** Starts the real server in-process on 127.0.0.1, port 0, with a fresh temp data directory. */
export async function startTestServer(opts: { dataDir?: string; args?: string[] } = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'strongroom-test-')))
  const config = loadConfig(
    ['--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'silent', ...(opts.args ?? [])],
    {},
  )
  const running = await startServer(config)
  return {
    endpoint: running.url,
    port: running.port,
    dataDir,
    config,
    lifecycle: running.lifecycle,
    async close(closeOpts = {}) {
      await running.close()
      if (!closeOpts.keepData && !opts.dataDir) await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/** An S3 client for a test server (path-style unless told otherwise). */
export function makeClient(endpoint: string, extra: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint,
    region: TEST_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY },
    ...extra,
  })
}

/** Both checksum modes of the JS SDK (docs/architecture.md#tests): every e2e suite runs under each. */
export const CHECKSUM_MODES = ['WHEN_SUPPORTED', 'WHEN_REQUIRED'] as const

/**
 * One server for the enclosing `describe`: started in its beforeAll, stopped (data removed) in its
 * afterAll. The returned object reads through to the running server, so tests use
 * `srv.endpoint`, `srv.port`… as with startTestServer; reading it outside a test or hook throws.
 */
export function withServer(opts: Parameters<typeof startTestServer>[0] = {}): TestServer {
  let running: TestServer | undefined
  beforeAll(async () => {
    running = await startTestServer(opts)
  })
  afterAll(async () => {
    await running?.close()
    running = undefined
  })
  const now = (): TestServer => {
    if (!running) throw new Error('withServer: the server runs only inside the tests and hooks of its describe')
    return running
  }
  return {
    get endpoint() {
      return now().endpoint
    },
    get port() {
      return now().port
    },
    get dataDir() {
      return now().dataDir
    },
    get config() {
      return now().config
    },
    get lifecycle() {
      return now().lifecycle
    },
    close: (closeOpts) => now().close(closeOpts),
  }
}
