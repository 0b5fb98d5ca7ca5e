/**
 * @module In-process async locks keyed by name: shared/exclusive (read/write) with FIFO fairness,
 * so check-then-write sequences of a MetadataStore are atomic within the process.
 */

/** Releases a held lock; calling it twice is a no-op. */
export type Release = () => void

interface Waiter {
  exclusive: boolean
  grant: () => void
}

interface LockState {
  readers: number
  writer: boolean
  queue: Waiter[]
}

/**
 * A table of read/write locks created on demand and dropped when idle. Waiters are served in
 * arrival order: a reader behind a waiting writer waits too, so writers are not starved.
 */
export class LockTable {
  private readonly locks = new Map<string, LockState>()

  /** Acquires `name` shared (many holders at once). */
  shared(name: string): Promise<Release> {
    return this.acquire(name, false)
  }

  /** Acquires `name` exclusively (one holder, no shared holders). */
  exclusive(name: string): Promise<Release> {
    return this.acquire(name, true)
  }

  /** Runs `fn` while holding `name` in the given mode. */
  async with<T>(name: string, mode: 'shared' | 'exclusive', fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire(name, mode === 'exclusive')
    try {
      return await fn()
    } finally {
      release()
    }
  }

  /** Number of names with a holder or a waiter (for tests: must return to 0). */
  get size(): number {
    return this.locks.size
  }

  private acquire(name: string, exclusive: boolean): Promise<Release> {
    let state = this.locks.get(name)
    if (!state) {
      state = { readers: 0, writer: false, queue: [] }
      this.locks.set(name, state)
    }
    const s = state
    return new Promise<Release>((resolve) => {
      const grant = () => {
        if (exclusive) s.writer = true
        else s.readers++
        let released = false
        resolve(() => {
          if (released) return
          released = true
          if (exclusive) s.writer = false
          else s.readers--
          this.drain(name, s)
        })
      }
      if (s.queue.length === 0 && this.compatible(s, exclusive)) grant()
      else s.queue.push({ exclusive, grant })
    })
  }

  private compatible(s: LockState, exclusive: boolean): boolean {
    return exclusive ? !s.writer && s.readers === 0 : !s.writer
  }

  private drain(name: string, s: LockState): void {
    while (s.queue.length > 0 && this.compatible(s, s.queue[0].exclusive)) {
      s.queue.shift()!.grant()
    }
    if (s.queue.length === 0 && s.readers === 0 && !s.writer) this.locks.delete(name)
  }
}
