/**
 * @module A bounded, TTL'd in-memory cache of decrypted KMS data keys (crypto/README.md §1), keyed by the
 * ciphertext blob + encryption context + requested key id; entries are zeroed when evicted.
 */
import { createHash } from 'node:crypto'
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
  expires: number
}

/**
 * Decrypted data keys by (blob, context, keyId). Every value handed out is a copy, so callers
 * may zero what they get; the cache zeroes its own copy on expiry, eviction, delete and clear.
 * Concurrent misses for one id share a single load.
 */
export class DataKeyCache {
  readonly #max: number
  readonly #ttl: number
  readonly #now: () => number
  readonly #onLookup: ((hit: boolean) => void) | undefined
  readonly #entries = new Map<string, Entry>()
  readonly #loading = new Map<string, Promise<void>>()

  constructor(opts: DataKeyCacheOptions = {}) {
    this.#max = opts.maxEntries ?? 1024
    this.#ttl = opts.ttlMs ?? 5 * 60_000
    this.#now = opts.now ?? Date.now
    this.#onLookup = opts.onLookup
  }

  /** The cache id of a Decrypt request: SHA-256 of the blob, the canonical context, the key id asked for. */
  static idOf(blob: Uint8Array, context: EncryptionContext | undefined, keyId: string | undefined): string {
    const digest = createHash('sha256').update(blob).digest('base64')
    return `${digest}\0${canonicalContext(context)}\0${keyId ?? ''}`
  }

  get size(): number {
    return this.#entries.size
  }

  /** A copy of the cached key, or undefined (expired entries are zeroed and dropped). */
  get(id: string): DecryptOutput | undefined {
    const entry = this.#entries.get(id)
    if (!entry) return undefined
    if (entry.expires <= this.#now()) {
      this.delete(id)
      return undefined
    }
    // Refresh recency: Map iteration order is insertion order, so re-insert at the end.
    this.#entries.delete(id)
    this.#entries.set(id, entry)
    return { plaintext: Buffer.from(entry.plaintext), keyArn: entry.keyArn }
  }

  /** Stores a copy of `value` (the caller keeps and may zero its own). */
  set(id: string, value: DecryptOutput): void {
    if (this.#max <= 0) return
    this.delete(id)
    this.#entries.set(id, {
      plaintext: Buffer.from(value.plaintext),
      keyArn: value.keyArn,
      expires: this.#now() + this.#ttl,
    })
    this.#sweep()
  }

  /**
   * The cached value for `id`, else the result of `load` (cached, and shared with concurrent
   * callers of the same id). Errors of `load` are not cached.
   */
  async getOrLoad(id: string, load: () => Promise<DecryptOutput>): Promise<DecryptOutput> {
    const hit = this.get(id)
    this.#onLookup?.(hit !== undefined)
    if (hit) return hit
    if (this.#max <= 0) return load()
    let pending = this.#loading.get(id)
    if (!pending) {
      pending = load().then((out) => {
        this.set(id, out)
        out.plaintext.fill(0) // the cache holds its own copy now
      })
      this.#loading.set(id, pending)
      pending.then(
        () => this.#loading.delete(id),
        () => this.#loading.delete(id),
      )
    }
    await pending
    // Every waiter takes its own copy from the cache; if it was evicted already (tiny bound), load again.
    return this.get(id) ?? load()
  }

  /** Zeroes and removes one entry. */
  delete(id: string): void {
    const entry = this.#entries.get(id)
    if (!entry) return
    entry.plaintext.fill(0)
    this.#entries.delete(id)
  }

  /** Zeroes and removes every entry. */
  clear(): void {
    for (const entry of this.#entries.values()) entry.plaintext.fill(0)
    this.#entries.clear()
  }

  /** Drops expired entries, then the least recently used beyond the bound. */
  #sweep(): void {
    const now = this.#now()
    for (const [id, entry] of this.#entries) if (entry.expires <= now) this.delete(id)
    while (this.#entries.size > this.#max) this.delete(this.#entries.keys().next().value as string)
  }
}
