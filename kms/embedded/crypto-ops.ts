/**
 * @module Cryptographic operations of the embedded KMS (docs/s3-sse-rules.md §6.3–§6.5): Encrypt, Decrypt,
 * GenerateDataKey(WithoutPlaintext), ReEncrypt. Binary members are Buffers here; api.ts does base64.
 */
import { randomBytes } from 'node:crypto'
import type { EncryptionContext, KmsCaller } from '../types.js'
import { openBlob, readBlobHeader, sealBlob } from './blob.js'
import type { KmsCore } from './core.js'
import { constraint, incorrectKey, invalidCiphertext, kmsFault, nullMember, validation } from './errors.js'
import { MAX_BLOB_SIZE, MAX_PLAINTEXT_SIZE } from './format.js'
import { requireKeyId } from './key-ops.js'
import type { StoredKey } from './store.js'

const ALGORITHM = 'SYMMETRIC_DEFAULT'

interface Common {
  EncryptionContext?: EncryptionContext
  GrantTokens?: string[]
  DryRun?: boolean
}

export interface EncryptRequest extends Common {
  KeyId?: string
  Plaintext?: Buffer
  EncryptionAlgorithm?: string
}

export interface DecryptRequest extends Common {
  CiphertextBlob?: Buffer
  KeyId?: string
  EncryptionAlgorithm?: string
}

export interface GenerateDataKeyRequest extends Common {
  KeyId?: string
  KeySpec?: string
  NumberOfBytes?: number
}

export interface ReEncryptRequest {
  CiphertextBlob?: Buffer
  SourceEncryptionContext?: EncryptionContext
  SourceKeyId?: string
  DestinationKeyId?: string
  DestinationEncryptionContext?: EncryptionContext
  SourceEncryptionAlgorithm?: string
  DestinationEncryptionAlgorithm?: string
  GrantTokens?: string[]
  DryRun?: boolean
}

/** Only SYMMETRIC_DEFAULT exists for the symmetric keys this store makes. */
function checkAlgorithm(value: string | undefined, member: string): void {
  if (value !== undefined && value !== ALGORITHM) {
    throw constraint(member, value, `satisfy enum value set: [${ALGORITHM}]`)
  }
}

function dryRun(flag: boolean | undefined): void {
  if (flag === true)
    throw kmsFault('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.')
}

/** Seals `plaintext` under the current material of an Enabled key. */
function encryptUnder(
  core: KmsCore,
  key: StoredKey,
  plaintext: Uint8Array,
  context: EncryptionContext | undefined,
): Buffer {
  const current = key.materials[key.materials.length - 1]
  return sealBlob(
    core.material(key, current.version)!,
    { keyId: key.id, materialVersion: current.version },
    plaintext,
    context,
  )
}

/** Resolves a key for a crypto operation and applies the state rule (Enabled only). */
async function usableKey(
  core: KmsCore,
  keyId: string | undefined,
  operation: string,
  caller: KmsCaller | undefined,
  context: EncryptionContext | undefined,
  member = 'keyId',
) {
  const key = await core.resolve(requireKeyId(keyId, member), operation, caller, true, { context })
  core.checkUsable(key)
  return key
}

export async function encrypt(core: KmsCore, req: EncryptRequest, caller?: KmsCaller) {
  const keyId = requireKeyId(req.KeyId)
  if (req.Plaintext === undefined) throw nullMember('plaintext')
  // Plaintext is secret: its value is never echoed in a message.
  if (req.Plaintext.length < 1) throw constraint('plaintext', undefined, 'have length greater than or equal to 1')
  if (req.Plaintext.length > MAX_PLAINTEXT_SIZE)
    throw constraint('plaintext', undefined, `have length less than or equal to ${MAX_PLAINTEXT_SIZE}`)
  checkAlgorithm(req.EncryptionAlgorithm, 'encryptionAlgorithm')
  const key = await usableKey(core, keyId, 'Encrypt', caller, req.EncryptionContext)
  dryRun(req.DryRun)
  return {
    CiphertextBlob: encryptUnder(core, key, req.Plaintext, req.EncryptionContext),
    KeyId: core.arnOf(key.id),
    EncryptionAlgorithm: ALGORITHM,
  }
}

/**
 * Opens a blob (Decrypt, ReEncrypt source): the key comes from the blob; `keyId`, if given, must
 * name the same key (IncorrectKeyException); the key must be Enabled; anything that does not parse
 * or authenticate — wrong context included — is InvalidCiphertextException with no message.
 */
