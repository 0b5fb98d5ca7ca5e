/** @module The one cache (lib/ttl-cache.ts): lifetime, least-recently-used bound, dispose on every exit, shared loads. */
import { describe, expect, it } from 'vitest'
import { TtlCache } from '../../../lib/ttl-cache.js'

function cacheWith(maxEntries: number, ttlMs = 1000) {
  let now = 0
  const disposed: string[] = []
  const cache = new TtlCache<string>({ maxEntries, ttlMs, now: () => now, dispose: (v) => disposed.push(v) })
  return { cache, disposed, advance: (ms: number) => (now += ms) }
}

describe('TtlCache', () => {
  it('serves a value until its lifetime ends, then disposes it', () => {
    const { cache, disposed, advance } = cacheWith(4)
    cache.set('a', 'A')
    advance(999)
    expect(cache.get('a')).toBe('A')
    advance(1)
    expect(cache.get('a')).toBeUndefined()
    expect(disposed).toEqual(['A'])
  })

  it('evicts the least recently used beyond the bound, disposing it', () => {
    const { cache, disposed } = cacheWith(2)
    cache.set('a', 'A')
    cache.set('b', 'B')
    cache.get('a')
    cache.set('c', 'C')
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual(['A', undefined, 'C'])
    expect(disposed).toEqual(['B'])
  })

  it('disposes a replaced value, a deleted one and everything on clear; with no room it keeps nothing', () => {
    const { cache, disposed } = cacheWith(4)
    cache.set('a', 'A1')
    cache.set('a', 'A2')
    cache.set('b', 'B')
    cache.delete('b')
    cache.clear()
    expect(disposed).toEqual(['A1', 'B', 'A2'])
    const none = cacheWith(0)
    none.cache.set('x', 'X')
    expect(none.cache.get('x')).toBeUndefined()
    expect(none.disposed).toEqual(['X'])
  })

  it('concurrent loads of one id share one load; a failed load is not cached', async () => {
    const { cache } = cacheWith(4)
    let calls = 0
    const load = async () => {
      calls++
      await new Promise((r) => setTimeout(r, 5))
      return 'V'
    }
    await Promise.all([cache.load('k', load), cache.load('k', load), cache.load('k', load)])
    expect(calls).toBe(1)
    expect(cache.get('k')).toBe('V')
    await expect(cache.load('bad', async () => Promise.reject(new Error('no')))).rejects.toThrow('no')
    expect(cache.get('bad')).toBeUndefined()
    await cache.load('bad', async () => 'later')
    expect(cache.get('bad')).toBe('later')
  })
})
