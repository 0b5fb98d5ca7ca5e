/**
 * @module SSE-KMS and DSSE-KMS: object keys sealed under a KMS data key (crypto/README.md §1). DSSE-KMS adds
 * a store-managed layer: its external key combines the KMS data key with the active root key,
 * so opening the object key needs both the KMS and the root keyring.
 */
import { createHmac } from 'node:crypto'
import assert from 'node:assert/strict'
import { KEY_SIZE } from '../format.js'
import type { RootKeySource } from '../keyring.js'
import { generateObjectKey, sealObjectKey, unsealObjectKey, type ObjectLocation } from '../keys.js'
import { formatOf, readBinding, upgradedBinding, writeBinding, type SealTarget } from '../record.js'
import type { EncryptionRecord, KmsKeyRecord, ObjectKey, SseKmsRecord } from '../types.js'

/** Label of the DSSE-KMS key combination; existing data depends on it: never change it. */
const DSSE_LABEL = 'strongroom/dsse/v1'

/** The external key: the data key, or for DSSE HMAC-SHA256(root key, label ‖ data key). */
function externalKey(
  dataKey: Uint8Array,
  kms: KmsKeyRecord,
  keyring: RootKeySource,
  rootVersion: number | undefined,
): Buffer {
  assert(dataKey.length === KEY_SIZE, 'Precondition: the KMS data key is 256 bits')
  if (!kms.dsse) return Buffer.from(dataKey)
  assert(rootVersion !== undefined, 'Precondition: a DSSE-KMS record names its root key version')
  return createHmac('sha256', keyring.get(rootVersion)).update(DSSE_LABEL).update(dataKey).digest()
}

/**
 * Creates a fresh object key for a write to `target` sealed under the KMS data key `dataKey`
 * (the Plaintext of GenerateDataKey); `kms` is what is stored to get the data key back.
 */
export function sealForSseKms(
  dataKey: Uint8Array,
  kms: KmsKeyRecord,
  keyring: RootKeySource,
  target: SealTarget,
): { oek: ObjectKey; record: SseKmsRecord } {
  const binding = writeBinding('SSE-KMS', target)
  const rootKeyVersion = kms.dsse ? keyring.active().version : undefined
  const ek = externalKey(dataKey, kms, keyring, rootKeyVersion)
  const oek = generateObjectKey()
  const sealed = sealObjectKey(ek, binding, oek)
  ek.fill(0)
  return { oek, record: { format: formatOf(binding), mode: 'SSE-KMS', binding, sealed, kms, rootKeyVersion } }
}

/** Opens the object key of an SSE-KMS record read from `at`, given the decrypted data key. */
export function openSseKms(
  dataKey: Uint8Array,
  record: EncryptionRecord,
  keyring: RootKeySource,
  at: ObjectLocation,
): ObjectKey {
  assert(record.mode === 'SSE-KMS' && record.kms, 'Precondition: an SSE-KMS record carries its KMS details')
  const ek = externalKey(dataKey, record.kms, keyring, record.rootKeyVersion)
  try {
    return unsealObjectKey(ek, readBinding('SSE-KMS', record, at), record.sealed)
  } finally {
    ek.fill(0)
  }
}

/**
 * Key rewrap of an SSE-KMS record: the object key sealed again under the same KMS data key (for
 * DSSE-KMS combined with the keyring's active root key), same generation, fresh sealIV and nonce.
 * With `upgrade` an SR1 record is sealed as SR2, to `at.versionId`.
 */
export function resealSseKms(
  dataKey: Uint8Array,
  record: EncryptionRecord,
  keyring: RootKeySource,
  at: ObjectLocation,
  upgrade = false,
): SseKmsRecord {
  assert(record.mode === 'SSE-KMS' && record.kms, 'Precondition: an SSE-KMS record')
  const oek = openSseKms(dataKey, record, keyring, at)
  const rootKeyVersion = record.kms.dsse ? keyring.active().version : undefined
  const ek = externalKey(dataKey, record.kms, keyring, rootKeyVersion)
  try {
    const binding = upgradedBinding(readBinding('SSE-KMS', record, at), at, upgrade)
    return {
      ...record,
      format: formatOf(binding),
      binding: { ...record.binding, ...binding },
      sealed: sealObjectKey(ek, binding, oek),
      rootKeyVersion,
    }
  } finally {
    ek.fill(0)
    oek.fill(0)
  }
}
