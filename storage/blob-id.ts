/** @module Blob ids and ranges: the preconditions every BlobStore checks before touching storage. */
import { randomBytes } from 'node:crypto'
import type { BlobId } from './types.js'

/** What a blob id looks like (also a file name in `blobs/<xx>/`). */
export const BLOB_ID = /^[0-9a-f]{32}$/

/**
 * Precondition: a blob id is 32 lowercase hex digits (what newId makes), so no id can name a path
 * outside the data directory. Throws TypeError otherwise.
 */
export function assertBlobId(id: BlobId): void {
  if (typeof id !== 'string' || !BLOB_ID.test(id)) throw new TypeError('invalid blob id')
}

/** Precondition: a range is 0 <= start <= end, integers. Throws RangeError otherwise. */
export function assertRange(range: { start: number; end: number } | undefined): void {
  if (
    range &&
    !(
      Number.isSafeInteger(range.start) &&
      Number.isSafeInteger(range.end) &&
      range.start >= 0 &&
      range.start <= range.end
    )
  ) {
    throw new RangeError('invalid blob range')
  }
}

/** A fresh random 128-bit blob id in hex. */
export function newBlobId(): BlobId {
  return randomBytes(16).toString('hex')
}
