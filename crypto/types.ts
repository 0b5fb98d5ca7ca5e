/**
 * @module Public types of the crypto layer: the encryption modes, secret key types (never
 * persisted) and the storable encryption record that storage keeps beside each object.
 */

export type SseMode = 'SSE-S3' | 'SSE-KMS' | 'SSE-C'

declare const objectKeyBrand: unique symbol
/** A 256-bit object encryption key (OEK). Secret: never persisted, never logged. */
export type ObjectKey = Buffer & { readonly [objectKeyBrand]: true }

declare const partKeyBrand: unique symbol
/** A 256-bit key for one part write, derived from the OEK. Secret. */
export type PartKey = Buffer & { readonly [partKeyBrand]: true }

/** What a sealed object key is bound to (crypto/README.md §1): moving it anywhere else fails to open. */
export interface SealBinding {
  mode: SseMode
  bucket: string
  key: string
  /** Random id unique to this write (base64url). */
  generation: string
  /** SR2: the version id the key is sealed to (32 lowercase hex); absent in SR1. */
  versionId?: string
}

/** A sealed OEK as stored (all binary fields base64). */
export interface SealedKey {
  /** 32 random bytes mixed into the KEK derivation. */
  sealIV: string
  /** 12-byte AES-GCM nonce. */
  nonce: string
  /** AES-256-GCM ciphertext of the OEK followed by the 16-byte tag. */
  ciphertext: string
}

/** KMS data-key details kept for SSE-KMS objects (filled by the SSE-KMS issue). */
export interface KmsKeyRecord {
  keyArn: string
  /** base64 CiphertextBlob from GenerateDataKey. */
  ciphertextBlob: string
  /** The encryption context sent to KMS (aws:s3:arn merged with the client's). */
  context: Record<string, string>
  /** The exact base64 context header the client sent, echoed on writes (docs/s3-sse-rules.md §4.3). */
  clientContextHeader?: string
  dsse?: boolean
  bucketKeyEnabled?: boolean
}

/** What every encryption record carries, whatever its mode. */
interface EncryptionRecordBase {
  /** Data format ("SR1", "SR2", crypto/README.md). A record is only ever upgraded by rewrap. */
  format: 'SR1' | 'SR2'
  binding: SealBinding
  sealed: SealedKey
  /** SR2 objects: the placement tag over bucket, key, version, generation and parts (crypto/README.md). */
  manifest?: { rootKeyVersion: number; tag: string }
}

/** SSE-S3: the OEK is sealed by root keyring version `rootKeyVersion`. */
export interface SseS3Record extends EncryptionRecordBase {
  mode: 'SSE-S3'
  rootKeyVersion: number
  kms?: never
}

/** SSE-KMS / DSSE-KMS: the OEK is sealed by a KMS data key (and, for DSSE, also by a root key). */
export interface SseKmsRecord extends EncryptionRecordBase {
  mode: 'SSE-KMS'
  kms: KmsKeyRecord
  /** DSSE-KMS only: the root keyring version of the second layer. */
  rootKeyVersion?: number
}

/** SSE-C: the OEK is sealed by the customer's key, which is never stored. */
export interface SseCRecord extends EncryptionRecordBase {
  mode: 'SSE-C'
  rootKeyVersion?: never
  kms?: never
}

/**
 * The storable encryption record of an object or multipart upload, one member per mode, so that
 * what a mode needs is there by type. It carries the format version so the next format can
 * coexist with this one.
 */
export type EncryptionRecord = SseS3Record | SseKmsRecord | SseCRecord