async function openCiphertext(
  core: KmsCore,
  blob: Buffer | undefined,
  context: EncryptionContext | undefined,
  keyId: string | undefined,
  operation: string,
  caller: KmsCaller | undefined,
  member: string,
): Promise<{ key: StoredKey; plaintext: Buffer }> {
  if (blob === undefined) throw nullMember('ciphertextBlob')
  if (blob.length < 1) throw constraint('ciphertextBlob', undefined, 'have length greater than or equal to 1')
  if (blob.length > MAX_BLOB_SIZE)
    throw constraint('ciphertextBlob', undefined, `have length less than or equal to ${MAX_BLOB_SIZE}`)
  const named =
    keyId === undefined
      ? undefined
      : await core.resolve(requireKeyId(keyId, member), operation, caller, true, { context })
  const header = readBlobHeader(blob)
  if (!header) throw invalidCiphertext()
  const key = await core.findKey(header.keyId)
  if (!key) throw invalidCiphertext()
  if (!named) core.authorize(key, operation, caller, { context })
  if (named && named.id !== key.id) throw incorrectKey()
  core.checkUsable(key)
  const material = core.material(key, header.materialVersion)
  const plaintext = material && openBlob(material, blob, context)
  if (!plaintext) throw invalidCiphertext()
  return { key, plaintext }
}

export async function decrypt(core: KmsCore, req: DecryptRequest, caller?: KmsCaller) {
  checkAlgorithm(req.EncryptionAlgorithm, 'encryptionAlgorithm')
  const { key, plaintext } = await openCiphertext(
    core,
    req.CiphertextBlob,
    req.EncryptionContext,
    req.KeyId,
    'Decrypt',
    caller,
    'keyId',
  )
  if (req.DryRun === true) plaintext.fill(0)
  dryRun(req.DryRun)
  return { KeyId: core.arnOf(key.id), Plaintext: plaintext, EncryptionAlgorithm: ALGORITHM }
}

/** KeySpec xor NumberOfBytes (docs/s3-sse-rules.md §6.3, KAPI-17): the data key length. */
function dataKeyLength(req: GenerateDataKeyRequest): number {
  if (req.KeySpec !== undefined && req.KeySpec !== 'AES_256' && req.KeySpec !== 'AES_128') {
    throw constraint('keySpec', req.KeySpec, 'satisfy enum value set: [AES_256, AES_128]')
  }
  const n = req.NumberOfBytes
  if (n !== undefined && (!Number.isInteger(n) || n < 1))
    throw constraint('numberOfBytes', n, 'have value greater than or equal to 1')
  if (n !== undefined && n > 1024) throw constraint('numberOfBytes', n, 'have value less than or equal to 1024')
  if ((req.KeySpec === undefined) === (n === undefined))
    throw validation('Please specify either number of bytes or key spec.')
  return n ?? (req.KeySpec === 'AES_128' ? 16 : 32)
}

export async function generateDataKey(core: KmsCore, req: GenerateDataKeyRequest, caller?: KmsCaller) {
  const keyId = requireKeyId(req.KeyId)
  const length = dataKeyLength(req)
  const key = await usableKey(core, keyId, 'GenerateDataKey', caller, req.EncryptionContext)
  dryRun(req.DryRun)
  const plaintext = randomBytes(length)
  return {
    CiphertextBlob: encryptUnder(core, key, plaintext, req.EncryptionContext),
    Plaintext: plaintext,
    KeyId: core.arnOf(key.id),
  }
}

export async function generateDataKeyWithoutPlaintext(core: KmsCore, req: GenerateDataKeyRequest, caller?: KmsCaller) {
  const keyId = requireKeyId(req.KeyId)
  const length = dataKeyLength(req)
  const key = await usableKey(core, keyId, 'GenerateDataKeyWithoutPlaintext', caller, req.EncryptionContext)
  dryRun(req.DryRun)
  const plaintext = randomBytes(length)
  try {
    return { CiphertextBlob: encryptUnder(core, key, plaintext, req.EncryptionContext), KeyId: core.arnOf(key.id) }
  } finally {
    plaintext.fill(0)
  }
}

/** ReEncrypt: Decrypt's rules for the source, Encrypt's for the destination (KAPI-19, KAPI-20). */
export async function reEncrypt(core: KmsCore, req: ReEncryptRequest, caller?: KmsCaller) {
  if (req.CiphertextBlob === undefined) throw nullMember('ciphertextBlob')
  const destinationId = requireKeyId(req.DestinationKeyId, 'destinationKeyId')
  checkAlgorithm(req.SourceEncryptionAlgorithm, 'sourceEncryptionAlgorithm')
  checkAlgorithm(req.DestinationEncryptionAlgorithm, 'destinationEncryptionAlgorithm')
  // ReEncrypt needs kms:ReEncryptFrom on the source key and kms:ReEncryptTo on the destination.
  const source = await openCiphertext(
    core,
    req.CiphertextBlob,
    req.SourceEncryptionContext,
    req.SourceKeyId,
    'ReEncryptFrom',
    caller,
    'sourceKeyId',
  )
  try {
    const destination = await usableKey(
      core,
      destinationId,
      'ReEncryptTo',
      caller,
      req.DestinationEncryptionContext,
      'destinationKeyId',
    )
    dryRun(req.DryRun)
    return {
      CiphertextBlob: encryptUnder(core, destination, source.plaintext, req.DestinationEncryptionContext),
      SourceKeyId: core.arnOf(source.key.id),
      KeyId: core.arnOf(destination.id),
      SourceEncryptionAlgorithm: ALGORITHM,
      DestinationEncryptionAlgorithm: ALGORITHM,
    }
  } finally {
    source.plaintext.fill(0)
  }
}
