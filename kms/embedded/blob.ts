/**
 * @module The embedded KMS's CiphertextBlob (docs/s3-sse-rules.md §6.5, crypto/README.md §9): a header naming
 * the key and key-material version, then AES-256-GCM of the plaintext with the header and the
 * canonical encryption context as AAD.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { canonicalContext, type EncryptionContext } from '../types.js'
import { BLOB_HEADER_SIZE, BLOB_MAGIC, BLOB_VERSION, KMS_NONCE_SIZE, KMS_TAG_SIZE, MATERIAL_SIZE } from './format.js'

/** What a blob's header says: which key and material version made it. */
export interface BlobHeader {
  /** Lowercase UUID of the KMS key. */
  keyId: string
  materialVersion: number
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function uuidBytes(id: string): Buffer {
  if (!UUID_RE.test(id)) throw new RangeError('Precondition: embedded KMS key ids are lowercase UUIDs')
  return Buffer.from(id.replace(/-/g, ''), 'hex')
}

function uuidString(bytes: Buffer): string {
  const h = bytes.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

function aad(header: Buffer, context: EncryptionContext | undefined): Buffer {
  return Buffer.concat([header, Buffer.from(canonicalContext(context), 'utf8')])
}

/**
 * B1–B3: `header ‖ AES-GCM(material, nonce, plaintext, AAD = header ‖ UTF8(canonicalJSON(context)))`.
 * The nonce is random; the header binds the blob to its key and material version.
 */
export function sealBlob(
  material: Uint8Array,
  head: BlobHeader,
  plaintext: Uint8Array,
  context: EncryptionContext | undefined,
): Buffer {
  if (material.length !== MATERIAL_SIZE) throw new RangeError('Precondition: key material is 32 bytes')
  const header = Buffer.alloc(BLOB_HEADER_SIZE)
  BLOB_MAGIC.copy(header, 0)
  header[3] = BLOB_VERSION
  uuidBytes(head.keyId).copy(header, 4)
  header.writeUInt32BE(head.materialVersion, 20)
  const nonce = randomBytes(KMS_NONCE_SIZE)
  nonce.copy(header, 24)
  const cipher = createCipheriv('aes-256-gcm', material, nonce, { authTagLength: KMS_TAG_SIZE })
  cipher.setAAD(aad(header, context))
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return Buffer.concat([header, body, cipher.getAuthTag()])
}

/** The header of a blob, or undefined if it is not one of ours (too short, wrong magic or version). */
export function readBlobHeader(blob: Uint8Array): BlobHeader | undefined {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)
  if (b.length < BLOB_HEADER_SIZE + KMS_TAG_SIZE) return undefined
  if (!b.subarray(0, 3).equals(BLOB_MAGIC) || b[3] !== BLOB_VERSION) return undefined
  return { keyId: uuidString(b.subarray(4, 20)), materialVersion: b.readUInt32BE(20) }
}

/**
 * Opens a blob with the material its header names. Returns undefined when authentication fails
 * (wrong context, tampered bytes, other material): the caller answers InvalidCiphertextException.
 */
export function openBlob(
  material: Uint8Array,
  blob: Uint8Array,
  context: EncryptionContext | undefined,
): Buffer | undefined {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)
  if (readBlobHeader(b) === undefined || material.length !== MATERIAL_SIZE) return undefined
  const header = b.subarray(0, BLOB_HEADER_SIZE)
  const tagAt = b.length - KMS_TAG_SIZE
  try {
    const decipher = createDecipheriv('aes-256-gcm', material, header.subarray(24, 36), { authTagLength: KMS_TAG_SIZE })
    decipher.setAAD(aad(header, context))
    decipher.setAuthTag(b.subarray(tagAt))
    const first = decipher.update(b.subarray(BLOB_HEADER_SIZE, tagAt))
    decipher.final()
    return first
  } catch {
    return undefined
  }
}
