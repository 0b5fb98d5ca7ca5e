/**
 * @module The KMS client interface the S3 side uses (GenerateDataKey / Decrypt with an encryption
 * context, DescribeKey, ReEncrypt, Encrypt) and KmsError, the one error every KMS path throws.
 * Implemented over HTTP by http-client.ts and in-process over the embedded KMS by local-client.ts.
 */

/** The alias of the AWS managed key S3 uses for SSE-KMS when no key is named (AWS: `aws/s3`). */
export const AWS_MANAGED_S3_ALIAS = 'alias/aws/s3'

/** Encryption context: string → string pairs bound as additional authenticated data (docs/s3-sse-rules.md §6.4). */
export type EncryptionContext = Record<string, string>

/**
 * Who is calling, for the embedded KMS's permission checks (key policies, grants, the caller's
 * identity policies). HTTP clients ignore it: an external KMS judges its own callers.
 */
export interface KmsCaller {
  accountId: string
  principalArn: string
  /** The service calling on the principal's behalf (`kms:ViaService`), e.g. `s3.us-east-1.amazonaws.com`. */
  viaService?: string
  /** The caller's identity and policies, for the access judge (opaque to the KMS). */
  identity?: unknown
  /** The request's global condition keys (aws:SourceIp, aws:SecureTransport…), lowercase. */
  requestContext?: Readonly<Record<string, readonly string[]>>
}

/** Key states docs/s3-sse-rules.md uses (§6.2). An external KMS may report others (e.g. `PendingImport`). */
export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion' | (string & {})

export interface GenerateDataKeyInput {
  /** Key id, key ARN, alias name or alias ARN. */
  keyId: string
  context?: EncryptionContext
  caller?: KmsCaller
}

export interface GenerateDataKeyOutput {
  /** 32 random bytes (AES_256). Secret: zero it after use, never log it. */
  plaintext: Buffer
  /** Opaque blob to store with the object; Decrypt turns it back into `plaintext`. */
  ciphertextBlob: Buffer
  /** ARN of the KMS key that encrypted the data key (S3's `…-aws-kms-key-id` answer). */
  keyArn: string
}

export interface DecryptInput {
  ciphertextBlob: Uint8Array
  /** Exactly the context given when the blob was made (an empty map equals none). */
  context?: EncryptionContext
  /** If given, the blob must have been made under this key (else IncorrectKeyException). */
  keyId?: string
  caller?: KmsCaller
}

export interface DecryptOutput {
  /** Secret: zero it after use, never log it. Cached outputs are copies. */
  plaintext: Buffer
  keyArn: string
}

export interface EncryptInput {
  keyId: string
  /** 1–4096 bytes. */
  plaintext: Uint8Array
  context?: EncryptionContext
  caller?: KmsCaller
}

export interface EncryptOutput {
  ciphertextBlob: Buffer
  keyArn: string
}

export interface ReEncryptInput {
  ciphertextBlob: Uint8Array
  sourceContext?: EncryptionContext
  sourceKeyId?: string
  destinationKeyId: string
  destinationContext?: EncryptionContext
  caller?: KmsCaller
}

export interface ReEncryptOutput {
  ciphertextBlob: Buffer
  sourceKeyArn: string
  keyArn: string
}

export interface KeyDescription {
  keyId: string
  keyArn: string
  state: KeyState
  enabled: boolean
  keyManager: 'CUSTOMER' | 'AWS' | (string & {})
  description: string
}

/** What S3 (and the keyring, later) needs from a KMS. Every method throws KmsError only. */
export interface KmsClient {
  generateDataKey(input: GenerateDataKeyInput): Promise<GenerateDataKeyOutput>
  /** Served from a bounded TTL cache of decrypted data keys when the same blob+context+keyId repeat. */
  decrypt(input: DecryptInput): Promise<DecryptOutput>
  encrypt(input: EncryptInput): Promise<EncryptOutput>
  reEncrypt(input: ReEncryptInput): Promise<ReEncryptOutput>
  describeKey(keyId: string, caller?: KmsCaller): Promise<KeyDescription>
  /** Releases connections and zeroes cached keys. */
  close(): Promise<void>
}

