/** @module Test helpers for the crypto unit tests: feeding bytes in pieces, collecting, tamper checks. */
import { randomBytes } from 'node:crypto'
import { expect } from 'vitest'
import { decryptPart, encryptPart, type ByteTransform } from '../../../crypto/aead-stream.js'
import { CryptoError } from '../../../crypto/errors.js'
import type { PartKey } from '../../../crypto/types.js'

export const KiB = 1024
export const MiB = 1024 * KiB

/** A fresh random part key. */
export function randomPartKey(): PartKey {
  return randomBytes(32) as PartKey
}

/** The bytes from, from+1, …, to−1: `byteRange(0x20, 0x40)` is 20..3f. */
export function byteRange(from: number, to: number): Buffer {
  return Buffer.from(Array.from({ length: to - from }, (_, i) => from + i))
}

/** Yields `bytes` in pieces whose sizes come from `nextSize` (called until the bytes run out). */
export async function* inPieces(
  bytes: Uint8Array,
  nextSize: () => number = () => bytes.length || 1,
): AsyncGenerator<Uint8Array> {
  let offset = 0
  while (offset < bytes.length) {
    const size = Math.max(1, nextSize())
    yield bytes.subarray(offset, offset + size)
    offset += size
  }
}

/** Piece sizes drawn at random from 1..max. */
export function randomSizes(max: number): () => number {
  return () => 1 + Math.floor(Math.random() * max)
}

/** Concatenates everything an async iterable yields. */
export async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const piece of it) parts.push(piece)
  return Buffer.concat(parts)
}

/** SR1-encrypts `plain` under `pk`, fed as one piece unless `nextSize` says otherwise. */
export function encrypt(pk: PartKey, plain: Uint8Array, nextSize?: () => number): Promise<Buffer> {
  return collect(encryptPart(pk)(inPieces(plain, nextSize)))
}

/** Runs `transform` over `stored` and returns what it yielded and what it threw. */
export async function runCollecting(
  transform: ByteTransform,
  stored: Uint8Array,
  nextSize?: () => number,
): Promise<{ yielded: Buffer[]; error: unknown }> {
  const yielded: Buffer[] = []
  try {
    for await (const plain of transform(inPieces(stored, nextSize))) yielded.push(Buffer.from(plain))
  } catch (error) {
    return { yielded, error }
  }
  return { yielded, error: undefined }
}

/**
 * Decrypts damaged `stored` and asserts it throws CryptoError('tampered') and that everything
 * yielded before the throw is genuine plaintext from the start of `plain` (never unverified bytes).
 * Returns the number of plaintext bytes yielded before the failure.
 */
export async function expectTampered(
  pk: PartKey,
  plain: Buffer,
  stored: Uint8Array,
  plainSize = plain.length,
): Promise<number> {
  let releasedInOnePiece = 0
  // Once as a single piece, once in random pieces: the outcome must not depend on delivery.
  for (const nextSize of [undefined, randomSizes(70 * KiB)]) {
    const { yielded, error } = await runCollecting(decryptPart(pk, { plainSize }), stored, nextSize)
    expect(error).toBeInstanceOf(CryptoError)
    expect((error as CryptoError).reason).toBe('tampered')
    const released = Buffer.concat(yielded)
    expect(released.equals(plain.subarray(0, released.length))).toBe(true)
    if (nextSize === undefined) releasedInOnePiece = released.length
  }
  return releasedInOnePiece
}
