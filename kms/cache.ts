/**
 * @module A bounded, TTL'd in-memory cache of decrypted KMS data keys (crypto/README.md §1), keyed by the
 * ciphertext blob + encryption context + requested key id; entries are zeroed when evicted.
 */
import { createHash } from 'node:crypto'
import { TtlCache } from '../lib/ttl-cache.js'
import { canonicalContext, type DecryptOutput, type EncryptionContext } from './types.js'

export interface DataKeyCacheOptions {
  /** Most entries kept; the least recently used goes first. Default 1024; 0 disables caching. */
  maxEntries?: number
  /** Lifetime of an entry from when it was decrypted. Default 5 minutes. */
  ttlMs?: number
  /** Clock in ms, for tests. */
  now?: () => number
  /** Told of every getOrLoad lookup: hit (served from the cache) or miss (metrics). */
  onLookup?: (hit: boolean) => void
}

interface Entry {
  plaintext: Buffer
  keyArn: string
}

/**
 * Decrypted data keys by (blob, context, keyId), in the project's one cache (lib/ttl-cache.ts).
 * Every value handed out is a copy, so callers may zero what they get; the cache zeroes its own
 * copy on expiry, eviction, delete and clear. Concurrent misses for one id share a single load.
 */
export class DataKeyCache {
  readonly #cache: TtlCache<Entry>
  readonly #onLookup: ((hit: boolean) => void) | undefined

  constructor(opts: DataKeyCacheOptions = {}) {
    this.#cache = new TtlCache<Entry>({
      maxEntries: opts.maxEntries ?? 1024,
      ttlMs: opts.ttlMs ?? 5 * 60_000,
      now: opts.now,
      dispose: (entry) => entry.plaintext.fill(0),
    })
    this.#onLookup = opts.onLookup
  }

  /** The cache id of a Decrypt request: SHA-256 of the blob, the canonical context, the key id asked for. */
  static idOf(blob: Uint8Array, context: EncryptionContext | undefined, keyId: string | undefined): string {
    const digest = createHash('sha256').update(blob).digest('base64')
    return `${digest}\0${canonicalContext(context)}\0${keyId ?? ''}`
  }

  get size(): number {
    return this.#cache.size
  }

  /** A copy of the cached key, or undefined (expired entries are zeroed and dropped). */
  get(id: string): DecryptOutput | undefined {
    const entry = this.#cache.get(id)
    return entry && { plaintext: Buffer.from(entry.plaintext), keyArn: entry.keyArn }
  }

  /** Stores a copy of `value` (the caller keeps and may zero its own). */
  set(id: string, value: DecryptOutput): void {
    this.#cache.set(id, { plaintext: Buffer.from(value.plaintext), keyArn: value.keyArn })
  }

  /**
   * The cached value for `id`, else the result of `load` (cached, and shared with concurrent
   * callers of the same id). Errors of `load` are not cached.
   */
  async getOrLoad(id: string, load: () => Promise<DecryptOutput>): Promise<DecryptOutput> {
    const hit = this.get(id)
    this.#onLookup?.(hit !== undefined)
    if (hit) return hit
    if (!this.#cache.enabled) return load()
    await this.#cache.load(id, async () => {
      const out = await load()
      const own = { plaintext: Buffer.from(out.plaintext), keyArn: out.keyArn }
      out.plaintext.fill(0) // the cache holds its own copy now
      return own
    })
    // Every waiter takes its own copy in this turn; if it was evicted already (tiny bound), load again.
    return this.get(id) ?? load()
  }

  /** Zeroes and removes one entry. */
  delete(id: string): void {
    this.#cache.delete(id)
  }

  /** Zeroes and removes every entry. */
  clear(): void {
    this.#cache.clear()
  }
}