/**
 * Why a KMS call failed, independent of transport. S3 answers most of them as
 * 400 `KMS.<exception>` with `kmsMessage` (docs/s3-sse-rules.md §4.6); `unavailable` is its own answer.
 */
export type KmsErrorReason =
  /** NotFoundException: malformed id, unknown key or alias, ARN of another region. */
  | 'not-found'
  /** DisabledException. */
  | 'disabled'
  /** KMSInvalidStateException because the key is pending deletion. */
  | 'pending-deletion'
  /** InvalidCiphertextException or IncorrectKeyException: blob corrupt, foreign, wrong context or key. */
  | 'invalid-ciphertext'
  /** AccessDeniedException, or the KMS refused our credentials (signature, unknown key, token). */
  | 'access-denied'
  /** No usable answer: network failure, timeout, 5xx or throttling after the retries. */
  | 'unavailable'
  /** ValidationException and the other request-shape faults (TagException, InvalidKeyUsage, …). */
  | 'validation'
  | 'other'

/**
 * A KMS failure. `exception` is the AWS exception name as the KMS sent it (`NotFoundException`,
 * `DisabledException`, …; absent when no KMS answered); `kmsMessage` is its message verbatim
 * (may be empty: InvalidCiphertextException has none). S3 maps it to `KMS.<exception>` +
 * `kmsMessage`. Messages never contain key material or plaintext.
 */
export class KmsError extends Error {
  override readonly name = 'KmsError'
  /** The KMS's message verbatim ('' when it sent none). */
  readonly kmsMessage: string
  /** HTTP status the KMS answered with, when one answered over HTTP. */
  readonly status: number | undefined
  /** AccessDeniedException of the embedded KMS's permission check: the policy type and Sid that decided (audit log). */
  denial?: { policyType?: string; sid?: string }
  constructor(
    readonly reason: KmsErrorReason,
    readonly exception: string | undefined,
    kmsMessage: string,
    options?: { cause?: unknown; status?: number },
  ) {
    super(exception ? `${exception}${kmsMessage ? `: ${kmsMessage}` : ''}` : kmsMessage || reason, {
      cause: options?.cause,
    })
    this.kmsMessage = kmsMessage
    this.status = options?.status
  }

  /** The S3 error code for this failure (`KMS.NotFoundException`), or undefined when no KMS answered. */
  get s3Code(): string | undefined {
    return this.exception ? `KMS.${this.exception}` : undefined
  }
}

/**
 * The reason of an AWS KMS exception name (and message, to tell pending deletion from other
 * invalid states). Unknown names are 'other'.
 */
export function reasonOfException(exception: string, message = ''): KmsErrorReason {
  switch (exception) {
    case 'NotFoundException':
      return 'not-found'
    case 'DisabledException':
      return 'disabled'
    case 'KMSInvalidStateException':
      return /pending\s*deletion/i.test(message) ? 'pending-deletion' : 'other'
    case 'InvalidCiphertextException':
    case 'IncorrectKeyException':
      return 'invalid-ciphertext'
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'IncompleteSignatureException':
    case 'MissingAuthenticationTokenException':
    case 'ExpiredTokenException':
      return 'access-denied'
    case 'ValidationException':
    case 'SerializationException':
    case 'InvalidKeyUsageException':
    case 'InvalidAliasNameException':
    case 'InvalidMarkerException':
    case 'TagException':
    case 'UnsupportedOperationException':
    case 'UnknownOperationException':
    case 'AlreadyExistsException':
    case 'InvalidArnException':
      return 'validation'
    case 'KMSInternalException':
    case 'KeyUnavailableException':
    case 'DependencyTimeoutException':
    case 'ThrottlingException':
    case 'LimitExceededException':
    case 'ServiceUnavailableException':
      return 'unavailable'
    default:
      return 'other'
  }
}

/**
 * The canonical form of an encryption context: JSON of the pairs sorted by key (UTF-16 code
 * unit order), `{}` for none. Equal contexts in any order give equal strings (docs/s3-sse-rules.md §6.4).
 */
export function canonicalContext(context: EncryptionContext | undefined): string {
  if (!context) return '{}'
  const sorted: Record<string, string> = {}
  for (const name of Object.keys(context).sort()) sorted[name] = context[name]
  return JSON.stringify(sorted)
}
