/** @module SR1 chunked AES-256-GCM (crypto/README.md §5) as async-iterable transforms for stream.pipeline. */
import assert from 'node:assert/strict'
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto'
import { CryptoError } from './errors.js'
import { CHUNK_AAD, CHUNK_PLAIN, CHUNK_STORED, FINAL_FLAG, KEY_SIZE, NONCE_SIZE, TAG_SIZE } from './format.js'
import { chunkCount, chunkPlainSize, type ChunkSpan } from './ranges.js'
import type { PartKey } from './types.js'

export { ciphertextSize } from './ranges.js'

/**
 * A byte-stream transform in the shape `stream.pipeline` accepts between a source and a sink,
 * and that `Readable.from(transform(source))` turns back into a stream.
 */
export type ByteTransform = (source: AsyncIterable<Uint8Array>) => AsyncGenerator<Buffer, void, undefined>

/** Which stored chunks of a part a decryptPart source holds. */
export interface DecryptOptions {
  /** Plaintext size of the whole part, from its record; fixes the chunk count and final chunk. */
  plainSize: number
  /** Index of the first chunk in the source (it starts at firstChunk × 65552). Default 0. */
  firstChunk?: number
  /** Index of the last chunk in the source. Default: the part's final chunk. */
  lastChunk?: number
}

/**
 * Encrypts one part write into SR1: plaintext cut into 64 KiB chunks, chunk i sealed with
 * AES-256-GCM under `partKey`, nonce BE64(i) ‖ BE32(isFinal), AAD "SR1", and yielded as one
 * Buffer `ciphertext ‖ tag` per chunk. An empty part is one final chunk of 16 bytes; a part of an
 * exact multiple of 64 KiB ends with a full final chunk.
 *
 * @example await pipeline(req, encryptPart(pk), fs.createWriteStream(tmp))
 */
export function encryptPart(partKey: PartKey): ByteTransform {
  const key = toKeyObject(partKey)
  return async function* encryptChunks(source) {
    // Staging buffer for chunks assembled from small pieces. Reusing it is safe: sealChunk
    // copies its input into a fresh output Buffer before we overwrite it.
    const staging = Buffer.allocUnsafe(CHUNK_PLAIN)
    let fill = 0
    let index = 0
    for await (const piece of source) {
      assertBytes(piece)
      let offset = 0
      while (offset < piece.length) {
        // A full staged chunk is final only if nothing follows it; bytes follow, so seal it now.
        if (fill === CHUNK_PLAIN) {
          yield sealChunk(key, index++, false, staging)
          fill = 0
        }
        const remaining = piece.length - offset
        if (fill === 0 && remaining > CHUNK_PLAIN) {
          // Fast path: a whole chunk with more bytes after it in the same piece; no staging copy.
          yield sealChunk(key, index++, false, piece.subarray(offset, offset + CHUNK_PLAIN))
          offset += CHUNK_PLAIN
          continue
        }
        const take = Math.min(remaining, CHUNK_PLAIN - fill)
        staging.set(piece.subarray(offset, offset + take), fill)
        fill += take
        offset += take
      }
    }
    // The held-back chunk (possibly empty, possibly full) is the final one.
    yield sealChunk(key, index, true, staging.subarray(0, fill))
  }
}

/**
 * Decrypts stored SR1 chunks firstChunk..lastChunk of a part of `plainSize` plaintext bytes.
 * The source must be exactly the stored bytes [firstChunk × 65552, end of lastChunk) (see
 * chunkSpan). Yields one plaintext Buffer per chunk, each only after its tag verified.
 * Throws CryptoError('tampered') on a failed tag (flipped bytes, reordered or spliced chunks,
 * wrong final flag), when the source ends before lastChunk is complete, or when bytes follow it.
 */
