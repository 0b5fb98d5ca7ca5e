/**
 * @module Prometheus metrics (prom-client), one registry per running server: S3 requests by
 * operation and status, latency, bytes in/out, KMS calls and latency, data-key cache hits and
 * misses, integrity failures. Served unauthenticated on `GET /metrics` (server/app.ts).
 *
 * The hot path costs a label lookup: children of the labelled series are cached per
 * (operation, status), so a request allocates no label objects.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { CryptoError } from '../crypto/errors.js'
import { IntegrityError, NotFoundError } from '../storage/errors.js'
import type {
  DecryptInput,
  DecryptOutput,
  EncryptInput,
  EncryptOutput,
  GenerateDataKeyInput,
  GenerateDataKeyOutput,
  KeyDescription,
  KmsCaller,
  KmsClient,
  ReEncryptInput,
  ReEncryptOutput,
} from '../kms/types.js'

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

type CounterChild = ReturnType<Counter<string>['labels']>
type HistogramChild = ReturnType<Histogram<string>['labels']>

/** The data-key caches counted: KMS Decrypt results (external KMS) and S3 Bucket Keys. */
export type DataKeyCacheName = 'decrypt' | 'bucket-key'

export class Metrics {
  readonly registry = new Registry()
  readonly #requests: Counter<string>
  readonly #latency: Histogram<string>
  readonly #bytesIn: Counter<string>
  readonly #bytesOut: Counter<string>
  readonly #kmsCalls: Counter<string>
  readonly #kmsLatency: Histogram<string>
  readonly #cache: Counter<string>
  readonly #integrity: Counter<string>
  readonly #lifecycle: Counter<string>
  /** op → status → [requests child, latency child]. */
  readonly #children = new Map<string, Map<number, [CounterChild, HistogramChild]>>()
  readonly #kmsChildren = new Map<string, [CounterChild, CounterChild, HistogramChild]>()
  readonly #cacheChildren: Record<DataKeyCacheName, [CounterChild, CounterChild]>

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry]
    this.#requests = new Counter({
      name: 'strongroom_s3_requests_total',
      help: 'S3 requests answered, by operation and HTTP status',
      labelNames: ['operation', 'status'],
      registers,
    })
    this.#latency = new Histogram({
      name: 'strongroom_s3_request_duration_seconds',
      help: 'S3 request latency from arrival to the last byte written, by operation and HTTP status',
      labelNames: ['operation', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.#bytesIn = new Counter({
      name: 'strongroom_s3_received_bytes_total',
      help: 'S3 request body bytes received (declared Content-Length)',
      registers,
    })
    this.#bytesOut = new Counter({
      name: 'strongroom_s3_sent_bytes_total',
      help: 'S3 response body bytes sent (Content-Length of answered requests)',
      registers,
    })
    this.#kmsCalls = new Counter({
      name: 'strongroom_kms_calls_total',
      help: 'KMS calls made for SSE-KMS data keys, by operation and outcome',
      labelNames: ['operation', 'outcome'],
      registers,
    })
    this.#kmsLatency = new Histogram({
      name: 'strongroom_kms_call_duration_seconds',
      help: 'KMS call latency, by operation',
      labelNames: ['operation'],
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.#cache = new Counter({
      name: 'strongroom_data_key_cache_total',
      help: 'Data-key cache lookups, by cache and result (hit or miss)',
      labelNames: ['cache', 'result'],
      registers,
    })
    this.#integrity = new Counter({
      name: 'strongroom_integrity_failures_total',
      help: 'Stored data or records that failed authentication (tampered or corrupt)',
      registers,
    })
    this.#lifecycle = new Counter({
      name: 'strongroom_lifecycle_actions_total',
      help: 'What lifecycle rules did: expire-current, expire-noncurrent, remove-marker, abort-upload; skipped = a concurrent change won',
      labelNames: ['action'],
      registers,
    })
    this.#cacheChildren = {
      decrypt: [this.#cache.labels('decrypt', 'hit'), this.#cache.labels('decrypt', 'miss')],
      'bucket-key': [this.#cache.labels('bucket-key', 'hit'), this.#cache.labels('bucket-key', 'miss')],
    }
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry })
  }

  /** One answered S3 request. */
  s3Request(operation: string, status: number, seconds: number, bytesIn: number, bytesOut: number): void {
    let byStatus = this.#children.get(operation)
    if (!byStatus) {
      byStatus = new Map()
      this.#children.set(operation, byStatus)
    }
    let child = byStatus.get(status)
    if (!child) {
      const s = String(status)
      child = [this.#requests.labels(operation, s), this.#latency.labels(operation, s)]
      byStatus.set(status, child)
    }
    child[0].inc()
    child[1].observe(seconds)
    if (bytesIn > 0) this.#bytesIn.inc(bytesIn)
    if (bytesOut > 0) this.#bytesOut.inc(bytesOut)
  }

  /** One KMS call (`ok` false: it threw). */
  kmsCall(operation: string, ok: boolean, seconds: number): void {
    let child = this.#kmsChildren.get(operation)
    if (!child) {
      child = [
        this.#kmsCalls.labels(operation, 'ok'),
        this.#kmsCalls.labels(operation, 'error'),
        this.#kmsLatency.labels(operation),
      ]
      this.#kmsChildren.set(operation, child)
    }
    child[ok ? 0 : 1].inc()
    child[2].observe(seconds)
  }

  dataKeyCache(cache: DataKeyCacheName, hit: boolean): void {
    this.#cacheChildren[cache][hit ? 0 : 1].inc()
  }

  /** One lifecycle action taken by the sweeper (or skipped because the key changed meanwhile). */
  lifecycleAction(action: string): void {
    this.#lifecycle.labels(action).inc()
  }

  integrityFailure(): void {
    this.#integrity.inc()
  }

  /** Counts `err` if it is (or was caused by) an integrity failure; returns whether it was. */
  countIfIntegrityFailure(err: unknown): boolean {
    for (let e = err, depth = 0; e && depth < 4; e = (e as Error).cause, depth++) {
      const damaged = e instanceof IntegrityError || (e instanceof NotFoundError && e.kind === 'blob')
      if (damaged || (e instanceof CryptoError && e.reason === 'tampered')) {
        this.integrityFailure()
        return true
      }
    }
    return false
  }

  /** The Prometheus text exposition. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }
}

/** A KmsClient that counts and times every call of `inner` (cache hits of `inner` included). */
export function instrumentKms(inner: KmsClient, metrics: Metrics): KmsClient {
  const timed = async <T>(op: string, run: () => Promise<T>): Promise<T> => {
    const t0 = performance.now()
    try {
      const out = await run()
      metrics.kmsCall(op, true, (performance.now() - t0) / 1000)
      return out
    } catch (err) {
      metrics.kmsCall(op, false, (performance.now() - t0) / 1000)
      throw err
    }
  }
  return {
    generateDataKey: (i: GenerateDataKeyInput): Promise<GenerateDataKeyOutput> =>
      timed('GenerateDataKey', () => inner.generateDataKey(i)),
    decrypt: (i: DecryptInput): Promise<DecryptOutput> => timed('Decrypt', () => inner.decrypt(i)),
    encrypt: (i: EncryptInput): Promise<EncryptOutput> => timed('Encrypt', () => inner.encrypt(i)),
    reEncrypt: (i: ReEncryptInput): Promise<ReEncryptOutput> => timed('ReEncrypt', () => inner.reEncrypt(i)),
    describeKey: (keyId: string, caller?: KmsCaller): Promise<KeyDescription> =>
      timed('DescribeKey', () => inner.describeKey(keyId, caller)),
    close: () => inner.close(),
  }
}
