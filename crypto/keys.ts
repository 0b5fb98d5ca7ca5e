/** @module Object keys (crypto/README.md §1): generate, seal under an external key, unseal; derive part keys (§4). */
import assert from 'node:assert/strict'
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'
import { CryptoError } from './errors.js'
import {
  KEY_SIZE,
  NONCE_SIZE,
  PART_LABEL,
  PART_SALT_SIZE,
  SEAL_IV_SIZE,
  SEAL_LABEL,
  SEAL_LABEL_V2,
  TAG_SIZE,
  VERSION_ID_LENGTH,
} from './format.js'
import type { ObjectKey, PartKey, SealBinding, SealedKey, SseMode } from './types.js'

/** Where an object lives; the mode and a fresh generation complete it into a SealBinding. */
export interface ObjectLocation {
  bucket: string
  key: string
  /** The version (SR2 binds it): where the record was found, never a field of the record. */
  versionId?: string
}

const SSE_MODES: ReadonlySet<SseMode> = new Set<SseMode>(['SSE-S3', 'SSE-KMS', 'SSE-C'])
const NUL = Buffer.of(0)
/** Lone UTF-16 surrogates: they have no UTF-8 encoding, so two such keys could encode alike. */
const LONE_SURROGATE = /\p{Cs}/u
/** S3 part numbers are 1..10000 (a single PUT is part 1). */
const MAX_PART_NUMBER = 10_000

/** A fresh random 256-bit object key. */
export function generateObjectKey(): ObjectKey {
  return randomBytes(KEY_SIZE) as ObjectKey
}

/** A fresh random write id for SealBinding.generation: 16 random bytes, base64url (22 chars). */
export function newGeneration(): string {
  return randomBytes(16).toString('base64url')
}

/** A fresh random 32-byte part salt; store it (base64) in the part record. */
export function newPartSalt(): Buffer {
  return randomBytes(PART_SALT_SIZE)
}

/**
 * KEK = HMAC-SHA256(EK, "strongroom/seal/v1" ‖ mode ‖ 0x00 ‖ bucket ‖ 0x00 ‖ key ‖ 0x00 ‖
 * generation ‖ sealIV), every string as UTF-8 (crypto/README.md step S2); with a version id in
 * the binding (SR2, crypto/README.md §11) "strongroom/seal/v2" and `versionId ‖ 0x00` before generation.
 *
 * Exported for test vectors and offline verification; callers seal with sealObjectKey.
 * Throws AssertionError when the binding breaks a precondition (the encoding would be ambiguous).
 */
export function deriveKek(ek: Uint8Array, binding: SealBinding, sealIV: Uint8Array): Buffer {
  // Precondition: keys are 256-bit.
  assert(ek.length === KEY_SIZE, 'Precondition: the external key is 32 bytes')
  // Precondition: sealIV is 32 bytes, so as the last field it needs no delimiter.
  assert(sealIV.length === SEAL_IV_SIZE, 'Precondition: sealIV is 32 bytes')
  // Precondition: mode, bucket and generation contain no 0x00 byte, so the 0x00 delimiters parse
  // uniquely even if the object key contains 0x00 (it is the only field between two of them).
  assert(SSE_MODES.has(binding.mode), 'Precondition: binding.mode is a known SSE mode')
  assert(!binding.bucket.includes('\0'), 'Precondition: the bucket name contains no NUL')
  assert(
    binding.generation.length > 0 && !binding.generation.includes('\0'),
    'Precondition: the generation is non-empty and contains no NUL',
  )
  // Precondition: the key is well-formed Unicode, so its UTF-8 encoding is one-to-one.
  assert(!LONE_SURROGATE.test(binding.key), 'Precondition: the object key is well-formed Unicode')
  const versionId = binding.versionId
  const v2 = versionId !== undefined
  // Precondition (SR2): the version id has a fixed length and no NUL, so it needs no delimiter.
  if (v2)
    assert(
      /^[0-9a-f]+$/.test(versionId) && versionId.length === VERSION_ID_LENGTH,
      'Precondition: the version id is 32 lowercase hex digits',
    )
  const h = createHmac('sha256', ek)
    .update(v2 ? SEAL_LABEL_V2 : SEAL_LABEL, 'utf8')
    .update(binding.mode, 'utf8')
    .update(NUL)
    .update(binding.bucket, 'utf8')
    .update(NUL)
    .update(binding.key, 'utf8')
    .update(NUL)
  if (v2) h.update(versionId, 'ascii').update(NUL)
  return h.update(binding.generation, 'utf8').update(sealIV).digest()
}