export function decryptPart(partKey: PartKey, opts: DecryptOptions): ByteTransform {
  const key = toKeyObject(partKey)
  const count = chunkCount(opts.plainSize)
  const first = opts.firstChunk ?? 0
  const last = opts.lastChunk ?? count - 1
  // Precondition: the chunks asked for exist in the part.
  assert(
    Number.isInteger(first) && Number.isInteger(last) && 0 <= first && first <= last && last < count,
    'Precondition: 0 <= firstChunk <= lastChunk < chunkCount(plainSize)',
  )
  const storedSize = (index: number): number => chunkPlainSize(opts.plainSize, index) + TAG_SIZE
  return async function* decryptChunks(source) {
    const staging = Buffer.allocUnsafe(CHUNK_STORED)
    let fill = 0
    let index = first
    let want = storedSize(index)
    for await (const piece of source) {
      assertBytes(piece)
      let offset = 0
      while (offset < piece.length) {
        if (index > last) throw tampered(`stored bytes follow chunk ${last}`)
        let stored: Uint8Array
        if (fill === 0 && piece.length - offset >= want) {
          // Fast path: the whole stored chunk is inside this piece; no staging copy.
          stored = piece.subarray(offset, offset + want)
          offset += want
        } else {
          const take = Math.min(piece.length - offset, want - fill)
          staging.set(piece.subarray(offset, offset + take), fill)
          fill += take
          offset += take
          if (fill < want) continue
          stored = staging.subarray(0, want)
          fill = 0
        }
        yield openChunk(key, index, index === count - 1, stored)
        index++
        if (index <= last) want = storedSize(index)
      }
    }
    if (index <= last) {
      throw tampered(fill > 0 ? `stored data ends inside chunk ${index}` : `stored data ends before chunk ${index}`)
    }
  }
}

/**
 * Decrypts a plaintext range of a part: the source is the stored bytes [span.cipherStart,
 * span.cipherEnd) and the output is exactly the `span.length` plaintext bytes of the range.
 * Same verification and errors as decryptPart.
 *
 * @example const span = chunkSpan(size, start, end)
 *   // BlobStore ranges are [start, end), like cipherEnd.
 *   await pipeline(blobs.read(id, { start: span.cipherStart, end: span.cipherEnd }),
 *     decryptPartRange(pk, size, span), res)
 */
export function decryptPartRange(partKey: PartKey, plainSize: number, span: ChunkSpan): ByteTransform {
  const decrypt = decryptPart(partKey, { plainSize, firstChunk: span.firstChunk, lastChunk: span.lastChunk })
  return async function* decryptRange(source) {
    let skip = span.skip
    let left = span.length
    for await (const plain of decrypt(source)) {
      const from = Math.min(skip, plain.length)
      skip -= from
      const take = Math.min(left, plain.length - from)
      left -= take
      if (take > 0) yield plain.subarray(from, from + take)
    }
  }
}

/** Seals chunk `index` of a part; returns a fresh Buffer `ciphertext ‖ tag`. */
function sealChunk(key: KeyObject, index: number, isFinal: boolean, plain: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, chunkNonce(index, isFinal), { authTagLength: TAG_SIZE })
  cipher.setAAD(CHUNK_AAD)
  const body = cipher.update(plain)
  cipher.final() // GCM is a stream mode: final() emits no bytes, it computes the tag.
  const stored = Buffer.allocUnsafe(body.length + TAG_SIZE)
  body.copy(stored, 0)
  cipher.getAuthTag().copy(stored, body.length)
  return stored
}

/** Opens stored chunk `index`; returns its plaintext only after the tag verified. */
function openChunk(key: KeyObject, index: number, isFinal: boolean, stored: Uint8Array): Buffer {
  const bodyLength = stored.length - TAG_SIZE
  const decipher = createDecipheriv('aes-256-gcm', key, chunkNonce(index, isFinal), { authTagLength: TAG_SIZE })
  decipher.setAAD(CHUNK_AAD)
  decipher.setAuthTag(stored.subarray(bodyLength))
  const plain = decipher.update(stored.subarray(0, bodyLength))
  try {
    decipher.final()
  } catch {
    plain.fill(0) // unverified plaintext never leaves this function
    throw tampered(`chunk ${index} failed authentication`)
  }
  return plain
}

/** Nonce of chunk `index`: BE64(index) ‖ BE32(isFinal ? 1 : 0). Unique per part key. */
function chunkNonce(index: number, isFinal: boolean): Buffer {
  const nonce = Buffer.allocUnsafe(NONCE_SIZE)
  nonce.writeUInt32BE(Math.floor(index / 0x1_0000_0000), 0)
  nonce.writeUInt32BE(index >>> 0, 4)
  nonce.writeUInt32BE(isFinal ? FINAL_FLAG : 0, 8)
  return nonce
}

function toKeyObject(partKey: PartKey): KeyObject {
  assert(partKey.length === KEY_SIZE, 'Precondition: the part key is 32 bytes')
  return createSecretKey(partKey)
}

function assertBytes(piece: unknown): asserts piece is Uint8Array {
  // Precondition: the source yields bytes (a Readable with an encoding set would yield strings).
  if (!(piece instanceof Uint8Array)) throw new TypeError('SR1 transforms take Uint8Array chunks')
}

function tampered(detail: string): CryptoError {
  return new CryptoError('tampered', `SR1 ciphertext failed verification: ${detail}`)
}
