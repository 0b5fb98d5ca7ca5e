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

export class ConflictError extends Error {
  override readonly name = 'ConflictError'
  constructor(
    readonly kind: 'bucket-not-empty' | 'bucket-exists' | 'precondition',
    readonly what: string,
  ) {
    super(kind)
  }
}
