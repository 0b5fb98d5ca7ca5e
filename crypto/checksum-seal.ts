/**
 * @module Sealed checksums (crypto/README.md §10): a digest of an object's plaintext kept only
 * under a key derived from the object key, bound to the object's place and to the slot it fills.
 */
import assert from 'node:assert/strict'
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'
import { CryptoError } from './errors.js'
import { CHECKSUM_LABEL, KEY_SIZE, NONCE_SIZE, TAG_SIZE } from './format.js'
import type { ObjectKey } from './types.js'

/** Where a checksum belongs: the object, its algorithm, and slot 0 (whole object) or a part number. */
export interface ChecksumPlace {
  bucket: string
  key: string
  /** The algorithm name as stored (`CRC64NVME`, `SHA256`, …). */
  algorithm: string
  /** 0 for the whole object's checksum, n for part n (1..10000). */
  slot: number
}

const NUL = Buffer.of(0)
/** Lone UTF-16 surrogates have no UTF-8 encoding, so two such keys could encode alike. */
const LONE_SURROGATE = /\p{Cs}/u
const MAX_SLOT = 10_000

/** CK = HMAC-SHA256(OEK, "strongroom/checksum/v1") (step K1). */
function checksumKey(oek: ObjectKey): Buffer {
  assert(oek.length === KEY_SIZE, 'Precondition: the object key is 32 bytes')
  return createHmac('sha256', oek).update(CHECKSUM_LABEL, 'utf8').digest()
}

/**
 * AAD = "strongroom/checksum/v1" ‖ BE32(slot) ‖ algorithm ‖ 0x00 ‖ bucket ‖ 0x00 ‖ key (step K2).
 * Exported for the test vectors. Throws AssertionError when the place breaks a precondition.
 */
export function checksumAad(place: ChecksumPlace): Buffer {
  // Precondition: the slot is 0 (whole object) or a part number, so BE32 holds it.
  assert(
    Number.isInteger(place.slot) && place.slot >= 0 && place.slot <= MAX_SLOT,
    'Precondition: the slot is 0..10000',
  )
  // Precondition: algorithm and bucket contain no NUL and the key is last, so the encoding is
  // unambiguous even if the key contains NUL; the key is well-formed Unicode (one UTF-8 form).
  assert(
    place.algorithm.length > 0 && !place.algorithm.includes('\0'),
    'Precondition: the algorithm is non-empty and contains no NUL',
  )
  assert(!place.bucket.includes('\0'), 'Precondition: the bucket name contains no NUL')
  assert(!LONE_SURROGATE.test(place.key), 'Precondition: the object key is well-formed Unicode')
  const slot = Buffer.allocUnsafe(4)
  slot.writeUInt32BE(place.slot, 0)
  return Buffer.concat([
    Buffer.from(CHECKSUM_LABEL, 'utf8'),
    slot,
    Buffer.from(place.algorithm, 'utf8'),
    NUL,
    Buffer.from(place.bucket, 'utf8'),
    NUL,
    Buffer.from(place.key, 'utf8'),
  ])
}

/**
 * Seals a checksum value (the string S3 answers, e.g. base64 `AAAAAA==` or a COMPOSITE `…-3`)
 * under the object key: base64(nonce ‖ AES-256-GCM(CK, nonce, UTF8(value), AAD)) (step K3).
 * with a fresh random nonce. The result is storable; it opens only with the same object key,
 * place and slot.
 */
export function sealChecksum(oek: ObjectKey, place: ChecksumPlace, value: string): string {
  const nonce = randomBytes(NONCE_SIZE)
  const aad = checksumAad(place)
  const ck = checksumKey(oek)
  try {
    const cipher = createCipheriv('aes-256-gcm', ck, nonce, { authTagLength: TAG_SIZE })
    cipher.setAAD(aad)
    const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()])
    return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64')
  } finally {
    ck.fill(0)
  }
}

/**
 * Opens a sealed checksum with the object key and the place it was read from (step K4).
 * Throws CryptoError('tampered') if it is malformed or does not authenticate: the object key is
 * already proven by its own seal, so a failure here means the record was changed or moved.
 */
export function openChecksum(oek: ObjectKey, place: ChecksumPlace, sealed: string): string {
  const bytes = typeof sealed === 'string' ? Buffer.from(sealed, 'base64') : Buffer.alloc(0)
  if (bytes.length < NONCE_SIZE + TAG_SIZE) throw new CryptoError('tampered', 'sealed checksum is too short')
  const aad = checksumAad(place)
  const ck = checksumKey(oek)
  try {
    const decipher = createDecipheriv('aes-256-gcm', ck, bytes.subarray(0, NONCE_SIZE), { authTagLength: TAG_SIZE })
    decipher.setAAD(aad)
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_SIZE))
    const plain = Buffer.concat([
      decipher.update(bytes.subarray(NONCE_SIZE, bytes.length - TAG_SIZE)),
      decipher.final(),
    ])
    return plain.toString('utf8')
  } catch {
    throw new CryptoError(
      'tampered',
      `the sealed checksum of slot ${place.slot} does not open: changed, or moved from another object or slot`,
    )
  } finally {
    ck.fill(0)
  }
}
