/**
 * @module When an unreferenced blob may really be deleted: never while a reader holds it, and
 * never while a record read that may still return a record naming it is in flight.
 */
import type { BlobId } from './types.js'

/** A reader's hold on blobs; `release` is idempotent. */
export interface BlobHold {
  release(): void
}

/**
 * Defers the deletion of blobs that a commit made unreferenced until nobody can still read them.
 *
 * The race it closes: a reader reads an object record, a writer then commits a new record and
 * reclaims the old record's blobs, and only then does the reader open them. So a reader reads
 * records through `readHeld`, which takes the hold on the record's blobs in the same turn of the
 * event loop as the read completes; and `reclaim` waits for every `readHeld` read that was in
 * flight when it was called (any of them may return the old record), then for the holds. A read
 * that starts after `reclaim` was called started after the commit that released the blobs had
 * resolved, so it sees the new record (or none) and can never hold them. This costs no extra
 * metadata read: a delete waits at most for the record reads in flight at its commit, and then
 * for the readers that still hold the blob.
 *
 * One instance per blob store, in the store's one process.
 */
export class BlobReclaimer {
  /** Holds per blob. */
  private readonly holds = new Map<BlobId, number>()
  /** Reclaimed blobs that wait for their holds. */
  private readonly doomed = new Set<BlobId>()
  /** Record reads in flight, by sequence number (a Set keeps insertion, i.e. ascending, order). */
  private readonly reading = new Set<number>()
  private lastRead = 0
  /** Reclaimed blobs that wait for the reads numbered up to `upTo` (ascending `upTo`). */
  private readonly waiting: Array<{ upTo: number; ids: readonly BlobId[] }> = []

  /** `remove` deletes one blob from the store (and deals with its own errors). */
  constructor(private readonly remove: (id: BlobId) => void) {}

  /**
   * Runs `read` (one metadata read) and, if it returns a value, holds the blobs `blobsOf` names
   * before anything can reclaim them. The caller releases the hold when it is done with them.
   */
  async readHeld<T>(
    read: () => Promise<T | undefined>,
    blobsOf: (value: T) => readonly BlobId[],
  ): Promise<{ value: T; hold: BlobHold } | undefined> {
    const seq = ++this.lastRead
    this.reading.add(seq)
    try {
      const value = await read()
      if (value === undefined) return undefined
      return { value, hold: this.hold(blobsOf(value)) }
    } finally {
      this.readDone(seq)
    }
  }

  /**
   * Deletes `ids` once no read that might return a record naming them, and no hold, remains.
   * Precondition: the commit that made them unreferenced has resolved, so a read that starts now
   * cannot return a record naming them.
   */
  reclaim(ids: readonly BlobId[]): void {
    if (ids.length === 0) return
    if (this.reading.size === 0) this.settle(ids)
    else this.waiting.push({ upTo: this.lastRead, ids })
  }

  /** Blobs held or waiting for deletion (for tests). */
  get pending(): { held: number; waiting: number } {
    return { held: this.holds.size, waiting: this.doomed.size + this.waiting.reduce((n, w) => n + w.ids.length, 0) }
  }

  private hold(ids: readonly BlobId[]): BlobHold {
    for (const id of ids) this.holds.set(id, (this.holds.get(id) ?? 0) + 1)
    let released = false
    return {
      release: () => {
        if (released) return
        released = true
        for (const id of ids) this.unhold(id)
      },
    }
  }

  private unhold(id: BlobId): void {
    const n = (this.holds.get(id) ?? 1) - 1
    if (n > 0) {
      this.holds.set(id, n)
      return
    }
    this.holds.delete(id)
    if (this.doomed.delete(id)) this.remove(id)
  }

  private readDone(seq: number): void {
    this.reading.delete(seq)
    const oldest = this.reading.size === 0 ? Infinity : (this.reading.values().next().value as number)
    while (this.waiting.length > 0 && this.waiting[0].upTo < oldest) this.settle(this.waiting.shift()!.ids)
  }

  private settle(ids: readonly BlobId[]): void {
    for (const id of ids) {
      if (this.holds.has(id)) this.doomed.add(id)
      else this.remove(id)
    }
  }
}
