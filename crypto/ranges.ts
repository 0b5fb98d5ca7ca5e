/** @module Pure SR1 range arithmetic: plaintext ranges → stored chunk ranges, and across parts. */
import assert from 'node:assert/strict'
import { CHUNK_PLAIN, CHUNK_STORED, TAG_SIZE } from './format.js'

/** Which stored bytes of one part cover a plaintext range, and how to cut the decrypted output. */
export interface ChunkSpan {
  /** Index of the first chunk that holds plaintext byte `start`. */
  firstChunk: number
  /** Index of the chunk that holds plaintext byte `endInclusive`. */
  lastChunk: number
  /** Stored byte offset of firstChunk: firstChunk × 65552. */
  cipherStart: number
  /** Stored byte offset just past lastChunk (exclusive). */
  cipherEnd: number
  /** Plaintext bytes to drop from the start of the first decrypted chunk. */
  skip: number
  /** Plaintext bytes to return: endInclusive − start + 1. */
  length: number
}

/** One piece of a multi-part range: part `partIndex` (0-based), bytes start..end inclusive. */
export interface PartRange {
  partIndex: number
  start: number
  end: number
}

/** Number of stored chunks of a part of `plainSize` bytes; an empty part is one (empty) chunk. */
export function chunkCount(plainSize: number): number {
  assertSize(plainSize)
  return plainSize === 0 ? 1 : Math.ceil(plainSize / CHUNK_PLAIN)
}

/** Stored (SR1 ciphertext) bytes of a part of `plainSize` plaintext bytes. */
export function ciphertextSize(plainSize: number): number {
  return plainSize + chunkCount(plainSize) * TAG_SIZE
}

/** Plaintext bytes held by chunk `index` of a part of `plainSize` bytes. */
export function chunkPlainSize(plainSize: number, index: number): number {
  const count = chunkCount(plainSize)
  assert(Number.isInteger(index) && index >= 0 && index < count, 'Precondition: the chunk index is inside the part')
  return index < count - 1 ? CHUNK_PLAIN : plainSize - index * CHUNK_PLAIN
}

/**
 * Stored chunks covering plaintext bytes start..endInclusive of a part of `plainSize` bytes.
 * Throws AssertionError unless 0 ≤ start ≤ endInclusive < plainSize (integers): an empty part
 * has no satisfiable range; the server answers that before calling this.
 *
 * @example chunkSpan(200_000, 65_530, 65_540)
 *   // → { firstChunk: 0, lastChunk: 1, cipherStart: 0, cipherEnd: 131104, skip: 65530, length: 11 }
 */
export function chunkSpan(plainSize: number, start: number, endInclusive: number): ChunkSpan {
  assertSize(plainSize)
  // Precondition: the range is non-empty and inside the part.
  assert(
    Number.isSafeInteger(start) &&
      Number.isSafeInteger(endInclusive) &&
      start >= 0 &&
      start <= endInclusive &&
      endInclusive < plainSize,
    'Precondition: 0 <= start <= endInclusive < plainSize',
  )
  const firstChunk = Math.floor(start / CHUNK_PLAIN)
  const lastChunk = Math.floor(endInclusive / CHUNK_PLAIN)
  return {
    firstChunk,
    lastChunk,
    cipherStart: firstChunk * CHUNK_STORED,
    cipherEnd: lastChunk * CHUNK_STORED + chunkPlainSize(plainSize, lastChunk) + TAG_SIZE,
    skip: start - firstChunk * CHUNK_PLAIN,
    length: endInclusive - start + 1,
  }
}

/**
 * Splits the object range start..endInclusive over parts of the given plaintext sizes (in
 * object order) into per-part ranges; only parts that hold bytes of the range appear, so a range
 * across part boundaries reads only the covering parts. Empty parts never appear.
 * Throws AssertionError unless 0 ≤ start ≤ endInclusive < sum(partSizes).
 *
 * @example splitRange([10, 0, 10], 5, 14)
 *   // → [{ partIndex: 0, start: 5, end: 9 }, { partIndex: 2, start: 0, end: 4 }]
 */
export function splitRange(partSizes: readonly number[], start: number, endInclusive: number): PartRange[] {
  partSizes.forEach(assertSize)
  const total = partSizes.reduce((sum, size) => sum + size, 0)
  assert(
    Number.isSafeInteger(start) &&
      Number.isSafeInteger(endInclusive) &&
      start >= 0 &&
      start <= endInclusive &&
      endInclusive < total,
    'Precondition: 0 <= start <= endInclusive < total object size',
  )
  const ranges: PartRange[] = []
  let partStart = 0
  for (let partIndex = 0; partIndex < partSizes.length && partStart <= endInclusive; partIndex++) {
    const partEnd = partStart + partSizes[partIndex] - 1
    if (partEnd >= start && partSizes[partIndex] > 0) {
      ranges.push({
        partIndex,
        start: Math.max(start, partStart) - partStart,
        end: Math.min(endInclusive, partEnd) - partStart,
      })
    }
    partStart = partEnd + 1
  }
  return ranges
}

function assertSize(size: number): void {
  assert(Number.isSafeInteger(size) && size >= 0, 'Precondition: a plaintext size is a non-negative integer')
}
