/**
 * @module Layout migration at open: object records of a database written before versions live at
 * `o\0<bucket>\0<key>`; each becomes the null version of its key at `v\0…` with its `n\0…` index
 * entry (storage/codec.ts gives it its version id). Every batch moves records atomically and is
 * synced, so an interrupted migration resumes where it stopped at the next open.
 */
import type { Level } from 'level'
import { nullRefCodec, objectCodec } from '../codec.js'
import { legacyObjectsSpace, nullVersionKey, versionKey } from './keys.js'
import type { WriteOp } from './write-queue.js'

const BATCH = 1000

/** Moves every legacy object record; returns how many it moved. */
export async function migrateLegacyObjects(db: Level<Buffer, string>): Promise<number> {
  let moved = 0
  const lt = Buffer.concat([legacyObjectsSpace.prefix.subarray(0, -1), Buffer.from([1])])
  for (;;) {
    const batch = await db.iterator({ gte: legacyObjectsSpace.prefix, lt, limit: BATCH }).all()
    if (batch.length === 0) return moved
    const ops: WriteOp[] = []
    for (const [key, text] of batch) {
      // Where the record was found names it, not the fields it carries.
      const rel = key.subarray(legacyObjectsSpace.prefix.length)
      const nul = rel.indexOf(0)
      const rec = {
        ...objectCodec.decode(text),
        bucket: rel.subarray(0, nul).toString('utf8'),
        key: rel.subarray(nul + 1).toString('utf8'),
      }
      ops.push({ type: 'del', key })
      ops.push({ type: 'put', key: versionKey(rec.bucket, rec.key, rec.versionId), value: objectCodec.encode(rec) })
      ops.push({
        type: 'put',
        key: nullVersionKey(rec.bucket, rec.key),
        value: nullRefCodec.encode({ versionId: rec.versionId }),
      })
    }
    await db.batch(ops, { sync: true })
    moved += batch.length
  }
}
