/**
 * @module Tests of presigned-URL verification: vector V2 and PRE-01…PRE-13 at the unit level (docs/s3-sse-rules.md
 * §2.8).
 */
import { describe, expect, it } from 'vitest'
import { canonicalRequest, sha256Hex } from '../../../lib/sigv4.js'
import { authenticate } from '../../../server/s3/auth/sigv4.js'
import { AKID, T0, deps, expectS3Error, presign, withHeaders, withQuery } from './signer.js'
import { V2, v2Request } from './vectors.js'

const AQPE = 'AuthorizationQueryParametersError'
const HOST = 'localhost:9000'
const seconds = (s: number) => new Date(T0.getTime() + s * 1000)

describe('authenticate (presigned URLs)', () => {
  it('PRE-01 verifier on vector V2 computes the canonical hash and signature', () => {
    const req = v2Request()
    const canonical = canonicalRequest({
      method: 'GET',
      path: req.path,
      query: req.query,
      omitQuery: 'X-Amz-Signature',
      headers: req.headers,
      signedHeaders: ['host'],
      payloadHash: 'UNSIGNED-PAYLOAD',
    })
    expect(sha256Hex(canonical)).toBe(V2.canonicalHash)
    const ctx = authenticate(req, deps())!
    expect(ctx).toMatchObject({
      mode: 'presigned',
      seedSignature: V2.signature,
      accessKeyId: AKID,
      payload: { kind: 'unsigned' },
    })
    // Valid until 86400 s after X-Amz-Date.
    expect(authenticate(v2Request(seconds(86399)), deps())).not.toBeNull()
  })

  it('PRE-02 X-Amz-Signature missing, others present: 400 AuthorizationQueryParametersError (requires …)', () => {
    const err = expectS3Error(
      () => authenticate(withQuery(v2Request(), { 'X-Amz-Signature': undefined }), deps()),
      AQPE,
      {
        message:
          'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
      },
    )
    expect(err.status).toBe(400)
    expectS3Error(() => authenticate(withQuery(v2Request(), { 'X-Amz-Expires': undefined }), deps()), AQPE)
  })

  it('PRE-03 a valid URL after expiry answers 403 AccessDenied Request has expired + X-Amz-Expires, Expires, ServerTime', () => {
    const err = expectS3Error(() => authenticate(v2Request(seconds(86401)), deps()), 'AccessDenied', {
      message: 'Request has expired',
      fields: { 'X-Amz-Expires': '86400', Expires: '2013-05-25T00:00:00Z', ServerTime: '2013-05-25T00:00:01Z' },
    })
    expect(err.status).toBe(403)
  })

  it('PRE-03 expiry is checked after the signature (a forged expired URL is SignatureDoesNotMatch)', () => {
    const forged = withQuery(v2Request(seconds(86401)), { 'X-Amz-Signature': '0'.repeat(64) })
    expectS3Error(() => authenticate(forged, deps()), 'SignatureDoesNotMatch', {
      fields: { CanonicalRequest: /UNSIGNED-PAYLOAD$/ },
    })
  })

  it('PRE-04 X-Amz-Expires=604801 answers 400 (less than a week) (contract-defined)', () => {
    expectS3Error(() => authenticate(withQuery(v2Request(), { 'X-Amz-Expires': '604801' }), deps()), AQPE, {
      message: 'X-Amz-Expires must be less than a week (in seconds) that is 604800',
    })
  })

  it('PRE-05 X-Amz-Expires=-1 answers 400 must be non-negative; "soon" answers should be a number (contract-defined)', () => {
    expectS3Error(() => authenticate(withQuery(v2Request(), { 'X-Amz-Expires': '-1' }), deps()), AQPE, {
      message: 'X-Amz-Expires must be non-negative',
    })
    expectS3Error(() => authenticate(withQuery(v2Request(), { 'X-Amz-Expires': 'soon' }), deps()), AQPE, {
      message: 'X-Amz-Expires should be a number',
    })
  })

  it('PRE-06 X-Amz-Expires=0 is always expired (inferred)', async () => {
    const req = await presign({ method: 'GET', host: HOST, path: '/b/k' }, { expiresIn: 0 })
    expectS3Error(() => authenticate(req, deps()), 'AccessDenied', {
      message: 'Request has expired',
      fields: { 'X-Amz-Expires': '0' },
    })
  })

  it('PRE-07 X-Amz-Date 20 minutes in the future answers 403 Request is not valid yet (contract-defined)', async () => {
    const req = await presign({ method: 'GET', host: HOST, path: '/b/k' }, { date: seconds(1200), now: T0 })
    expectS3Error(() => authenticate(req, deps()), 'AccessDenied', { message: 'Request is not valid yet' })
    const ok = await presign({ method: 'GET', host: HOST, path: '/b/k' }, { date: seconds(600), now: T0 })
    expect(authenticate(ok, deps())).not.toBeNull()
  })

  it('PRE-08 a malformed X-Amz-Credential answers 400 (the Credential is mal-formed)', () => {
    const msg =
      'Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
    expectS3Error(
      () => authenticate(withQuery(v2Request(), { 'X-Amz-Credential': `${AKID}/20130524/us-east-1/s3` }), deps()),
      AQPE,
      { message: msg },
    )
    expectS3Error(() => authenticate(withQuery(v2Request(), { 'X-Amz-Credential': 'garbage' }), deps()), AQPE, {
      message: msg,
    })
  })

  it("PRE-09 a wrong credential region answers 400 (the region 'X' is wrong; expecting 'Y') + Region", async () => {
    const req = await presign({ method: 'GET', host: HOST, path: '/b/k' }, { region: 'eu-west-1' })
    expectS3Error(() => authenticate(req, deps('us-east-1')), AQPE, {
      message: "Error parsing the X-Amz-Credential parameter; the region 'eu-west-1' is wrong; expecting 'us-east-1'",
      fields: { Region: 'us-east-1' },
    })
  })

  it('PRE-10 a presigned PUT with an unsigned x-amz-meta-x header answers 403 HeadersNotSigned', async () => {
    const req = await presign({ method: 'PUT', host: HOST, path: '/b/k' })
    const err = expectS3Error(() => authenticate(withHeaders(req, { 'x-amz-meta-x': 'y' }), deps()), 'AccessDenied', {
      message: 'There were headers present in the request which were not signed',
      fields: { HeadersNotSigned: 'x-amz-meta-x' },
    })
    expect(err.status).toBe(403)
  })

  it('PRE-10 a signed x-amz-meta header (kept as a header by the presigner) is accepted', async () => {
    const req = await presign(
      { method: 'PUT', host: HOST, path: '/b/k', headers: { 'x-amz-meta-x': 'y' } },
      { unhoistable: ['x-amz-meta-x'] },
    )
    expect(req.headers['x-amz-meta-x']).toBe('y')
    expect(authenticate(req, deps())?.signedHeaders).toContain('x-amz-meta-x')
  })

  it('PRE-11 a presigned PUT signed with content-type and sent with another answers SignatureDoesNotMatch + CanonicalRequest', async () => {
    const req = await presign({ method: 'PUT', host: HOST, path: '/b/k', headers: { 'content-type': 'text/plain' } })
    expect(authenticate(req, deps())).not.toBeNull()
    expectS3Error(
      () => authenticate(withHeaders(req, { 'content-type': 'image/png' }), deps()),
      'SignatureDoesNotMatch',
      {
        fields: { CanonicalRequest: /\ncontent-type:image\/png\n/ },
      },
    )
  })

  it('PRE-12 presigned GET and PUT of awkward keys verify (unit level)', async () => {
    for (const path of ['/b/a b+c', '/b/ünï//$x', '/b/%2B', "/b/!'()*"]) {
      for (const method of ['GET', 'PUT']) {
        const req = await presign({ method, host: HOST, path, query: { 'response-content-type': 'a b' } })
        expect(authenticate(req, deps()), `${method} ${path}`).not.toBeNull()
      }
    }
  })

  it('PRE-13 SSE-C headers sent with a presigned GET but not signed answer HeadersNotSigned', async () => {
    const req = await presign({ method: 'GET', host: HOST, path: '/b/k' })
    const withSse = withHeaders(req, {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key': 'MTIzNDU2Nzg5MGFiY2RlZjEyMzQ1Njc4OTBhYmNkZWY=',
      'x-amz-server-side-encryption-customer-key-md5': 'JMwgiexXqwuPqIPjYFmIZQ==',
    })
    expectS3Error(() => authenticate(withSse, deps()), 'AccessDenied', {
      fields: {
        HeadersNotSigned:
          'x-amz-server-side-encryption-customer-algorithm, x-amz-server-side-encryption-customer-key, x-amz-server-side-encryption-customer-key-md5',
      },
    })
  })

  it('query auth: wrong algorithm, bad X-Amz-Date, session token, SigV4a (contract-defined)', () => {
    expectS3Error(() => authenticate(withQuery(v2Request(), { 'X-Amz-Algorithm': 'AWS4-HMAC-SHA1' }), deps()), AQPE, {
      message: 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
    })
    expectS3Error(() => authenticate(withQuery(v2Request(), { 'X-Amz-Date': '2013-05-24T00:00:00Z' }), deps()), AQPE, {
      message: `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`,
    })
    expectS3Error(() => authenticate(withQuery(v2Request(), { 'X-Amz-Security-Token': 'tok' }), deps()), 'InvalidToken')
    expectS3Error(
      () => authenticate(withQuery(v2Request(), { 'X-Amz-Algorithm': 'AWS4-ECDSA-P256-SHA256' }), deps()),
      'NotImplemented',
    )
    expectS3Error(
      () =>
        authenticate(withQuery(v2Request(), { 'X-Amz-Credential': `NOPE/20130524/us-east-1/s3/aws4_request` }), deps()),
      'InvalidAccessKeyId',
      {
        fields: { AWSAccessKeyId: 'NOPE' },
      },
    )
  })
})
