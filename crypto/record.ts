/** @module EncryptionRecord helpers shared by the modes: check the format, build bindings. */
import { CryptoError } from './errors.js'
import { FORMAT, FORMAT_V2 } from './format.js'
import { newGeneration, type ObjectLocation } from './keys.js'
import type { EncryptionRecord, SealBinding, SseMode } from './types.js'

/** Where a new object key is sealed; generation defaults to a fresh newGeneration(). */
export interface SealTarget extends ObjectLocation {
  generation?: string
}

/** The binding a write seals to: its mode, its place and a generation unique to the write. */
export function writeBinding(mode: SseMode, target: SealTarget): SealBinding {
  const binding: SealBinding = {
    mode,
    bucket: target.bucket,
    key: target.key,
    generation: target.generation ?? newGeneration(),
  }
  if (target.versionId !== undefined) binding.versionId = target.versionId
  return binding
}

/** A read binding, bound also to `at.versionId` when an SR1 record is upgraded to SR2. */
export function upgradedBinding(binding: SealBinding, at: ObjectLocation, upgrade: boolean): SealBinding {
  if (!upgrade || binding.versionId !== undefined) return binding
  if (at.versionId === undefined)
    throw new CryptoError('tampered', 'an upgrade to SR2 needs the version id the record is read from')
  return { ...binding, versionId: at.versionId }
}

/** The format a binding is sealed in: SR2 when it names a version. */
export function formatOf(binding: SealBinding): EncryptionRecord['format'] {
  return binding.versionId !== undefined ? FORMAT_V2 : FORMAT
}

/**
 * The binding to unseal with: the mode the caller opens as, the location it read the record
 * from, and the stored generation (only the write knew it). Mode, bucket and key are never taken
 * from the record, so a relabelled or moved record fails authentication.
 * Throws CryptoError('unsupported-format') unless the record is SR1, ('tampered') if it has no
 * usable generation.
 */
export function readBinding(mode: SseMode, record: EncryptionRecord, at: ObjectLocation): SealBinding {
  if (record.format !== FORMAT && record.format !== FORMAT_V2) {
    throw new CryptoError(
      'unsupported-format',
      `encryption record format ${String(record.format)} is not ${FORMAT} or ${FORMAT_V2}`,
    )
  }
  const generation: unknown = record.binding?.generation
  if (typeof generation !== 'string' || generation.length === 0 || generation.includes('\0')) {
    throw new CryptoError('tampered', 'encryption record has no valid generation')
  }
  if (record.format === FORMAT) return { mode, bucket: at.bucket, key: at.key, generation }
  if (at.versionId === undefined || !/^[0-9a-f]{32}$/.test(at.versionId))
    throw new CryptoError('tampered', 'an SR2 record read without its version id')
  return { mode, bucket: at.bucket, key: at.key, versionId: at.versionId, generation }
}
