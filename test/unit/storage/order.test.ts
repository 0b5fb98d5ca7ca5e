/** @module Byte-order helpers and the LevelDB key layout. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bucketKey, nullVersionKey, partKey, uploadKey, uploadRefKey, versionKey } from '../../../storage/level/keys.js'
import {
  compareUtf8,
  parseUploadSortKey,
  successor,
  uploadSortKey,
  uploadsOfKey,
  utf8,
} from '../../../storage/order.js'
import { byteOrder } from '../../contract/fixtures.js'

const sign = (n: number) => Math.sign(n)
const anyKey = fc.string({ unit: 'binary', maxLength: 8 })
const withNul = fc
  .array(fc.constantFrom('\0', '\u0001', 'a', '\uFFFF', '\u{1F600}', 'é'), { maxLength: 6 })
  .map((a) => a.join(''))
const anyId = fc.string({
  unit: fc.constantFrom('a', 'b', '0', '.', '\u{1F600}', '\u0001'),
  minLength: 1,
  maxLength: 4,
})

describe('order', () => {
  it('compareUtf8 is code point order, not UTF-16 order', () => {
    expect(compareUtf8('\uFFFF', '\u{1F600}')).toBeLessThan(0)
    expect('\uFFFF' < '\u{1F600}').toBe(false) // the JavaScript order that listings must not use
  })

  it('utf8 refuses lone surrogates (they would collide as U+FFFD)', () => {
    expect(() => utf8('a\uDC00')).toThrow(TypeError)
    expect(utf8('\u{1F600}').length).toBe(4)
  })

  it('successor bounds exactly the strings that start with the prefix', () => {
    fc.assert(
      fc.property(anyKey, anyKey, (p, s) => {
        const bound = successor(utf8(p))
        if (!bound) return p === ''
        const inside = Buffer.compare(utf8(p + s), bound) < 0
        return inside
      }),
    )
    expect(successor(Buffer.from([0x61, 0xff, 0xff]))).toEqual(Buffer.from([0x62]))
    expect(successor(Buffer.from([0xff]))).toBeUndefined()
  })

  it('uploadSortKey orders by key bytes, then upload id bytes, even for keys containing NUL', () => {
    fc.assert(
      fc.property(fc.oneof(anyKey, withNul), anyId, fc.oneof(anyKey, withNul), anyId, (ka, ia, kb, ib) => {
        const expected = sign(byteOrder(ka, kb) || byteOrder(ia, ib))
        return sign(Buffer.compare(uploadSortKey(ka, ia), uploadSortKey(kb, ib))) === expected
      }),
      { numRuns: 2000 },
    )
  })

  it('parseUploadSortKey inverts uploadSortKey; uploadsOfKey holds exactly the uploads of that key', () => {
    fc.assert(
      fc.property(fc.oneof(anyKey, withNul), anyId, fc.oneof(anyKey, withNul), (key, id, other) => {
        const sk = uploadSortKey(key, id)
        expect(parseUploadSortKey(sk)).toEqual({ key, uploadId: id })
        const { start, end } = uploadsOfKey(other)
        const inside = Buffer.compare(sk, start) >= 0 && Buffer.compare(sk, end) < 0
        expect(inside).toBe(key === other)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('LevelDB key layout', () => {
  const s = (b: Buffer) => b.toString('utf8')
  it('is the documented layout', () => {
    expect(s(bucketKey('bkt'))).toBe('b\0bkt')
    const vid = 'f'.repeat(14) + '0'.repeat(18)
    expect(s(versionKey('bkt', 'a/é', vid))).toBe(`v\0bkt\0a/é\0${vid}`)
    expect(s(versionKey('bkt', 'a\0b', vid))).toBe(`v\0bkt\0a\0\xffb\0${vid}`.replace('\xff', '\ufffd'))
    expect(s(nullVersionKey('bkt', 'a/é'))).toBe('n\0bkt\0a/é')
    expect(s(uploadKey('bkt', 'a/é', 'id1'))).toBe('u\0bkt\0a/é\0id1')
    expect(s(uploadRefKey('id1'))).toBe('U\0id1')
    expect(s(partKey('id1', 7))).toBe('p\0id1\x0000007')
    expect(s(partKey('id1', 10000))).toBe('p\0id1\x0010000')
  })

  it('refuses NUL in bucket names and upload ids, and part numbers outside 1..10000', () => {
    expect(() => bucketKey('a\0b')).toThrow(TypeError)
    expect(() => uploadRefKey('a\0b')).toThrow(TypeError)
    expect(() => partKey('id', 0)).toThrow(RangeError)
  })

  it('a version key sorts within its bucket only: bucket "a" keys never mix with bucket "ab"', () => {
    const vid = '0'.repeat(32)
    const keys = [versionKey('a', '\u{1F600}', vid), versionKey('ab', '', vid), versionKey('a', 'zzz', vid)]
    const sorted = [...keys].sort(Buffer.compare)
    expect(sorted.map(s)).toEqual([`v\0a\0zzz\0${vid}`, `v\0a\0\u{1F600}\0${vid}`, `v\0ab\0\0${vid}`])
  })

  it('versions of one key sort newest first, before any longer key', () => {
    const older = '00000000000001' + '0'.repeat(18)
    const newer = '00000000000000' + 'f'.repeat(18)
    const keys = [
      versionKey('b', 'k', older),
      versionKey('b', 'k\0', newer),
      versionKey('b', 'k', newer),
      versionKey('b', 'k0', newer),
    ]
    expect([...keys].sort(Buffer.compare)).toEqual([keys[2], keys[0], keys[1], keys[3]])
  })
})
