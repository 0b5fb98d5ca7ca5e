/** @module SSE-C: object keys sealed under the customer's key, which is never stored (crypto/README.md §1). */
import assert from 'node:assert/strict'
import { KEY_SIZE } from '../format.js'
import { generateObjectKey, sealObjectKey, unsealObjectKey, type ObjectLocation } from '../keys.js'
import { formatOf, readBinding, writeBinding, type SealTarget } from '../record.js'
import type { EncryptionRecord, ObjectKey, SseCRecord } from '../types.js'

/**
 * Creates a fresh object key for a write to `target` and seals it under `customerKey` (the
 * 32-byte key from the request, already base64-decoded and MD5-checked). Nothing derived from
 * the customer key alone is stored: a wrong key shows as the seal failing to open.
 */
export function sealForSseC(customerKey: Uint8Array, target: SealTarget): { oek: ObjectKey; record: SseCRecord } {
  // Precondition: SSE-C keys are 256-bit (the server checks this before calling).
  assert(customerKey.length === KEY_SIZE, 'Precondition: the SSE-C customer key is 32 bytes')
  const binding = writeBinding('SSE-C', target)
  const oek = generateObjectKey()
  return {
    oek,
    record: { format: formatOf(binding), mode: 'SSE-C', binding, sealed: sealObjectKey(customerKey, binding, oek) },
  }
}

/**
 * Opens the object key of an SSE-C `record` read from `at` with the presented customer key.
 * Throws CryptoError('wrong-key') if it does not open (wrong key, or the record was moved),
 * ('unsupported-format') for a format other than SR1, ('tampered') for malformed fields.
 */
export function openSseC(customerKey: Uint8Array, record: EncryptionRecord, at: ObjectLocation): ObjectKey {
  assert(customerKey.length === KEY_SIZE, 'Precondition: the SSE-C customer key is 32 bytes')
  return unsealObjectKey(customerKey, readBinding('SSE-C', record, at), record.sealed)
}
