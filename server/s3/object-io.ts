/**
 * @module Where the crypto layer meets the storage layer for object data: creating and opening
 * object keys per mode, writing one encrypted part blob, and reading plaintext ranges back.
 * No HTTP here beyond the typed SseRequest; handlers call these.
 */
import { decryptPart, decryptPartRange, encryptPart } from '../../crypto/aead-stream.js'
import { derivePartKey, newPartSalt } from '../../crypto/keys.js'
import { openSseS3, sealForSseS3 } from '../../crypto/modes/sse-s3.js'
import { chunkSpan, splitRange } from '../../crypto/ranges.js'
import type { EncryptionRecord, ObjectKey } from '../../crypto/types.js'
import type { BlobId, PartRecord } from '../../storage/types.js'
import type { Services } from './context.js'
import type { SseRequest } from './sse-headers.js'

/** Creates a fresh object key for a new object or upload, sealed as the mode requires (design §4). */
export function newObjectKey(svc: Services, sse: SseRequest, bucket: string, key: string): { oek: ObjectKey; encryption: EncryptionRecord } {
  switch (sse.mode) {
    case 'SSE-S3': {
      const { oek, record } = sealForSseS3(svc.keyring, { bucket, key })
      return { oek, encryption: record }
    }
  }
}

/**
 * Opens the object key of a stored object or upload record found under `at` (its bucket and key:
 * a record moved elsewhere fails to open). Throws CryptoError on failure.
 */
export function openObjectKey(svc: Services, enc: EncryptionRecord, at: { bucket: string; key: string }): ObjectKey {
  switch (enc.mode) {
    case 'SSE-S3':
      return openSseS3(svc.keyring, enc, at)
    default:
      throw new Error(`encryption mode ${enc.mode} is not supported by this build`)
  }
}

export interface WrittenPart {
  blobId: BlobId
  salt: string
}

/**
 * Encrypts one part's plaintext under a fresh part salt and writes it as one durable blob. If the
 * body throws (a digest or signature fails at its end), no blob remains and the error propagates.
 */
export async function writePart(svc: Services, oek: ObjectKey, partNumber: number, body: AsyncIterable<Uint8Array>): Promise<WrittenPart> {
  const salt = newPartSalt()
  const pk = derivePartKey(oek, partNumber, salt)
  const blobId = svc.blobs.newId()
  await svc.blobs.write(blobId, encryptPart(pk)(body))
  return { blobId, salt: salt.toString('base64') }
}

function partKeyOf(oek: ObjectKey, part: PartRecord) {
  return derivePartKey(oek, part.partNumber, Buffer.from(part.salt, 'base64'))
}

/**
 * Plaintext bytes start..endInclusive of an object made of `parts` (or all of it when `range` is
 * omitted). Only the stored chunks that cover the range are read and decrypted; every chunk is
 * authenticated before any of its bytes is yielded.
 */
export async function* readPlaintext(svc: Services, oek: ObjectKey, parts: readonly PartRecord[], range?: { start: number; end: number }): AsyncGenerator<Buffer> {
  if (!range) {
    for (const part of parts) {
      yield* decryptPart(partKeyOf(oek, part), { plainSize: part.size })(svc.blobs.read(part.blobId))
    }
    return
  }
  const pieces = splitRange(parts.map((p) => p.size), range.start, range.end)
  for (const piece of pieces) {
    const part = parts[piece.partIndex]
    const span = chunkSpan(part.size, piece.start, piece.end)
    const stored = svc.blobs.read(part.blobId, { start: span.cipherStart, end: span.cipherEnd })
    yield* decryptPartRange(partKeyOf(oek, part), part.size, span)(stored)
  }
}

/** Deletes blobs no record references any more, after the commit that released them. */
export function deleteGarbage(svc: Services, ids: readonly BlobId[]): void {
  for (const id of ids) {
    svc.blobs.delete(id).catch((err: unknown) => svc.log.warn('could not delete an unreferenced blob', { blobId: id, err }))
  }
}
