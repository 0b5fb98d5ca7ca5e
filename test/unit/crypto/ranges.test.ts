/** @module Tests of SR1 range arithmetic, including property tests that decrypt real ciphertext. */
import { AssertionError } from 'node:assert'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decryptPart, decryptPartRange } from '../../../crypto/aead-stream.js'
import { CHUNK_PLAIN, CHUNK_STORED } from '../../../crypto/format.js'
import { chunkCount, chunkSpan, ciphertextSize, splitRange } from '../../../crypto/ranges.js'
import { KiB, collect, encrypt, inPieces, randomPartKey } from './helpers.js'

const MAX_SIZE = 300 * KiB
/** Sizes and positions cluster around chunk boundaries, where off-by-one errors live. */
const nearBoundary = (max: number) =>
  fc
    .tuple(fc.integer({ min: 0, max: Math.floor(max / CHUNK_PLAIN) }), fc.integer({ min: -2, max: 2 }))
    .map(([k, d]) => Math.min(max, Math.max(0, k * CHUNK_PLAIN + d)))
const sizeArb = fc.oneof(
  fc.integer({ min: 1, max: MAX_SIZE }),
  nearBoundary(MAX_SIZE).filter((s) => s > 0),
)
const rangeArb = sizeArb.chain((size) => {
  const position = fc.oneof(fc.integer({ min: 0, max: size - 1 }), nearBoundary(size - 1))
  return fc
    .tuple(fc.constant(size), position, position)
    .map(([s, a, b]) => ({ size: s, start: Math.min(a, b), end: Math.max(a, b) }))
})

describe('chunkCount and ciphertextSize', () => {
  it.each([
    [0, 1, 16],
    [1, 1, 17],
    [65535, 1, 65551],
    [65536, 1, 65552],
    [65537, 2, 65569],
    [3 * 65536, 3, 3 * 65552],
  ])('a %i-byte part has %i chunk(s) and %i stored bytes', (size, chunks, stored) => {
    expect(chunkCount(size)).toBe(chunks)
    expect(ciphertextSize(size)).toBe(stored)
  })
})

