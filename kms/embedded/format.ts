/**
 * @module Constants of the embedded KMS's stored formats: CiphertextBlob layout and key-material sealing
 * (crypto/README.md §9).
 */

// DO NOT CHANGE any value in this file: every CiphertextBlob handed out and every sealed key
// material record depends on them. A new layout gets a new BLOB_VERSION / label beside these.

/** First bytes of every CiphertextBlob: ASCII "SRK". */
export const BLOB_MAGIC: Buffer = Buffer.from('SRK', 'ascii')

/** Layout version byte following the magic. */
export const BLOB_VERSION = 1

/** Blob header: magic (3) ‖ version (1) ‖ key UUID (16) ‖ BE32 material version (4) ‖ nonce (12). */
export const BLOB_HEADER_SIZE = 36

/** AES-GCM nonce bytes in blobs and in sealed material. */
export const KMS_NONCE_SIZE = 12

/** AES-GCM tag bytes. */
export const KMS_TAG_SIZE = 16

/** Largest CiphertextBlob KMS accepts (docs/s3-sse-rules.md §6.5). */
export const MAX_BLOB_SIZE = 6144

/** Largest Encrypt plaintext (docs/s3-sse-rules.md §6.3). */
export const MAX_PLAINTEXT_SIZE = 4096

/** Bytes of KMS key material (one AES-256 key per key and material version). */
export const MATERIAL_SIZE = 32

/** Random bytes mixed into the KEK that seals key material under a root key. */
export const MATERIAL_SEAL_IV_SIZE = 32

/** Domain-separation label of the key-material KEK derivation and its AES-GCM AAD. */
export const MATERIAL_LABEL = 'strongroom/kms-material/v1'

/** Description AWS gives the account's default S3 key (docs/s3-sse-rules.md KMS-02). */
export const AWS_S3_KEY_DESCRIPTION = 'Default key that protects my S3 objects when no other key is defined'
