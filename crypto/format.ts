/** @module Constants of the SR1 data format and the key hierarchy (crypto/README.md). */

// DO NOT CHANGE any value in this file. Every stored blob, sealed object key and part key
// depends on them: changing one makes existing data unreadable. A new format gets new
// constants beside these and a new `format` value in EncryptionRecord.

/** Name of this data format, stored in every EncryptionRecord. */
export const FORMAT = 'SR1' as const

/**
 * SR2: SR1's blobs, chunks and part keys, with the seal bound also to the version id (SEAL_LABEL_V2)
 * and a placement tag over the object's place and part list (MANIFEST_LABEL), crypto/README.md §11.
 */
export const FORMAT_V2 = 'SR2' as const

/** Domain-separation label of the SR2 KEK derivation. */
export const SEAL_LABEL_V2 = 'strongroom/seal/v2'

/** Domain-separation label of the SR2 placement tag. */
export const MANIFEST_LABEL = 'strongroom/manifest/v2'

/** Characters of a version id (storage/versions.ts): fixed, so it needs no delimiter of its own. */
export const VERSION_ID_LENGTH = 32

/** Plaintext bytes per chunk (the last chunk of a part may be shorter). */
export const CHUNK_PLAIN = 65_536

/** AES-GCM authentication tag bytes appended to every chunk. */
export const TAG_SIZE = 16

/** Stored bytes of a full chunk: ciphertext ‖ tag. Chunk i starts at i × CHUNK_STORED. */
export const CHUNK_STORED = 65_552

/** AES-GCM nonce bytes (96 bits) for chunks and for sealing. */
export const NONCE_SIZE = 12

/** Bytes of every symmetric key: OEK, part key, KEK, root key, customer key, KMS data key. */
export const KEY_SIZE = 32

/** Bytes of the random sealIV mixed into the KEK derivation. */
export const SEAL_IV_SIZE = 32

/** Bytes of the random salt of every part write. */
export const PART_SALT_SIZE = 32

/** Domain-separation label of the KEK derivation (crypto/README.md §1). */
export const SEAL_LABEL = 'strongroom/seal/v1'

/** Domain-separation label of the part-key derivation (crypto/README.md §4). */
export const PART_LABEL = 'strongroom/part/v1'

/** Additional authenticated data of every SR1 chunk: the 3 ASCII bytes "SR1". */
export const CHUNK_AAD: Buffer = Buffer.from(FORMAT, 'ascii')

/** Nonce flag word of the last chunk of a part (BE32), see README "Nonce". */
export const FINAL_FLAG = 1

/** Domain-separation label of sealed checksums: key derivation and AAD (crypto/README.md §10). */
export const CHECKSUM_LABEL = 'strongroom/checksum/v1'