describe('chunkSpan', () => {
  it('maps a range inside one chunk to that chunk only', () => {
    expect(chunkSpan(200_000, 70_000, 70_009)).toEqual({
      firstChunk: 1,
      lastChunk: 1,
      cipherStart: CHUNK_STORED,
      cipherEnd: 2 * CHUNK_STORED,
      skip: 70_000 - CHUNK_PLAIN,
      length: 10,
    })
  })

  it('maps a range across a chunk boundary to both chunks (the README example)', () => {
    expect(chunkSpan(200_000, 65_530, 65_540)).toEqual({
      firstChunk: 0,
      lastChunk: 1,
      cipherStart: 0,
      cipherEnd: 131_104,
      skip: 65_530,
      length: 11,
    })
  })

  it('ends the span at the short final chunk', () => {
    expect(chunkSpan(65_537, 65_536, 65_536)).toMatchObject({
      firstChunk: 1,
      lastChunk: 1,
      cipherStart: 65_552,
      cipherEnd: 65_569,
    })
  })

  it('Precondition: 0 <= start <= endInclusive < plainSize', () => {
    for (const [size, start, end] of [
      [0, 0, 0],
      [10, 5, 4],
      [10, -1, 3],
      [10, 0, 10],
      [10, 0.5, 3],
    ]) {
      expect(() => chunkSpan(size, start, end)).toThrow(AssertionError)
    }
  })

  it('any range of any part: decrypting only the covering stored bytes gives exactly the plaintext slice', async () => {
    const plainAll = randomBytes(MAX_SIZE)
    const pk = randomPartKey()
    const storedBySize = new Map<number, Buffer>()
    await fc.assert(
      fc.asyncProperty(rangeArb, fc.integer({ min: 1, max: 80 * KiB }), async ({ size, start, end }, piece) => {
        const plain = plainAll.subarray(0, size)
        let stored = storedBySize.get(size)
        if (!stored) storedBySize.set(size, (stored = await encrypt(pk, plain)))
        const span = chunkSpan(size, start, end)
        expect(span.cipherStart).toBe(span.firstChunk * CHUNK_STORED)
        expect(span.cipherEnd).toBeLessThanOrEqual(stored.length)
        expect(span.skip + span.length).toBeLessThanOrEqual((span.lastChunk - span.firstChunk + 1) * CHUNK_PLAIN)
        const covering = stored.subarray(span.cipherStart, span.cipherEnd)
        const expected = plain.subarray(start, end + 1)
        const sliced = await collect(decryptPartRange(pk, size, span)(inPieces(covering, () => piece)))
        expect(sliced.equals(expected)).toBe(true)
        // The same through decryptPart: whole covering chunks, trimmed by skip and length.
        const chunks = await collect(
          decryptPart(pk, { plainSize: size, firstChunk: span.firstChunk, lastChunk: span.lastChunk })(
            inPieces(covering),
          ),
        )
        expect(chunks.subarray(span.skip, span.skip + span.length).equals(expected)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })

  it('a range read given one chunk too few of stored bytes fails with tampered', async () => {
    const pk = randomPartKey()
    const size = 3 * CHUNK_PLAIN
    const stored = await encrypt(pk, randomBytes(size))
    const span = chunkSpan(size, 10, CHUNK_PLAIN + 10)
    const short = stored.subarray(span.cipherStart, span.cipherEnd - CHUNK_STORED)
    await expect(collect(decryptPartRange(pk, size, span)(inPieces(short)))).rejects.toMatchObject({
      reason: 'tampered',
    })
  })
})

describe('splitRange', () => {
  it('reads only the parts that cover the range, skipping empty parts', () => {
    expect(splitRange([10, 0, 10], 5, 14)).toEqual([
      { partIndex: 0, start: 5, end: 9 },
      { partIndex: 2, start: 0, end: 4 },
    ])
    expect(splitRange([10, 10, 10], 12, 13)).toEqual([{ partIndex: 1, start: 2, end: 3 }])
    expect(splitRange([10, 10, 10], 0, 29)).toHaveLength(3)
  })

  it('Precondition: 0 <= start <= endInclusive < total object size', () => {
    expect(() => splitRange([10, 10], 0, 20)).toThrow(AssertionError)
    expect(() => splitRange([], 0, 0)).toThrow(AssertionError)
    expect(() => splitRange([10, -1], 0, 5)).toThrow(AssertionError)
  })

  it('any part sizes and any range: the sub-ranges reassemble exactly the object slice', () => {
    const partsArb = fc
      .array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 300 })), { minLength: 1, maxLength: 10 })
      .filter((sizes) => sizes.some((s) => s > 0))
    const caseArb = partsArb.chain((sizes) => {
      const total = sizes.reduce((a, b) => a + b, 0)
      const pos = fc.integer({ min: 0, max: total - 1 })
      return fc.tuple(fc.constant(sizes), pos, pos)
    })
    fc.assert(
      fc.property(caseArb, ([sizes, a, b]) => {
        const [start, end] = [Math.min(a, b), Math.max(a, b)]
        // The object's bytes are their own offsets, so every slice is checkable.
        const offsets: number[][] = []
        let at = 0
        for (const size of sizes) offsets.push(Array.from({ length: size }, () => at++))
        const pieces = splitRange(sizes, start, end)
        const reassembled = pieces.flatMap((p) => offsets[p.partIndex].slice(p.start, p.end + 1))
        expect(reassembled).toEqual(Array.from({ length: end - start + 1 }, (_, i) => start + i))
        for (const [i, p] of pieces.entries()) {
          expect(p.start).toBeGreaterThanOrEqual(0)
          expect(p.start).toBeLessThanOrEqual(p.end)
          expect(p.end).toBeLessThan(sizes[p.partIndex])
          if (i > 0) expect(p.partIndex).toBeGreaterThan(pieces[i - 1].partIndex)
        }
      }),
      { numRuns: 1000 },
    )
  })
})
