/**
 * @module The SR2 placement tag (crypto/README.md §11): an HMAC under a root key over where an
 * object lives (bucket, key, version id — taken from the lookup) and what it is made of (its
 * mode, generation, and every part's number, size and salt, in order, with their count). A record
 * found elsewhere, or whose parts were reordered, dropped or duplicated, fails it.
 */
import assert from 'node:assert/strict'
import { createHmac, timingSafeEqual } from 'node:crypto'
import { CryptoError } from './errors.js'
import { FORMAT_V2, MANIFEST_LABEL, PART_SALT_SIZE } from './format.js'
import type { RootKeySource } from './keyring.js'
import type { ObjectLocation } from './keys.js'
import type { EncryptionRecord } from './types.js'

/** What the tag covers of each part, in object order. */
export interface PlacedPart {
  partNumber: number
  size: number
  /** base64 of the 32-byte part salt. */
  salt: string
}

function field(s: string): Buffer {
  const b = Buffer.from(s, 'utf8')
  const len = Buffer.allocUnsafe(4)
  len.writeUInt32BE(b.length, 0)
  return Buffer.concat([len, b])
}

/**
 * The tag input: label ‖ field(mode) ‖ field(bucket) ‖ field(key) ‖ field(versionId) ‖
 * field(generation) ‖ BE32(n) ‖ n × (BE32(partNumber) ‖ BE64(size) ‖ salt), field(s) =
 * BE32(byte length) ‖ UTF8(s). Every variable field is length-prefixed: the encoding is injective.
 */
export function manifestInput(
  enc: Pick<EncryptionRecord, 'mode' | 'binding'>,
  at: Required<ObjectLocation>,
  parts: readonly PlacedPart[],
): Buffer {
  const head = [
    Buffer.from(MANIFEST_LABEL, 'utf8'),
    field(enc.mode),
    field(at.bucket),
    field(at.key),
    field(at.versionId),
    field(enc.binding.generation),
  ]
  const count = Buffer.allocUnsafe(4)
  count.writeUInt32BE(parts.length, 0)
  const body = parts.map((p) => {
    const salt = Buffer.from(p.salt, 'base64')
    if (salt.length !== PART_SALT_SIZE || !Number.isSafeInteger(p.size) || p.size < 0)
      throw new CryptoError('tampered', 'a part of the record is malformed')
    const b = Buffer.allocUnsafe(12)
    b.writeUInt32BE(p.partNumber, 0)
    b.writeBigUInt64BE(BigInt(p.size), 4)
    return Buffer.concat([b, salt])
  })
  return Buffer.concat([...head, count, ...body])
}

function tagWith(rootKey: Buffer, input: Buffer): Buffer {
  try {
    return createHmac('sha256', rootKey).update(input).digest()
  } finally {
    rootKey.fill(0) // our copy of the root key; the keyring keeps its own
  }
}

/** The SR2 record of an object about to be committed at `at` with `parts`: tagged under the active root key. */
export function placeRecord(
  keyring: RootKeySource,
  enc: EncryptionRecord,
  at: Required<ObjectLocation>,
  parts: readonly PlacedPart[],
): EncryptionRecord {
  assert(enc.format === FORMAT_V2, 'Precondition: only SR2 records carry a placement tag')
  const root = keyring.active()
  const tag = tagWith(root.key, manifestInput(enc, at, parts))
  return { ...enc, manifest: { rootKeyVersion: root.version, tag: tag.toString('base64') } }
}

/**
 * Checks an object record read from `at` (bucket, key and version id of the lookup) against its
 * tag; SR1 records have none. Throws CryptoError('tampered') on any mismatch or a missing tag,
 * ('missing-root-key') if the keyring lacks the tag's root key version.
 */
export function checkPlacement(
  keyring: RootKeySource,
  enc: EncryptionRecord,
  at: Required<ObjectLocation>,
  parts: readonly PlacedPart[],
): void {
  if (enc.format !== FORMAT_V2) return
  const m = enc.manifest
  if (!m || !Number.isSafeInteger(m.rootKeyVersion) || typeof m.tag !== 'string')
    throw new CryptoError('tampered', 'an SR2 record without its placement tag')
  const want = tagWith(keyring.get(m.rootKeyVersion), manifestInput(enc, at, parts))
  const got = Buffer.from(m.tag, 'base64')
  if (got.length !== want.length || !timingSafeEqual(got, want)) {
    throw new CryptoError(
      'tampered',
      'the record is not where it was written, or its parts were reordered, dropped or duplicated',
    )
  }
}
