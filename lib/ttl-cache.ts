/**
 * @module The one in-memory cache of the project: bounded, with a lifetime per entry, least recently
 * used out first, and concurrent misses for one id sharing a single load. Every value that leaves
 * it (expiry, eviction, replacement, delete, clear) is passed to `dispose`, which for key material
 * zeroes it. Used by the KMS data-key cache (kms/cache.ts) and the bucket-key cache
 * (server/s3/kms-keys.ts). Pure computation: no I/O.
 */

export interface TtlCacheOptions<V> {
  /** Most entries kept; the least recently used goes first. 0 keeps nothing. */
  maxEntries: number
  /** Lifetime of an entry from when it was stored. */
  ttlMs: number
  /** Clock in ms, for tests. */
  now?: () => number
  /** Called once for every value that leaves the cache. */
  dispose?: (value: V) => void
}

interface Entry<V> {
  value: V
  expires: number
}

export class TtlCache<V> {
  readonly #max: number
  readonly #ttl: number
  readonly #now: () => number
  readonly #dispose: (value: V) => void
  readonly #entries = new Map<string, Entry<V>>()
  readonly #loading = new Map<string, Promise<void>>()

  constructor(opts: TtlCacheOptions<V>) {
    this.#max = opts.maxEntries
    this.#ttl = opts.ttlMs
    this.#now = opts.now ?? Date.now
    this.#dispose = opts.dispose ?? (() => {})
  }

  get size(): number {
    return this.#entries.size
  }

  /** Whether the cache keeps anything at all. */
  get enabled(): boolean {
    return this.#max > 0
  }

  /** The live value of `id`, or undefined (an expired entry is disposed and dropped). */
  get(id: string): V | undefined {
    const entry = this.#entries.get(id)
    if (!entry) return undefined
    if (entry.expires <= this.#now()) {
      this.delete(id)
      return undefined
    }
    // Map iteration order is insertion order: re-inserting marks the entry most recently used.
    this.#entries.delete(id)
    this.#entries.set(id, entry)
    return entry.value
  }

  /** Stores `value` under `id` (disposing the value it replaces); with maxEntries 0 disposes it at once. */
  set(id: string, value: V): void {
    if (this.#max <= 0) {
      this.#dispose(value)
      return
    }
    this.delete(id)
    this.#entries.set(id, { value, expires: this.#now() + this.#ttl })
    this.#sweep()
  }

  /**
   * Loads `id` into the cache unless a load of it is already running, in which case it waits for that
   * one: concurrent misses share one `load`. Errors of `load` are not cached. Read the value with
   * `get` in the same turn as the await returns; it may have been evicted meanwhile.
   */
  async load(id: string, load: () => Promise<V>): Promise<void> {
    let pending = this.#loading.get(id)
    if (!pending) {
      pending = load().then((value) => this.set(id, value))
      this.#loading.set(id, pending)
      const settled = () => this.#loading.delete(id)
      pending.then(settled, settled)
    }
    await pending
  }

  /** Disposes and removes one entry. */
  delete(id: string): void {
    const entry = this.#entries.get(id)
    if (!entry) return
    this.#entries.delete(id)
    this.#dispose(entry.value)
  }

  /** Disposes and removes every entry. */
  clear(): void {
    for (const entry of this.#entries.values()) this.#dispose(entry.value)
    this.#entries.clear()
  }

  /** Drops expired entries, then the least recently used beyond the bound. */
  #sweep(): void {
    const now = this.#now()
    for (const [id, entry] of this.#entries) if (entry.expires <= now) this.delete(id)
    while (this.#entries.size > this.#max) this.delete(this.#entries.keys().next().value as string)
  }
}
