import { describe, expect, it } from 'vitest'
import { CryptoError } from '../../../crypto/errors.js'
import { ALL_CODES, S3Error, statusOf, toS3Error } from '../../../server/s3/errors.js'
import { ConflictError, IntegrityError, NotFoundError } from '../../../storage/errors.js'

describe('the S3 error table', () => {
  it('gives every code a 4xx/5xx status and a message', () => {
    for (const code of ALL_CODES) {
      expect(statusOf(code)).toBeGreaterThanOrEqual(300)
      expect(new S3Error(code).message.length).toBeGreaterThan(0)
    }
  })

  it('keeps AWS wording byte-exact where docs/s3-sse-rules.md gives it', () => {
    expect(new S3Error('NoSuchBucket').message).toBe('The specified bucket does not exist')
    expect(new S3Error('NoSuchKey').message).toBe('The specified key does not exist.')
    expect(new S3Error('InvalidPart').message).toContain('found.  The part')
  })
})

describe('toS3Error', () => {
  it('maps a wrong SSE-C key to 403 AccessDenied', () => {
    expect(toS3Error(new CryptoError('wrong-key')).code).toBe('AccessDenied')
  })
  it('maps tampered data and unknown errors to 500 InternalError, failing closed', () => {
    expect(toS3Error(new CryptoError('tampered')).code).toBe('InternalError')
    expect(toS3Error(new Error('boom')).code).toBe('InternalError')
    expect(toS3Error('string').code).toBe('InternalError')
  })
  it('maps storage errors to NoSuchBucket, NoSuchKey, NoSuchUpload, BucketNotEmpty, PreconditionFailed', () => {
    expect(toS3Error(new NotFoundError('bucket', 'b')).code).toBe('NoSuchBucket')
    expect(toS3Error(new NotFoundError('object', 'k')).code).toBe('NoSuchKey')
    expect(toS3Error(new NotFoundError('upload', 'u')).code).toBe('NoSuchUpload')
    expect(toS3Error(new ConflictError('bucket-not-empty', 'b')).code).toBe('BucketNotEmpty')
    expect(toS3Error(new ConflictError('precondition', 'k')).code).toBe('PreconditionFailed')
  })
  it('maps a blob that is missing or of the wrong size to 500 InternalError naming no blob (never 404 NoSuchKey)', () => {
    const id = 'ab'.repeat(16)
    for (const err of [
      new NotFoundError('blob', id),
      new IntegrityError('blob-missing', id),
      new IntegrityError('blob-size', id),
    ]) {
      const e = toS3Error(err)
      expect([e.status, e.code], err.message).toEqual([500, 'InternalError'])
      expect(JSON.stringify(e.fields) + e.message).not.toContain(id)
    }
  })
  it('maps a compare-and-swap that kept losing (ConflictError concurrent-change) to 409 OperationAborted', () => {
    const e = toS3Error(new ConflictError('concurrent-change', 'b'))
    expect([e.status, e.code]).toEqual([409, 'OperationAborted'])
  })
  it('never puts the cause of an internal error in the message', () => {
    const e = toS3Error(new Error('secret detail'))
    expect(e.message).not.toContain('secret detail')
  })
})
