/** @module LockTable (shared/exclusive, FIFO) and WriteQueue (group commit) on their own. */
import { describe, expect, it } from 'vitest'
import { WriteQueue, type WriteOp } from '../../../storage/level/write-queue.js'
import { LockTable } from '../../../storage/lock.js'

const tick = () => new Promise((r) => setImmediate(r))

describe('LockTable', () => {
  it('shares among readers, excludes writers, and forgets idle names', async () => {
    const locks = new LockTable()
    const r1 = await locks.shared('b')
    const r2 = await locks.shared('b')
    let writerIn = false
    const w = locks.exclusive('b').then((release) => {
      writerIn = true
      return release
    })
    await tick()
    expect(writerIn).toBe(false)
    r1()
    await tick()
    expect(writerIn).toBe(false)
    r2()
    const release = await w
    expect(writerIn).toBe(true)
    release()
    release() // a second release is a no-op
    expect(locks.size).toBe(0)
  })

  it('serves waiters in arrival order: a reader behind a waiting writer waits', async () => {
    const locks = new LockTable()
    const order: string[] = []
    const r1 = await locks.shared('b')
    const w = locks.exclusive('b').then((rel) => (order.push('writer'), rel))
    const r2 = locks.shared('b').then((rel) => (order.push('reader2'), rel))
    await tick()
    expect(order).toEqual([])
    r1()
    ;(await w)()
    ;(await r2)()
    expect(order).toEqual(['writer', 'reader2'])
  })

  it('with() releases when the function throws', async () => {
    const locks = new LockTable()
    await expect(
      locks.with('k', 'exclusive', async () => {
        throw new Error('x')
      }),
    ).rejects.toThrow('x')
    expect(locks.size).toBe(0)
  })
})

describe('WriteQueue', () => {
  const put = (k: string): WriteOp => ({ type: 'put', key: Buffer.from(k), value: k })

  it('merges writes that arrive while a batch is in flight into one next batch', async () => {
    const batches: WriteOp[][] = []
    let finish: () => void = () => {}
    const queue = new WriteQueue({
      batch: (ops) => {
        batches.push(ops)
        return new Promise<void>((resolve) => (finish = resolve))
      },
    })
    const first = queue.write([put('a')])
    const rest = [queue.write([put('b')]), queue.write([put('c'), put('d')])]
    expect(batches).toHaveLength(1)
    finish()
    await first
    await tick()
    expect(batches).toHaveLength(2)
    expect(batches[1].map((o) => o.key.toString())).toEqual(['b', 'c', 'd'])
    finish()
    await Promise.all(rest)
    await queue.idle()
  })

  it('a failing merged batch is retried per caller, so only the bad caller fails', async () => {
    const queue = new WriteQueue({
      batch: async (ops) => {
        await tick()
        if (ops.some((o) => o.key.toString() === 'bad')) throw new Error('bad op')
      },
    })
    const first = queue.write([put('x')])
    const good = queue.write([put('y')])
    const bad = queue.write([put('bad')])
    await first
    await expect(good).resolves.toBeUndefined()
    await expect(bad).rejects.toThrow('bad op')
  })

  it('a write queued just as the previous flush ends is still written', async () => {
    const written: string[] = []
    const queue = new WriteQueue({ batch: async (ops) => void written.push(...ops.map((o) => o.key.toString())) })
    await queue.write([put('a')])
    await queue.write([put('b')])
    await Promise.all([queue.write([put('c')]), queue.write([put('d')])])
    expect(written).toEqual(['a', 'b', 'c', 'd'])
  })
})
