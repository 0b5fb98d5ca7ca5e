/** @module Domain errors of the storage layer. They know nothing of HTTP; server/s3/errors.ts maps them. */

export class NotFoundError extends Error {
  override readonly name = 'NotFoundError'
  constructor(
    readonly kind: 'bucket' | 'object' | 'upload' | 'blob',
    /** The bucket name, object key, upload id or blob id that was not found. */
    readonly what: string,
  ) {
    super(`${kind} not found`)
  }
}

/**
 * A write refused because of the state it found. `concurrent-change`: the record (a bucket, or the
 * parts of an upload being completed) is no longer the one the caller read; read again and retry.
 */
export class ConflictError extends Error {
  override readonly name = 'ConflictError'
  constructor(
    readonly kind: 'bucket-not-empty' | 'bucket-exists' | 'precondition' | 'concurrent-change',
    readonly what: string,
  ) {
    super(kind)
  }
}

/**
 * Stored data that a committed record references is missing, or is not the size the record says:
 * damage to (or tampering with) the data directory, never an ordinary "not found".
 */
export class IntegrityError extends Error {
  override readonly name = 'IntegrityError'
  constructor(
    readonly kind: 'blob-missing' | 'blob-size',
    /** The blob id (for the log; never sent to a client). */
    readonly what: string,
    message = `${kind}: ${what}`,
  ) {
    super(message)
  }
}

/**
 * A removal or in-place change refused because Object Lock holds the version (storage/object-lock.ts):
 * a legal hold, COMPLIANCE retention, or GOVERNANCE retention without the bypass.
 */
export class ObjectLockedError extends Error {
  override readonly name = 'ObjectLockedError'
  constructor(
    readonly hold: 'legal-hold' | 'GOVERNANCE' | 'COMPLIANCE',
    /** The object key. */
    readonly what: string,
  ) {
    super(`locked (${hold})`)
  }
}
