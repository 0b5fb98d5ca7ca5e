/**
 * @module BlobReclaimer: an unreferenced blob is deleted only once no reader holds it and no record read that may name
 * it is in flight.
 */
import { describe, expect, it } from 'vitest'
import { BlobReclaimer } from '../../../storage/reclaim.js'

/** A promise with its resolve/reject, to hold a record read in flight. */
function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

interface Rec {
  blobs: string[]
}

function setup() {
  const deleted: string[] = []
  const r = new BlobReclaimer((id) => deleted.push(id))
  const read = (p: Promise<Rec | undefined>) =>
    r.readHeld(
      () => p,
      (rec) => rec.blobs,
    )
  return { r, deleted, read }
}

describe('BlobReclaimer', () => {
  it('deletes at once what nobody holds or may be reading', () => {
    const { r, deleted } = setup()
    r.reclaim(['a', 'b'])
    expect(deleted).toEqual(['a', 'b'])
    expect(r.pending).toEqual({ held: 0, waiting: 0 })
  })

  it('defers the deletion of a held blob until its last hold is released (release is idempotent)', async () => {
    const { r, deleted, read } = setup()
    const one = (await read(Promise.resolve({ blobs: ['a', 'b'] })))!
    const two = (await read(Promise.resolve({ blobs: ['a'] })))!
    r.reclaim(['a', 'b'])
    expect(deleted).toEqual([])
    one.hold.release()
    one.hold.release()
    expect(deleted).toEqual(['b'])
    two.hold.release()
    expect(deleted).toEqual(['b', 'a'])
    expect(r.pending).toEqual({ held: 0, waiting: 0 })
  })

  it('a record read in flight when the blobs are reclaimed, that returns the old record, holds them: the race of a GET with an overwrite', async () => {
    const { r, deleted, read } = setup()
    const pending = deferred<Rec | undefined>()
    const reading = read(pending.promise)
    // The overwrite commits and reclaims the old record's blob while the GET's read is in flight.
    r.reclaim(['old'])
    expect(deleted).toEqual([])
    pending.resolve({ blobs: ['old'] })
    const got = (await reading)!
    expect(deleted).toEqual([])
    got.hold.release()
    expect(deleted).toEqual(['old'])
  })

  it('a read in flight that returns another record, none, or fails still lets the deletion go when it ends', async () => {
    const { r, deleted, read } = setup()
    const a = deferred<Rec | undefined>()
    const b = deferred<Rec | undefined>()
    const c = deferred<Rec | undefined>()
    const reads = [read(a.promise), read(b.promise), read(c.promise).catch(() => undefined)]
    r.reclaim(['x'])
    a.resolve({ blobs: ['new'] })
    await reads[0]
    b.resolve(undefined)
    await reads[1]
    expect(deleted).toEqual([])
    c.reject(new Error('db down'))
    await reads[2]
    expect(deleted).toEqual(['x'])
  })

  it('reads that start after the reclaim do not delay it; earlier reclaims go first', async () => {
    const { r, deleted, read } = setup()
    const early = deferred<Rec | undefined>()
    const earlyRead = read(early.promise)
    r.reclaim(['first'])
    const late = deferred<Rec | undefined>()
    const lateRead = read(late.promise)
    r.reclaim(['second'])
    early.resolve(undefined)
    await earlyRead
    // `first` waited only for the early read; `second` also waits for the late one.
    expect(deleted).toEqual(['first'])
    late.resolve(undefined)
    await lateRead
    expect(deleted).toEqual(['first', 'second'])
  })

  it('bounded: 10 000 interleaved reads, holds and reclaims leave nothing held or waiting', async () => {
    const { r, deleted, read } = setup()
    const ids = Array.from({ length: 10_000 }, (_, i) => `b${i}`)
    await Promise.all(
      ids.map(async (id, i) => {
        const got = (await read(Promise.resolve({ blobs: [id] })))!
        if (i % 2) r.reclaim([id])
        got.hold.release()
        if (!(i % 2)) r.reclaim([id])
      }),
    )
    expect(deleted.sort()).toEqual([...ids].sort())
    expect(r.pending).toEqual({ held: 0, waiting: 0 })
  })
})
