/** @module Unit: which commit failures of a conditional write answer 409 ConditionalRequestConflict. */
import { describe, expect, it } from 'vitest'
import { S3Error } from '../../../server/s3/errors.js'
import { conditionalConflict } from '../../../server/s3/ops/object-put.js'
import { ConflictError, NotFoundError } from '../../../storage/errors.js'

describe('conditionalConflict', () => {
  it('an If-Match write whose object vanished before the commit is 409 ConditionalRequestConflict', () => {
    const err = conditionalConflict(new NotFoundError('object', 'k'), { etag: 'abc' })
    expect(err).toBeInstanceOf(S3Error)
    expect([(err as S3Error).code, (err as S3Error).status]).toEqual(['ConditionalRequestConflict', 409])
  })
  it('every other failure is returned as it is (a failed precondition stays 412 through toS3Error)', () => {
    const precondition = new ConflictError('precondition', 'k')
    expect(conditionalConflict(precondition, { etag: 'abc' })).toBe(precondition)
    const missing = new NotFoundError('object', 'k')
    expect(conditionalConflict(missing, { absent: true })).toBe(missing)
    expect(conditionalConflict(missing, undefined)).toBe(missing)
  })
})
