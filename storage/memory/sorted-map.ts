/** @module A map with Buffer keys kept in byte order (sorted arrays, binary search), for tests only. */
import type { Cursor } from '../listing.js'

/** Buffer-keyed map in byte order; O(log n) lookups, O(n) inserts (fine at test sizes). */
export class SortedMap<V> {
  private readonly keys: Buffer[] = []
  private readonly values: V[] = []

  get size(): number {
    return this.keys.length
  }

  get(key: Buffer): V | undefined {
    const i = this.lowerBound(key)
    return i < this.keys.length && this.keys[i].equals(key) ? this.values[i] : undefined
  }

  set(key: Buffer, value: V): void {
    const i = this.lowerBound(key)
    if (i < this.keys.length && this.keys[i].equals(key)) this.values[i] = value
    else {
      this.keys.splice(i, 0, Buffer.from(key))
      this.values.splice(i, 0, value)
    }
  }

  delete(key: Buffer): boolean {
    const i = this.lowerBound(key)
    if (i >= this.keys.length || !this.keys[i].equals(key)) return false
    this.keys.splice(i, 1)
    this.values.splice(i, 1)
    return true
  }

  /** Entries in [gte, lt), in key order (a snapshot). */
  range(gte: Buffer, lt?: Buffer): Array<[Buffer, V]> {
    const out: Array<[Buffer, V]> = []
    for (let i = this.lowerBound(gte); i < this.keys.length && (!lt || Buffer.compare(this.keys[i], lt) < 0); i++) {
      out.push([this.keys[i], this.values[i]])
    }
    return out
  }

  /**
   * A cursor over [gte, lt) that reads the live map (like a LevelDB iterator without a snapshot,
   * it stays correct when entries change between calls); `onRead` is called per entry returned.
   */
  cursor(range: { gte: Buffer; lt?: Buffer }, onRead: () => void): Cursor<V> {
    let from = range.gte
    return {
      next: async () => {
        const i = this.lowerBound(from)
        if (i >= this.keys.length || (range.lt && Buffer.compare(this.keys[i], range.lt) >= 0)) return undefined
        onRead()
        from = Buffer.concat([this.keys[i], Buffer.from([0])])
        return [this.keys[i], this.values[i]]
      },
      seek: (target: Buffer) => {
        if (Buffer.compare(target, from) > 0) from = target
      },
      close: async () => {},
    }
  }

  /** Index of the first key >= `key`. */
  private lowerBound(key: Buffer): number {
    let lo = 0
    let hi = this.keys.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (Buffer.compare(this.keys[mid], key) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
