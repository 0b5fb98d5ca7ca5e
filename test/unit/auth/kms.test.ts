/**
 * @module Tests of SigV4 for the KMS JSON API (service kms, body-hashed payload) and its fault mapping
 * (docs/s3-sse-rules.md §6.1).
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { authenticateKms, kmsAuthFault } from '../../../server/s3/auth/kms.js'
import { S3Error } from '../../../server/s3/errors.js'
import { T0, deps, signHeader, withHeaders } from './signer.js'

const BODY = '{"KeyId":"alias/test"}'

/** Signed as KMS clients sign: service kms, payload hashed from the body, no x-amz-content-sha256 header. */
async function kmsRequest(opts: { service?: string; now?: Date } = {}) {
  const r = {
    method: 'POST',
    host: 'localhost:9000',
    path: '/',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.DescribeKey' },
  }
  return signHeader(r, { service: opts.service ?? 'kms', body: BODY, now: opts.now, applyChecksum: false })
}

function caught(fn: () => unknown): S3Error {
  try {
    fn()
  } catch (err) {
    return err as S3Error
  }
  throw new Error('did not throw')
}

describe('authenticateKms (service kms, §6.1)', () => {
  it('verifies a request signed for kms with the payload hash computed from the body', async () => {
    const req = await kmsRequest()
    expect(req.headers['x-amz-content-sha256']).toBeUndefined()
    const ctx = authenticateKms(req, { ...deps(), maxSkewSeconds: 300 }, Buffer.from(BODY))
    expect(ctx?.scope).toBe('20130524/us-east-1/kms/aws4_request')
    expect(ctx?.payload.kind).toBe('sha256')
    expect(authenticateKms(req, deps(), { sha256Hex: createHash('sha256').update(BODY).digest('hex') })).not.toBeNull()
  })

  it('a body other than the signed one is InvalidSignatureException', async () => {
    const req = await kmsRequest()
    const err = caught(() => authenticateKms(req, deps(), '{"KeyId":"other"}'))
    expect(kmsAuthFault(err)).toMatchObject({ status: 400, type: 'InvalidSignatureException' })
  })

  it('no Authorization header → MissingAuthenticationTokenException', async () => {
    const req = withHeaders(await kmsRequest(), { authorization: undefined })
    expect(authenticateKms(req, deps(), BODY)).toBeNull()
    expect(kmsAuthFault(null)).toEqual({
      status: 400,
      type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    })
  })

  it('scope service s3 → InvalidSignatureException "Credential should be scoped to correct service"', async () => {
    const req = await kmsRequest({ service: 's3' })
    const fault = kmsAuthFault(caught(() => authenticateKms(req, deps(), BODY)))
    expect(fault).toEqual({
      status: 400,
      type: 'InvalidSignatureException',
      message: "Credential should be scoped to correct service: 'kms'. ",
    })
  })

  it('unknown key → UnrecognizedClientException; 6 minutes skew → Signature expired', async () => {
    const req = await kmsRequest()
    const unknown = withHeaders(req, {
      authorization: req.headers.authorization.replace('AKIAIOSFODNN7EXAMPLE', 'NOPE'),
    })
    expect(kmsAuthFault(caught(() => authenticateKms(unknown, deps(), BODY))).type).toBe('UnrecognizedClientException')
    const late = { ...req, now: new Date(T0.getTime() + 6 * 60_000) }
    const fault = kmsAuthFault(caught(() => authenticateKms(late, { ...deps(), maxSkewSeconds: 300 }, BODY)))
    expect(fault.message).toBe(
      'Signature expired: 20130524T000000Z is now earlier than 20130524T000100Z (20130524T000600Z - 5 min.)',
    )
  })
})
