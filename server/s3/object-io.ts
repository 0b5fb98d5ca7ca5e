/**
 * @module Where the crypto layer meets the storage layer for object data: creating and opening
 * object keys per mode, writing one encrypted part blob, and reading plaintext ranges back.
 * No HTTP here beyond the typed SseRequest; handlers call these.
 */
import { decryptPart, decryptPartRange, encryptPart } from '../../crypto/aead-stream.js'
import { derivePartKey, newPartSalt } from '../../crypto/keys.js'
import { randomBytes } from 'node:crypto'
import { CryptoError } from '../../crypto/errors.js'
import { openSseC, resealForSseC, sealForSseC } from '../../crypto/modes/sse-c.js'
import { openSseKms, sealForSseKms } from '../../crypto/modes/sse-kms.js'
import { openSseS3, sealForSseS3 } from '../../crypto/modes/sse-s3.js'
import { chunkSpan, ciphertextSize, splitRange } from '../../crypto/ranges.js'
import type { EncryptionRecord, ObjectKey } from '../../crypto/types.js'
import type { BlobId, PartRecord } from '../../storage/types.js'
import type { Services } from './context.js'
import { S3Error } from './errors.js'
import { kmsContext, type CustomerKey, type SseRequest } from './sse-headers.js'

function dataKeys(svc: Services) {
  if (!svc.dataKeys) throw new S3Error('ServiceUnavailable', { message: 'No KMS is configured for SSE-KMS.' })
  return svc.dataKeys
}

/**
 * Creates a fresh object key for a new object or upload, sealed as the mode requires (design §4).
 * SSE-KMS asks the KMS for a data key (or reuses the bucket key).
 */
export async function newObjectKey(svc: Services, sse: SseRequest, bucket: string, key: string): Promise<{ oek: ObjectKey; encryption: EncryptionRecord }> {
  const target = { bucket, key }
  switch (sse.mode) {
    case 'SSE-S3': {
      const { oek, record } = sealForSseS3(svc.keyring, target)
      return { oek, encryption: record }
    }
    case 'SSE-C': {
      const { oek, record } = sealForSseC(sse.customer.key, target)
      return { oek, encryption: record }
    }
    case 'SSE-KMS': {
      const context = kmsContext(sse, bucket, key)
      const { dataKey, record: kms } = await dataKeys(svc).forWrite({ ...sse, context, bucket })
      try {
        const { oek, record } = sealForSseKms(dataKey, kms, svc.keyring, target)
        return { oek, encryption: record }
      } finally {
        dataKey.fill(0)
      }
    }
  }
}

/**
 * Opens the object key of a stored object or upload record found under `at` (its bucket and key:
 * a record moved elsewhere fails to open). SSE-C needs the customer key the request presented;
 * SSE-KMS calls KMS Decrypt. Throws CryptoError (wrong key, tampered) or the KMS's error.
 */
export async function openObjectKey(svc: Services, enc: EncryptionRecord, at: { bucket: string; key: string }, customer?: CustomerKey): Promise<ObjectKey> {
  switch (enc.mode) {
    case 'SSE-S3':
      return openSseS3(svc.keyring, enc, at)
    case 'SSE-C':
      // A key of the wrong length is simply not the key (contract §4.8, SSEC-14): 403.
      if (!customer || customer.key.length !== 32) throw new CryptoError('wrong-key')
      return openSseC(customer.key, enc, at)
    case 'SSE-KMS': {
      if (!enc.kms) throw new CryptoError('tampered', 'SSE-KMS record without KMS details')
      const dataKey = await dataKeys(svc).forRead(enc.kms)
      try {
        return openSseKms(dataKey, enc, svc.keyring, at)
      } finally {
        dataKey.fill(0)
      }
    }
  }
}

/** In-place SSE-C key rotation: the same object key sealed under another customer key (§4.11). */
export function resealSseC(oek: ObjectKey, customer: CustomerKey, bucket: string, key: string): EncryptionRecord {
  return resealForSseC(customer.key, { bucket, key }, oek)
}

/**
 * The ETag of a single-part write (contract §3.17): the plaintext MD5 for SSE-S3; for SSE-KMS and
 * SSE-C 16 random bytes, so the ETag reveals nothing of the plaintext and differs between writes.
 */
export function etagFor(enc: EncryptionRecord, md5: Buffer | string): string {
  if (enc.mode === 'SSE-S3') return typeof md5 === 'string' ? md5 : md5.toString('hex')
  return randomBytes(16).toString('hex')
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
      // The stored size follows from the plaintext size: no need to stat the blob.
      const stored = svc.blobs.read(part.blobId, { start: 0, end: ciphertextSize(part.size) })
      yield* decryptPart(partKeyOf(oek, part), { plainSize: part.size })(stored)
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
