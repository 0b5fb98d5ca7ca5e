/**
 * @module A listing Cursor over one LevelDB key space, reading in adaptive batches (1 entry after
 * open or seek, doubling up to what the caller still wants) so a seek wastes little read-ahead.
 */
import type { Level } from 'level'
import type { Cursor } from '../listing.js'
import { absoluteRange, type Space } from './keys.js'

const MAX_BATCH = 1000
/** Cap on the bytes one nextv() holds (classic-level's default of 16 KiB is ~20 object records). */
const HIGH_WATER_MARK_BYTES = 1 << 20

/** Counts what listing scans read from LevelDB (the skip-ahead test asserts on it). */
export interface ReadStats {
  entriesRead: number
}

/** Opens a cursor over [gte, lt) relative to `space`. */
export function openLevelCursor(
  db: Level<Buffer, string>,
  space: Space,
  range: { gte: Buffer; lt?: Buffer },
  stats: ReadStats,
): Cursor<string> {
  const abs = absoluteRange(space, range)
  const it = db.iterator({ gte: abs.gte, lt: abs.lt, highWaterMarkBytes: HIGH_WATER_MARK_BYTES })
  const skip = space.prefix.length
  let buffered: Array<[Buffer, string]> = []
  let position = 0
  let batch = 1
  let ended = false

  return {
    async next(want: number) {
      if (position >= buffered.length) {
        if (ended) return undefined
        const size = Math.max(1, Math.min(batch, want, MAX_BATCH))
        buffered = await it.nextv(size)
        position = 0
        stats.entriesRead += buffered.length
        batch = size * 2
        if (buffered.length === 0) {
          ended = true
          return undefined
        }
      }
      const [key, value] = buffered[position++]
      return [key.subarray(skip), value]
    },
    seek(target: Buffer) {
      buffered = []
      position = 0
      batch = 1
      ended = false
      it.seek(Buffer.concat([space.prefix, target]))
    },
    close: () => it.close(),
  }
}

/** Iterates every entry of a space in key order (keys relative to the space). */
export async function* scanSpace(
  db: Level<Buffer, string>,
  space: Space,
  stats: ReadStats,
): AsyncGenerator<[Buffer, string]> {
  const cursor = openLevelCursor(db, space, { gte: Buffer.alloc(0) }, stats)
  try {
    for (let e = await cursor.next(MAX_BATCH); e; e = await cursor.next(MAX_BATCH)) yield e
  } finally {
    await cursor.close()
  }
}
