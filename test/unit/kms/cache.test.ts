/**
 * @module Unit tests of the decrypted data key cache: bounded, TTL'd, copies out, zeroes on eviction, one load per
 * concurrent miss.
 */
import { describe, expect, it } from 'vitest'
import { DataKeyCache } from '../../../kms/cache.js'

const key = (b: number) => ({ plaintext: Buffer.alloc(32, b), keyArn: 'arn:k' })

/** The buffers `fill`ed while `fn` runs (how the cache zeroes keys), as they are afterwards. */
function zeroedDuring(fn: () => void): Buffer[] {
  const filled: Buffer[] = []
  const original = Buffer.prototype.fill
  Buffer.prototype.fill = function (this: Buffer, ...args: Parameters<Buffer['fill']>) {
    filled.push(this)
    return original.apply(this, args)
  } as Buffer['fill']
  try {
    fn()
  } finally {
    Buffer.prototype.fill = original
  }
  return filled
}

describe('DataKeyCache', () => {
  it('the id depends on the blob, the context (order-insensitive) and the key id asked for', () => {
    const blob = Buffer.from('blob')
    expect(DataKeyCache.idOf(blob, { a: '1', b: '2' }, undefined)).toBe(
      DataKeyCache.idOf(blob, { b: '2', a: '1' }, undefined),
    )
    expect(DataKeyCache.idOf(blob, { a: '1' }, undefined)).not.toBe(DataKeyCache.idOf(blob, { a: '2' }, undefined))
    expect(DataKeyCache.idOf(blob, undefined, 'k')).not.toBe(DataKeyCache.idOf(blob, undefined, undefined))
    expect(DataKeyCache.idOf(Buffer.from('other'), undefined, undefined)).not.toBe(
      DataKeyCache.idOf(blob, undefined, undefined),
    )
    expect(DataKeyCache.idOf(blob, undefined, undefined)).not.toContain('blob')
  })

  it('hands out copies: zeroing what it returned leaves the cached key intact', () => {
    const cache = new DataKeyCache()
    const original = key(7)
    cache.set('a', original)
    original.plaintext.fill(0)
    const got = cache.get('a')!
    expect(got.plaintext.equals(Buffer.alloc(32, 7))).toBe(true)
    got.plaintext.fill(0)
    expect(cache.get('a')!.plaintext.equals(Buffer.alloc(32, 7))).toBe(true)
  })

  it('entries expire after the TTL', () => {
    const clock = { now: 0 }
    const cache = new DataKeyCache({ ttlMs: 1000, now: () => clock.now })
    cache.set('a', key(1))
    clock.now = 999
    expect(cache.get('a')).toBeDefined()
    clock.now = 1000
    expect(cache.get('a')).toBeUndefined()
    expect(cache.size).toBe(0)
  })

  it('is bounded: the least recently used entry goes first, and evicted keys are zeroed', () => {
    const cache = new DataKeyCache({ maxEntries: 2 })
    cache.set('a', key(1))
    cache.set('b', key(2))
    cache.get('a')
    const zeroed = zeroedDuring(() => cache.set('c', key(3)))
    expect(cache.size).toBe(2)
    expect(cache.get('b')).toBeUndefined()
    expect(cache.get('a')).toBeDefined()
    // The evicted copy of b was overwritten with zeros.
    expect(zeroed.some((b) => b.length === 32 && b.equals(Buffer.alloc(32)))).toBe(true)
  })

  it('clear() zeroes every stored key', () => {
    const cache = new DataKeyCache()
    cache.set('a', key(9))
    cache.set('b', key(8))
    const zeroed = zeroedDuring(() => cache.clear())
    expect(zeroed).toHaveLength(2)
    expect(zeroed.every((b) => b.equals(Buffer.alloc(32)))).toBe(true)
    expect(cache.size).toBe(0)
  })

  it('concurrent misses for one id share a single load; failures are not cached', async () => {
    const cache = new DataKeyCache()
    let loads = 0
    const load = async () => {
      loads++
      await new Promise((r) => setTimeout(r, 5))
      return key(4)
    }
    const results = await Promise.all([
      cache.getOrLoad('x', load),
      cache.getOrLoad('x', load),
      cache.getOrLoad('x', load),
    ])
    expect(loads).toBe(1)
    expect(results.every((r) => r.plaintext.equals(Buffer.alloc(32, 4)))).toBe(true)
    results[0].plaintext.fill(0)
    expect(results[1].plaintext.equals(Buffer.alloc(32, 4))).toBe(true)
    await expect(cache.getOrLoad('y', async () => Promise.reject(new Error('down')))).rejects.toThrow('down')
    expect(await cache.getOrLoad('y', async () => key(5))).toMatchObject({ keyArn: 'arn:k' })
  })

  it('maxEntries 0 turns caching off', async () => {
    const cache = new DataKeyCache({ maxEntries: 0 })
    let loads = 0
    const load = async () => (loads++, key(1))
    await cache.getOrLoad('a', load)
    await cache.getOrLoad('a', load)
    expect(loads).toBe(2)
  })
})