/**
 * Seals an object key under the external key `ek` (root key, KMS data key or SSE-C customer
 * key), bound to `binding`: sealedOEK = AES-256-GCM(KEK, random 96-bit nonce, OEK), no AAD.
 * The result is storable; opening it anywhere else (other mode, bucket, key, generation) fails.
 */
export function sealObjectKey(ek: Uint8Array, binding: SealBinding, oek: ObjectKey): SealedKey {
  assert(oek.length === KEY_SIZE, 'Precondition: the object key is 32 bytes')
  const sealIV = randomBytes(SEAL_IV_SIZE)
  const nonce = randomBytes(NONCE_SIZE)
  const kek = deriveKek(ek, binding, sealIV)
  const cipher = createCipheriv('aes-256-gcm', kek, nonce, { authTagLength: TAG_SIZE })
  const body = cipher.update(oek)
  cipher.final()
  kek.fill(0)
  return {
    sealIV: sealIV.toString('base64'),
    nonce: nonce.toString('base64'),
    ciphertext: Buffer.concat([body, cipher.getAuthTag()]).toString('base64'),
  }
}

/**
 * Opens a sealed object key with the external key `ek` and the binding of the place it is read
 * from. Throws CryptoError('wrong-key') if it does not open and binding.mode is SSE-C (the
 * customer presented another key), CryptoError('tampered') if it does not open otherwise or if
 * the stored fields have the wrong sizes.
 */
export function unsealObjectKey(ek: Uint8Array, binding: SealBinding, sealed: SealedKey): ObjectKey {
  const sealIV = decodeField(sealed.sealIV, SEAL_IV_SIZE, 'sealIV')
  const nonce = decodeField(sealed.nonce, NONCE_SIZE, 'nonce')
  const ciphertext = decodeField(sealed.ciphertext, KEY_SIZE + TAG_SIZE, 'ciphertext')
  const kek = deriveKek(ek, binding, sealIV)
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, nonce, { authTagLength: TAG_SIZE })
    decipher.setAuthTag(ciphertext.subarray(KEY_SIZE))
    const oek = decipher.update(ciphertext.subarray(0, KEY_SIZE))
    decipher.final()
    return oek as ObjectKey
  } catch {
    // No cause attached: OpenSSL's "unable to authenticate data" adds nothing.
    if (binding.mode === 'SSE-C') {
      throw new CryptoError('wrong-key', 'the sealed object key does not open with the presented customer key')
    }
    throw new CryptoError(
      'tampered',
      `the sealed key of an ${binding.mode} object does not open: corrupted, moved, or sealed under another key`,
    )
  } finally {
    kek.fill(0)
  }
}

/**
 * Part key of one part write: PK = HMAC-SHA256(OEK, "strongroom/part/v1" ‖ BE32(partNumber) ‖
 * partSalt). Throws AssertionError unless partNumber is 1..10000 and salt is 32 bytes.
 */
export function derivePartKey(oek: ObjectKey, partNumber: number, salt: Uint8Array): PartKey {
  assert(oek.length === KEY_SIZE, 'Precondition: the object key is 32 bytes')
  // Precondition: part numbers are 1..10000 (a single PUT is part 1).
  assert(
    Number.isInteger(partNumber) && partNumber >= 1 && partNumber <= MAX_PART_NUMBER,
    'Precondition: part numbers are 1..10000',
  )
  assert(salt.length === PART_SALT_SIZE, 'Precondition: the part salt is 32 bytes')
  const be32 = Buffer.allocUnsafe(4)
  be32.writeUInt32BE(partNumber, 0)
  return createHmac('sha256', oek).update(PART_LABEL, 'utf8').update(be32).update(salt).digest() as PartKey
}

/** Decodes a base64 field of a stored sealed key; a wrong size means the record is damaged. */
function decodeField(value: string, size: number, name: string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'base64') : Buffer.alloc(0)
  if (bytes.length !== size) {
    throw new CryptoError('tampered', `sealed key field ${name} is not ${size} bytes`)
  }
  return bytes
}
