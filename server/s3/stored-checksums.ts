/**
 * @module The checksums object and part records keep, in one place: sealed under the object key
 * for SSE-C (crypto/README.md §10: no digest of SSE-C plaintext in the metadata store), in the
 * clear otherwise; and their values back, for the answers that carry them.
 */
import { openChecksum, sealChecksum } from '../../crypto/checksum-seal.js'
import type { EncryptionRecord, ObjectKey } from '../../crypto/types.js'
import type {
  ChecksumAlgorithm,
  ChecksumType,
  ChecksumValue,
  ObjectRecord,
  PartRecord,
  StoredChecksum,
} from '../../storage/types.js'
import { combineCrc, compositeChecksum, type CrcAlgorithm } from './checksums.js'

/** The object (or upload) a checksum belongs to. */
export interface ChecksumOwner {
  bucket: string
  key: string
  encryption: EncryptionRecord
}

/**
 * Whether records of this encryption keep their checksums sealed: SSE-C only. SSE-S3's ETag is
 * the plaintext MD5 anyway, and SSE-KMS checksums are answered (HEAD, ListParts, Complete) without
 * a KMS call, as on AWS, which a seal under the KMS-protected object key would prevent.
 */
export const sealsChecksums = (enc: EncryptionRecord): boolean => enc.mode === 'SSE-C'

/** The whole-object checksum as the record stores it; `oek` is the object key of `owner`. */
export function storeChecksum(owner: ChecksumOwner, oek: ObjectKey, c: ChecksumValue): StoredChecksum {
  if (!sealsChecksums(owner.encryption)) return { algorithm: c.algorithm, type: c.type, value: c.value }
  const place = { bucket: owner.bucket, key: owner.key, algorithm: c.algorithm, slot: 0 }
  return { algorithm: c.algorithm, type: c.type, sealed: sealChecksum(oek, place, c.value) }
}

/** A part's checksum fields as its record stores them (`algorithm`: the upload's part algorithm). */
export function storePartChecksum(
  owner: ChecksumOwner,
  oek: ObjectKey,
  algorithm: ChecksumAlgorithm,
  partNumber: number,
  value: string,
): Pick<PartRecord, 'checksum' | 'sealedChecksum'> {
  if (!sealsChecksums(owner.encryption)) return { checksum: value }
  return {
    sealedChecksum: sealChecksum(oek, { bucket: owner.bucket, key: owner.key, algorithm, slot: partNumber }, value),
  }
}

/**
 * A part's checksum value: the clear one, or the sealed one opened with `oek`. Undefined when the
 * part has none, or it is sealed and no object key is given. Throws CryptoError('tampered') if a
 * sealed value does not open.
 */
export function partChecksumValue(
  owner: Pick<ChecksumOwner, 'bucket' | 'key'>,
  part: PartRecord,
  algorithm: ChecksumAlgorithm,
  oek?: ObjectKey,
): string | undefined {
  if (part.checksum !== undefined) return part.checksum
  if (part.sealedChecksum === undefined || !oek) return undefined
  return openChecksum(
    oek,
    { bucket: owner.bucket, key: owner.key, algorithm, slot: part.partNumber },
    part.sealedChecksum,
  )
}

/**
 * The whole object's checksum from its parts': COMPOSITE is the checksum of the part digests, FULL_OBJECT the CRCs
 * combined.
 */
export function combinePartChecksums(
  algorithm: ChecksumAlgorithm,
  type: ChecksumType,
  parts: ReadonlyArray<{ value: string; size: number }>,
): ChecksumValue {
  if (type === 'COMPOSITE')
    return {
      algorithm,
      type,
      value: compositeChecksum(
        algorithm,
        parts.map((p) => p.value),
      ),
    }
  return { algorithm, type, value: combineCrc(algorithm as CrcAlgorithm, parts) }
}

/**
 * The checksum to answer for an object: its clear value; its sealed value opened with `oek`; or,
 * for an SSE-C multipart object completed without the customer key, its parts' sealed checksums
 * combined. Undefined when the object has none, or only its object key could tell and `oek` is
 * not given. Throws CryptoError('tampered') if a sealed value does not open.
 */
export function checksumValue(rec: ObjectRecord, oek?: ObjectKey): ChecksumValue | undefined {
  const c = rec.checksum
  if (!c) return undefined
  if (c.value !== undefined) return { algorithm: c.algorithm, type: c.type, value: c.value }
  if (!oek) return undefined
  if (c.sealed !== undefined) {
    return {
      algorithm: c.algorithm,
      type: c.type,
      value: openChecksum(oek, { bucket: rec.bucket, key: rec.key, algorithm: c.algorithm, slot: 0 }, c.sealed),
    }
  }
  const parts: Array<{ value: string; size: number }> = []
  for (const p of rec.parts) {
    const value = partChecksumValue(rec, p, c.algorithm, oek)
    if (value === undefined) return undefined
    parts.push({ value, size: p.size })
  }
  return combinePartChecksums(c.algorithm, c.type, parts)
}
