/** @module Domain errors of the crypto layer. No HTTP status here: server/s3/errors.ts maps them. */

export type CryptoErrorReason =
  /** A sealed key did not open with the presented key (SSE-C: the customer gave the wrong key). */
  | 'wrong-key'
  /** Stored ciphertext or a sealed key failed authentication: corruption or tampering. */
  | 'tampered'
  /** A stored record names a format or version this build does not know. */
  | 'unsupported-format'
  /** A root key version named by a record is not in the keyring. */
  | 'missing-root-key'
  /** Keyring file unreadable or malformed. */
  | 'keyring'

export class CryptoError extends Error {
  override readonly name = 'CryptoError'
  constructor(
    readonly reason: CryptoErrorReason,
    message: string = reason,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}
