/**
 * @module Readiness (`GET /health/ready`): the metadata store answers a point read, the blob
 * directory takes a write, and the KMS answers — the embedded one a local ListKeys, an external
 * one a ListKeys with Limit 1 over one short-timeout attempt (no retries: a probe must answer
 * quickly). The endpoint is unauthenticated, so the checks must not be a way to make the store
 * (or its KMS) work: one run at a time serves every caller that asks meanwhile, and its result
 * is reused for READY_CACHE_MS after it completes.
 */
import { randomBytes } from 'node:crypto'
import { unlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { HttpKmsClient, type HttpKmsClientOptions } from '../kms/http-client.js'
import { KmsError } from '../kms/types.js'
import type { MetadataStore } from '../storage/types.js'
import type { KmsServices } from './kms/setup.js'
import type { Logger } from './log.js'

/** Each check gets this long before it counts as failed. */
const CHECK_TIMEOUT_MS = 3000

/** A completed run's result answers every call for this long (README "Health and metrics"). */
export const READY_CACHE_MS = 2000

/** A bucket name no bucket can have (it starts with a dot): the metadata check's point read. */
const PROBE_BUCKET = '.strongroom-readiness'

export type CheckName = 'metadata' | 'blobs' | 'kms'

export interface ReadinessResult {
  ready: boolean
  checks: Record<CheckName, 'ok' | 'failed'>
}

export interface Readiness {
  /** Every check's outcome ('ok' or 'failed'); ready when all are 'ok'. At most READY_CACHE_MS old. */
  check(): Promise<ReadinessResult>
  close(): Promise<void>
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    )
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

export function createReadiness(opts: {
  meta: MetadataStore
  dataDir: string
  kms?: KmsServices
  external?: HttpKmsClientOptions
  log: Logger
}): Readiness {
  const probe = opts.external
    ? new HttpKmsClient({
        ...opts.external,
        maxAttempts: 1,
        connectTimeoutMs: 1000,
        requestTimeoutMs: 2000,
        connections: 1,
        cache: false,
      })
    : undefined
  const tmpDir = path.join(opts.dataDir, 'tmp')

  const checks: Record<CheckName, () => Promise<unknown>> = {
    metadata: () => opts.meta.getBucket(PROBE_BUCKET),
    blobs: async () => {
      // tmp/ is where blob writes start (same filesystem as blobs/); leftovers are swept at start.
      const file = path.join(tmpDir, `.ready-${randomBytes(6).toString('hex')}`)
      await writeFile(file, 'ok')
      await unlink(file)
    },
    kms: async () => {
      if (probe) {
        try {
          await probe.call('ListKeys', { Limit: 1 })
        } catch (err) {
          // Any answer but "unreachable" or "who are you" shows the KMS is up and knows us
          // (a role may lack kms:ListKeys and still have GenerateDataKey/Decrypt).
          if (
            err instanceof KmsError &&
            err.reason !== 'unavailable' &&
            (err.reason !== 'access-denied' || err.exception === 'AccessDeniedException')
          )
            return
          throw err
        }
        return
      }
      if (opts.kms?.service) await opts.kms.service.listKeys({ Limit: 1 })
    },
  }

  async function run(): Promise<ReadinessResult> {
    const names = Object.keys(checks) as CheckName[]
    const results = await Promise.allSettled(names.map((n) => withTimeout(checks[n](), n)))
    const out = {} as Record<CheckName, 'ok' | 'failed'>
    let ready = true
    results.forEach((r, i) => {
      out[names[i]] = r.status === 'fulfilled' ? 'ok' : 'failed'
      if (r.status === 'rejected') {
        ready = false
        opts.log.warn('readiness check failed', { check: names[i], err: r.reason })
      }
    })
    return { ready, checks: out }
  }

  let last: { at: number; result: ReadinessResult } | undefined
  let running: Promise<ReadinessResult> | undefined

  return {
    check() {
      if (last && Date.now() - last.at < READY_CACHE_MS) return Promise.resolve(last.result)
      running ??= run()
        .then((result) => {
          last = { at: Date.now(), result }
          return result
        })
        .finally(() => {
          running = undefined
        })
      return running
    },
    async close() {
      await probe?.close()
    },
  }
}
