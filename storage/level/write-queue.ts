/**
 * @module Group commit: batches that arrive while a synced LevelDB write is in flight are merged
 * into the next single `db.batch(…, { sync: true })`, so N concurrent commits cost ~1 fsync, not N.
 */

export type WriteOp = { type: 'put'; key: Buffer; value: string } | { type: 'del'; key: Buffer }

/** The one thing the queue needs from the database. */
export interface BatchTarget {
  batch(ops: WriteOp[], options: { sync: boolean }): Promise<void>
}

interface Pending {
  ops: WriteOp[]
  resolve: () => void
  reject: (err: unknown) => void
}

/**
 * Serialises durable writes and coalesces them. Each caller's ops land in one batch (so they are
 * atomic), and its promise resolves only after that batch is synced. Callers that need
 * check-then-write atomicity hold their own locks across `write` (the queue preserves order).
 */
export class WriteQueue {
  private pending: Pending[] = []
  private flushing: Promise<void> = Promise.resolve()
  private running = false
  /** Number of db.batch calls made (for tests and measurements). */
  batches = 0

  constructor(private readonly db: BatchTarget) {}

  /** Resolves when `ops` are durable; rejects with the database's error if the batch failed. */
  write(ops: WriteOp[]): Promise<void> {
    if (ops.length === 0) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ ops, resolve, reject })
      if (!this.running) {
        this.running = true
        this.flushing = this.flush()
      }
    })
  }

  /** Resolves when every write queued so far has finished. */
  async idle(): Promise<void> {
    while (this.running) await this.flushing
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const group = this.pending
        this.pending = []
        try {
          await this.commit(group.length === 1 ? group[0].ops : group.flatMap((p) => p.ops))
          for (const p of group) p.resolve()
        } catch (err) {
          if (group.length === 1) group[0].reject(err)
          // One caller's bad batch must not fail the others: retry each on its own.
          else for (const p of group) await this.commit(p.ops).then(p.resolve, p.reject)
        }
      }
    } finally {
      // Cleared in the same tick as the empty-queue check above, so no write can slip between.
      this.running = false
    }
  }

  private commit(ops: WriteOp[]): Promise<void> {
    this.batches++
    return this.db.batch(ops, { sync: true })
  }
}
