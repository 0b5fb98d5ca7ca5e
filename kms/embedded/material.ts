/**
 * @module KMS key material sealed by the root keyring (crypto/README.md §9, M1–M4): AES-256-GCM
 * under a KEK derived by HMAC from a root key, bound to the KMS key id and material version.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'
import { CryptoError } from '../../crypto/errors.js'
import type { RootKeySource } from '../../crypto/keyring.js'
import { KMS_NONCE_SIZE, KMS_TAG_SIZE, MATERIAL_LABEL, MATERIAL_SEAL_IV_SIZE, MATERIAL_SIZE } from './format.js'

/** One version of a key's material as stored (binary fields base64). Not secret. */
export interface SealedMaterial {
  /** 1 for the material made at CreateKey, +1 per rotation. */
  version: number
  /** Root keyring version whose key sealed it. */
  rootKeyVersion: number
  /** Epoch ms the material was made. */
  createdAt: number
  sealIV: string
  nonce: string
  /** AES-GCM ciphertext of the 32-byte material followed by the tag (48 bytes). */
  ciphertext: string
}

const NUL = Buffer.of(0)
const LABEL = Buffer.from(MATERIAL_LABEL, 'utf8')

/** M2: KEK = HMAC(rootKey, label ‖ UTF8(keyId) ‖ 0x00 ‖ BE32(version) ‖ sealIV). keyId never contains 0x00. */
function deriveMaterialKek(rootKey: Uint8Array, keyId: string, version: number, sealIV: Uint8Array): Buffer {
  const be32 = Buffer.alloc(4)
  be32.writeUInt32BE(version)
  return createHmac('sha256', rootKey)
    .update(LABEL)
    .update(keyId, 'utf8')
    .update(NUL)
    .update(be32)
    .update(sealIV)
    .digest()
}

/** M1–M3: fresh random material for (keyId, version), sealed under the keyring's active root key. */
export function newSealedMaterial(keyring: RootKeySource, keyId: string, version: number, now: number): SealedMaterial {
  const material = randomBytes(MATERIAL_SIZE)
  try {
    return sealMaterial(keyring, keyId, version, material, now)
  } finally {
    material.fill(0)
  }
}

/** Seals given material (exported for tests and re-sealing under a newer root key). */
export function sealMaterial(
  keyring: RootKeySource,
  keyId: string,
  version: number,
  material: Uint8Array,
  now: number,
): SealedMaterial {
  const root = keyring.active()
  const sealIV = randomBytes(MATERIAL_SEAL_IV_SIZE)
  const nonce = randomBytes(KMS_NONCE_SIZE)
  const kek = deriveMaterialKek(root.key, keyId, version, sealIV)
  root.key.fill(0)
  try {
    const cipher = createCipheriv('aes-256-gcm', kek, nonce, { authTagLength: KMS_TAG_SIZE })
    cipher.setAAD(LABEL)
    const body = Buffer.concat([cipher.update(material), cipher.final(), cipher.getAuthTag()])
    return {
      version,
      rootKeyVersion: root.version,
      createdAt: now,
      sealIV: sealIV.toString('base64'),
      nonce: nonce.toString('base64'),
      ciphertext: body.toString('base64'),
    }
  } finally {
    kek.fill(0)
  }
}

/**
 * M4: opens sealed material of `keyId`. Throws CryptoError('missing-root-key') if the keyring
 * lacks the sealing root key, CryptoError('tampered') if the record does not open (moved to
 * another key or version, damaged).
 */
export function openMaterial(keyring: RootKeySource, keyId: string, sealed: SealedMaterial): Buffer {
  const sealIV = Buffer.from(sealed.sealIV, 'base64')
  const nonce = Buffer.from(sealed.nonce, 'base64')
  const body = Buffer.from(sealed.ciphertext, 'base64')
  if (
    sealIV.length !== MATERIAL_SEAL_IV_SIZE ||
    nonce.length !== KMS_NONCE_SIZE ||
    body.length !== MATERIAL_SIZE + KMS_TAG_SIZE
  ) {
    throw new CryptoError('tampered', `sealed key material version ${sealed.version} has fields of the wrong size`)
  }
  const rootKey = keyring.get(sealed.rootKeyVersion)
  const kek = deriveMaterialKek(rootKey, keyId, sealed.version, sealIV)
  rootKey.fill(0)
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, nonce, { authTagLength: KMS_TAG_SIZE })
    decipher.setAAD(LABEL)
    decipher.setAuthTag(body.subarray(MATERIAL_SIZE))
    const material = decipher.update(body.subarray(0, MATERIAL_SIZE))
    decipher.final()
    return material
  } catch {
    throw new CryptoError(
      'tampered',
      `sealed key material version ${sealed.version} does not open: damaged, moved, or sealed under another root key`,
    )
  } finally {
    kek.fill(0)
  }
}
