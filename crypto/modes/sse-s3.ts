/** @module SSE-S3: object keys sealed under the root keyring's active key (crypto/README.md §7). */
import { CryptoError } from '../errors.js'
import type { RootKeySource } from '../keyring.js'
import { generateObjectKey, sealObjectKey, unsealObjectKey, type ObjectLocation } from '../keys.js'
import { formatOf, readBinding, upgradedBinding, writeBinding, type SealTarget } from '../record.js'
import type { EncryptionRecord, ObjectKey, SseS3Record } from '../types.js'

/**
 * Creates a fresh object key for a write to `target` and seals it under the keyring's active
 * root key. Store `record` with the object (or the multipart upload); keep `oek` in memory only.
 */
export function sealForSseS3(keyring: RootKeySource, target: SealTarget): { oek: ObjectKey; record: SseS3Record } {
  const binding = writeBinding('SSE-S3', target)
  const root = keyring.active()
  const oek = generateObjectKey()
  const sealed = sealObjectKey(root.key, binding, oek)
  root.key.fill(0) // our copy of the root key; the keyring keeps its own
  return { oek, record: { format: formatOf(binding), mode: 'SSE-S3', binding, sealed, rootKeyVersion: root.version } }
}

/** The root key version of an SSE-S3 record as read from storage (checked: the bytes may be damaged). */
function rootVersionOf(record: EncryptionRecord): number {
  if (record.mode !== 'SSE-S3' || !Number.isSafeInteger(record.rootKeyVersion)) {
    throw new CryptoError('tampered', 'SSE-S3 encryption record has no root key version')
  }
  return record.rootKeyVersion
}

/**
 * Opens the object key of an SSE-S3 `record` read from `at` (the bucket and key the record was
 * found under, not the ones it names: a record moved elsewhere must fail). Throws
 * CryptoError('unsupported-format') for a format other than SR1, ('missing-root-key') if the
 * keyring lacks the record's root key version, ('tampered') if the record is damaged or moved.
 */
export function openSseS3(keyring: RootKeySource, record: EncryptionRecord, at: ObjectLocation): ObjectKey {
  const binding = readBinding('SSE-S3', record, at)
  const rootKey = keyring.get(rootVersionOf(record))
  try {
    return unsealObjectKey(rootKey, binding, record.sealed)
  } finally {
    rootKey.fill(0) // our copy of the root key; the keyring keeps its own
  }
}

/**
 * Key rewrap: the object key of `record` (read from `at`) sealed again under the keyring's active
 * root key, with the same generation, a fresh sealIV and nonce. With `upgrade` an SR1 record is
 * sealed as SR2, to `at.versionId` (the caller adds the placement tag). The data is untouched:
 * its part keys derive from the same object key.
 */
export function resealSseS3(
  keyring: RootKeySource,
  record: EncryptionRecord,
  at: ObjectLocation,
  upgrade = false,
): SseS3Record {
  if (record.mode !== 'SSE-S3') throw new CryptoError('tampered', 'not an SSE-S3 encryption record')
  const oek = openSseS3(keyring, record, at)
  const root = keyring.active()
  try {
    const binding = upgradedBinding(readBinding('SSE-S3', record, at), at, upgrade)
    return {
      ...record,
      format: formatOf(binding),
      binding: { ...record.binding, ...binding },
      sealed: sealObjectKey(root.key, binding, oek),
      rootKeyVersion: root.version,
    }
  } finally {
    root.key.fill(0)
    oek.fill(0)
  }
}
