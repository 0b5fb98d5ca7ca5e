/**
 * @module Tests of header-auth verification: vector V1 and AUTH-01…AUTH-27 at the unit level (docs/s3-sse-rules.md
 * §2.10).
 */
import { createHash, createHmac } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalRequest, sha256Hex } from '../../../lib/sigv4.js'
import { authenticate } from '../../../server/s3/auth/sigv4.js'
import { AKID, EMPTY, SECRET, T0, deps, expectS3Error, signHeader, withHeaders, withQuery } from './signer.js'
import { V1, v1Request } from './vectors.js'

const MALFORMED = 'The authorization header is malformed; '
const HOST = 'examplebucket.s3.amazonaws.com'
const minutes = (m: number) => new Date(T0.getTime() + m * 60_000)

describe('authenticate (header auth)', () => {
  it('AUTH-01 verifier on vector V1 computes the canonical hash and signature', () => {
    const req = v1Request()
    const canonical = canonicalRequest({
      method: 'GET',
      path: req.path,
      query: [],
      headers: req.headers,
      signedHeaders: ['host', 'range', 'x-amz-content-sha256', 'x-amz-date'],
      payloadHash: EMPTY,
    })
    expect(sha256Hex(canonical)).toBe(V1.canonicalHash)
    const ctx = authenticate(req, deps())!
    expect(ctx.seedSignature).toBe(V1.signature)
    expect(ctx).toMatchObject({
      accessKeyId: AKID,
      accountId: '111122223333',
      mode: 'header',
      payload: { kind: 'sha256', hex: EMPTY },
    })
    expect(ctx.scope).toBe('20130524/us-east-1/s3/aws4_request')
  })

  it('AUTH-02 Authorization with and without a space after each comma is accepted', () => {
    expect(authenticate(v1Request(','), deps())).not.toBeNull()
    expect(authenticate(v1Request(', '), deps())).not.toBeNull()
    expect(authenticate(v1Request(' ,  '), deps())).not.toBeNull()
  })

  it('AUTH-03 a wrong signature answers 403 SignatureDoesNotMatch with the six AWS elements', () => {
    const wrong = 'f'.repeat(64)
    const err = expectS3Error(() => authenticate(v1Request(',', wrong), deps()), 'SignatureDoesNotMatch', {
      message:
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      fields: { AWSAccessKeyId: AKID, SignatureProvided: wrong },
    })
    expect(err.status).toBe(403)
    expect(err.fields.map(([n]) => n)).toEqual([
      'AWSAccessKeyId',
      'StringToSign',
      'SignatureProvided',
      'StringToSignBytes',
      'CanonicalRequest',
      'CanonicalRequestBytes',
    ])
    const f = Object.fromEntries(err.fields) as Record<string, string>
    expect(f.StringToSign).toBe(
      `AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n${V1.canonicalHash}`,
    )
    expect(sha256Hex(f.CanonicalRequest)).toBe(V1.canonicalHash)
    expect(f.StringToSignBytes.startsWith('41 57 53 34 2d')).toBe(true)
    expect(Buffer.from(f.CanonicalRequestBytes.split(' ').join(''), 'hex').toString()).toBe(f.CanonicalRequest)
  })

  it('AUTH-03 a signature of the wrong length or case is a mismatch, not a crash', () => {
    expectS3Error(() => authenticate(v1Request(',', 'abc'), deps()), 'SignatureDoesNotMatch')
    expectS3Error(() => authenticate(v1Request(',', V1.signature.toUpperCase()), deps()), 'SignatureDoesNotMatch')
  })

  it('AUTH-04 an unknown access key answers 403 InvalidAccessKeyId with AWSAccessKeyId', () => {
    const req = v1Request()
    req.headers.authorization = req.headers.authorization.replace(AKID, 'AKIDUNKNOWN')
    const err = expectS3Error(() => authenticate(req, deps()), 'InvalidAccessKeyId', {
      message: 'The AWS Access Key Id you provided does not exist in our records.',
      fields: { AWSAccessKeyId: 'AKIDUNKNOWN' },
    })
    expect(err.status).toBe(403)
  })

  it('AUTH-05 Authorization lacking SignedHeaders (or repeating a component) is AuthorizationHeaderMalformed', () => {
    const msg = `${MALFORMED}the authorization header requires three components: Credential, SignedHeaders, and Signature.`
    const noSigned = withHeaders(v1Request(), {
      authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws4_request, Signature=${V1.signature}`,
    })
    expectS3Error(() => authenticate(noSigned, deps()), 'AuthorizationHeaderMalformed', { message: msg })
    const twice = withHeaders(v1Request(), {
      authorization: v1Request().headers.authorization + `,Signature=${V1.signature}`,
    })
    expectS3Error(() => authenticate(twice, deps()), 'AuthorizationHeaderMalformed', { message: msg })
    expectS3Error(
      () => authenticate(withHeaders(v1Request(), { authorization: 'AWS4-HMAC-SHA256' }), deps()),
      'AuthorizationHeaderMalformed',
      { message: msg },
    )
  })

  it('AUTH-06 a Credential with 4 parts is AuthorizationHeaderMalformed (Credential is mal-formed)', () => {
    const req = withHeaders(v1Request(), {
      authorization: v1Request().headers.authorization.replace('/us-east-1/s3/', '/us-east-1/'),
    })
    expectS3Error(() => authenticate(req, deps()), 'AuthorizationHeaderMalformed', {
      message: `${MALFORMED}the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`,
    })
  })

  it('AUTH-07 an empty access key is AuthorizationHeaderMalformed (non-empty Access Key)', () => {
    const req = withHeaders(v1Request(), {
      authorization: v1Request().headers.authorization.replace(`Credential=${AKID}/`, 'Credential=/'),
    })
    expectS3Error(() => authenticate(req, deps()), 'AuthorizationHeaderMalformed', {
      message: `${MALFORMED}a non-empty Access Key (AKID) must be provided in the credential.`,
    })
  })

  it("AUTH-08 scope region us-west-2 for a us-east-1 bucket: the region 'us-west-2' is wrong + Region", async () => {
    const req = await signHeader({ method: 'GET', host: HOST, path: '/k' }, { region: 'us-west-2' })
    const err = expectS3Error(() => authenticate(req, deps('us-east-1')), 'AuthorizationHeaderMalformed', {
      message: `${MALFORMED}the region 'us-west-2' is wrong; expecting 'us-east-1'`,
      fields: { Region: 'us-east-1' },
    })
    expect(err.status).toBe(400)
  })

  it('AUTH-09 scope date other than the x-amz-date date is AuthorizationHeaderMalformed (contract-defined)', () => {
    const req = withHeaders(v1Request(), {
      authorization: v1Request().headers.authorization.replace('/20130524/', '/20130523/'),
    })
    expectS3Error(() => authenticate(req, deps()), 'AuthorizationHeaderMalformed', {
      message: `${MALFORMED}Invalid credential date. Date is not the same as X-Amz-Date.`,
    })
  })

  it('AUTH-10 scope service ec2 is AuthorizationHeaderMalformed (contract-defined)', async () => {
    const req = await signHeader({ method: 'GET', host: HOST, path: '/k' }, { service: 'ec2' })
    expectS3Error(() => authenticate(req, deps()), 'AuthorizationHeaderMalformed', {
      message: `${MALFORMED}incorrect service "ec2". This endpoint belongs to "s3".`,
    })
    const term = withHeaders(v1Request(), {
      authorization: v1Request().headers.authorization.replace('/aws4_request', '/aws5_request'),
    })
    expectS3Error(() => authenticate(term, deps()), 'AuthorizationHeaderMalformed', {
      message: `${MALFORMED}incorrect terminal "aws5_request". This endpoint uses "aws4_request".`,
    })
  })

  it('AUTH-11 no x-amz-date and no Date answers 403 AccessDenied', () => {
    const msg = 'AWS authentication requires a valid Date or x-amz-date header'
    expectS3Error(() => authenticate(withHeaders(v1Request(), { 'x-amz-date': undefined }), deps()), 'AccessDenied', {
      message: msg,
    })
    const rfcDate = withHeaders(v1Request(), { 'x-amz-date': undefined, date: 'Fri, 24 May 2013 00:00:00 GMT' })
    expectS3Error(() => authenticate(rfcDate, deps()), 'AccessDenied', { message: msg })
    expectS3Error(
      () => authenticate(withHeaders(v1Request(), { 'x-amz-date': '20130532T000000Z' }), deps()),
      'AccessDenied',
      { message: msg },
    )
  })

  it('AUTH-11 a Date header in the basic format is used when x-amz-date is absent', () => {
    // Signed by hand with node:crypto, independently of the code under test.
    const canonical = `GET\n/k\n\ndate:20130524T000000Z\nhost:${HOST}\nx-amz-content-sha256:${EMPTY}\n\ndate;host;x-amz-content-sha256\n${EMPTY}`
    const sts = `AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n${createHash('sha256').update(canonical).digest('hex')}`
    let key: Buffer = createHmac('sha256', 'AWS4' + SECRET)
      .update('20130524')
      .digest()
    for (const part of ['us-east-1', 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest()
    const signature = createHmac('sha256', key).update(sts).digest('hex')
    const req = {
      method: 'GET',
      path: '/k',
      query: [] as Array<[string, string]>,
      headers: {
        host: HOST,
        date: '20130524T000000Z',
        'x-amz-content-sha256': EMPTY,
        authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws4_request, SignedHeaders=date;host;x-amz-content-sha256, Signature=${signature}`,
      },
      now: T0,
    }
    expect(authenticate(req, deps())?.amzDate).toBe('20130524T000000Z')
  })

  it('AUTH-12 x-amz-date 16 minutes in the past or future answers 403 RequestTimeTooSkewed', async () => {
    for (const off of [-16, 16]) {
      const req = await signHeader({ method: 'GET', host: HOST, path: '/k' }, { date: T0, now: minutes(-off) })
      const err = expectS3Error(() => authenticate(req, deps()), 'RequestTimeTooSkewed', {
        message: 'The difference between the request time and the current time is too large.',
        fields: {
          RequestTime: '20130524T000000Z',
          ServerTime: minutes(-off).toISOString().replace('.000Z', 'Z'),
          MaxAllowedSkewMilliseconds: '900000',
        },
      })
      expect(err.status).toBe(403)
    }
  })

  it('AUTH-13 x-amz-date 14 minutes off is accepted', async () => {
    for (const off of [-14, 14]) {
      const req = await signHeader({ method: 'GET', host: HOST, path: '/k' }, { date: T0, now: minutes(off) })
      expect(authenticate(req, deps())?.accessKeyId).toBe(AKID)
    }
  })

  it('AUTH-14 header auth without x-amz-content-sha256 answers 400 InvalidRequest', () => {
    const req = withHeaders(v1Request(), { 'x-amz-content-sha256': undefined })
    expectS3Error(() => authenticate(req, deps()), 'InvalidRequest', {
      message: 'Missing required header for this request: x-amz-content-sha256',
    })
  })

  it('AUTH-15 x-amz-content-sha256: abc answers 400 InvalidArgument naming the header', () => {
    const req = withHeaders(v1Request(), { 'x-amz-content-sha256': 'abc' })
    expectS3Error(() => authenticate(req, deps()), 'InvalidArgument', {
      message:
        /^x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, .* or a valid sha256 value\.$/,
      fields: { ArgumentName: 'x-amz-content-sha256', ArgumentValue: 'abc' },
    })
  })

  it('AUTH-17 an UNSIGNED-PAYLOAD PUT is accepted with payload mode unsigned', async () => {
    const req = await signHeader(
      { method: 'PUT', host: HOST, path: '/b/k', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
      { body: 'x' },
    )
    expect(authenticate(req, deps())?.payload).toEqual({ kind: 'unsigned' })
  })

  it('AUTH-18 x-amz-meta-a sent but not signed answers 403 AccessDenied + HeadersNotSigned', async () => {
    const req = await signHeader({ method: 'PUT', host: HOST, path: '/b/k' })
    const err = expectS3Error(() => authenticate(withHeaders(req, { 'x-amz-meta-a': '1' }), deps()), 'AccessDenied', {
      message: 'There were headers present in the request which were not signed',
      fields: { HeadersNotSigned: 'x-amz-meta-a' },
    })
    expect(err.status).toBe(403)
    const two = withHeaders(req, { 'x-amz-meta-a': '1', 'x-amz-acl': 'private' })
    expectS3Error(() => authenticate(two, deps()), 'AccessDenied', {
      fields: { HeadersNotSigned: 'x-amz-acl, x-amz-meta-a' },
    })
  })

  it('AUTH-18 host not signed answers AccessDenied + HeadersNotSigned host', () => {
    const req = withHeaders(v1Request(), {
      authorization: v1Request().headers.authorization.replace('SignedHeaders=host;', 'SignedHeaders='),
    })
    expectS3Error(() => authenticate(req, deps()), 'AccessDenied', { fields: { HeadersNotSigned: 'host' } })
  })

  it('AUTH-19 x-amz-content-sha256 present but not signed is accepted', async () => {
    const req = await signHeader(
      { method: 'PUT', host: HOST, path: '/b/k', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
      { unsignable: ['x-amz-content-sha256'] },
    )
    expect(req.headers.authorization).not.toContain('x-amz-content-sha256')
    expect(authenticate(req, deps())?.signedHeaders).not.toContain('x-amz-content-sha256')
  })

  it('AUTH-20 a request without Authorization header or query auth is anonymous (null)', () => {
    const req = withHeaders(v1Request(), { authorization: undefined })
    expect(authenticate(req, deps())).toBeNull()
    expect(authenticate(withQuery(req, { 'list-type': '2', prefix: 'X-Amz-' }), deps())).toBeNull()
  })

  it('AUTH-21 with --sigv4-only, Authorization: AWS AKID:sig answers 400 InvalidRequest (use AWS4-HMAC-SHA256)', () => {
    const strict = { ...deps(), sigv4Only: true }
    const err = expectS3Error(
      () =>
        authenticate(withHeaders(v1Request(), { authorization: `AWS ${AKID}:frJIUN8DYpKDtOLCwo//yllqDzg=` }), strict),
      'InvalidRequest',
      {
        message: 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
      },
    )
    expect(err.status).toBe(400)
    const v2query = withQuery(withHeaders(v1Request(), { authorization: undefined }), {
      AWSAccessKeyId: AKID,
      Signature: 'x',
      Expires: '1',
    })
    expectS3Error(() => authenticate(v2query, strict), 'InvalidRequest', { message: /Please use AWS4-HMAC-SHA256\.$/ })
    // By default SigV2 is verified (auth/sigv2.ts): a bad signature is then SignatureDoesNotMatch.
    expectS3Error(
      () =>
        authenticate(withHeaders(v1Request(), { authorization: `AWS ${AKID}:frJIUN8DYpKDtOLCwo//yllqDzg=` }), deps()),
      'SignatureDoesNotMatch',
    )
  })

  it('AUTH-21 any other scheme answers 400 InvalidArgument Unsupported Authorization Type (contract-defined)', () => {
    expectS3Error(
      () => authenticate(withHeaders(v1Request(), { authorization: 'Bearer abc' }), deps()),
      'InvalidArgument',
      {
        message: 'Unsupported Authorization Type',
        fields: { ArgumentName: 'Authorization', ArgumentValue: 'Bearer abc' },
      },
    )
  })

  it('AUTH-22 Authorization header and X-Amz-Algorithm query together answer 400 InvalidArgument (contract-defined)', () => {
    const req = withQuery(v1Request(), { 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256' })
    expectS3Error(() => authenticate(req, deps()), 'InvalidArgument', {
      message:
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      fields: { ArgumentName: 'Authorization' },
    })
  })

  it('AUTH-23 key test$file.text signed as /test%24file.text is accepted (single encoding)', async () => {
    const req = await signHeader({ method: 'GET', host: 'localhost', path: '/bucket/test$file.text' })
    expect(req.path).toBe('/bucket/test$file.text')
    expect(authenticate(req, deps())).not.toBeNull()
  })

  it('AUTH-24 sub-resources without value (?location, ?uploads) signed as name= are accepted', async () => {
    for (const name of ['location', 'uploads', 'acl']) {
      const req = await signHeader({ method: 'GET', host: 'localhost', path: '/bucket', query: { [name]: '' } })
      expect(req.query).toEqual([[name, '']])
      expect(authenticate(req, deps())).not.toBeNull()
    }
  })

  it('AUTH-25 Host localhost:9000 signed with the port is accepted; another port is not', async () => {
    const req = await signHeader({ method: 'GET', host: 'localhost:9000', path: '/bucket/k' })
    expect(authenticate(req, deps())).not.toBeNull()
    expectS3Error(() => authenticate(withHeaders(req, { host: 'localhost:9001' }), deps()), 'SignatureDoesNotMatch')
  })

  it('AUTH-26 x-amz-security-token present answers 403 InvalidToken (contract-defined)', async () => {
    const req = await signHeader({ method: 'GET', host: HOST, path: '/k' }, { sessionToken: 'FQoGZXIvYXdzE' })
    expect(req.headers['x-amz-security-token']).toBe('FQoGZXIvYXdzE')
    const err = expectS3Error(() => authenticate(req, deps()), 'InvalidToken', {
      message: 'The provided token is malformed or otherwise invalid.',
    })
    expect(err.status).toBe(403)
  })

  it('AUTH-27 SigV4a (AWS4-ECDSA-P256-SHA256) answers 501 NotImplemented (contract-defined)', () => {
    const sigv4a = withHeaders(v1Request(), {
      authorization: v1Request().headers.authorization.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256'),
    })
    expect(expectS3Error(() => authenticate(sigv4a, deps()), 'NotImplemented').status).toBe(501)
    const streaming = withHeaders(v1Request(), { 'x-amz-content-sha256': 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD' })
    expectS3Error(() => authenticate(streaming, deps()), 'NotImplemented')
  })

  it('A-order: the first failing check answers (malformed credential before unknown key before skew)', async () => {
    const req = await signHeader({ method: 'GET', host: HOST, path: '/k' }, { date: T0, now: minutes(30) })
    const unknown = withHeaders(req, { authorization: req.headers.authorization.replace(AKID, 'NOPE') })
    expectS3Error(() => authenticate(unknown, deps()), 'InvalidAccessKeyId')
    expectS3Error(() => authenticate(req, deps()), 'RequestTimeTooSkewed')
    expectS3Error(() => authenticate(withHeaders(unknown, { 'x-amz-date': undefined }), deps()), 'AccessDenied')
  })

  it('AUTH-23 awkward keys (spaces, +, %, unicode, //, $, ./, ../) and query values verify', async () => {
    const keys = [
      '/b/a b+c',
      '/b/100%',
      '/b/ünï/çødé 日本',
      '/b//double//slash',
      '/b/$x&y=z?',
      '/b/./a/../b',
      "/b/!'()*~",
      '/b/😀',
      '/b/',
    ]
    for (const path of keys) {
      const req = await signHeader({
        method: 'PUT',
        host: 'localhost:9000',
        path,
        query: { 'x-id': 'PutObject', p: 'a b+c/%é' },
      })
      expect(authenticate(req, deps()), path).not.toBeNull()
    }
  })

  it('AUTH-23 any key and query value signed by an independent signer verifies (property)', async () => {
    const segment = fc.string({ unit: 'grapheme', maxLength: 12 })
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        fc.string({ unit: 'grapheme', maxLength: 10 }),
        async (segs, q) => {
          const path = '/bucket/' + segs.join('/')
          const req = await signHeader({
            method: 'GET',
            host: 'localhost',
            path,
            query: { prefix: q, 'max-keys': '5' },
          })
          expect(authenticate(req, deps())).not.toBeNull()
        },
      ),
      { numRuns: 150 },
    )
  })

  it('non-ASCII header values verify whether the client signed the text (JS, Python) or the raw bytes (Go, Java)', async () => {
    // JS SDK style: signs the UTF-8 of 'café', sends latin1 byte E9, Node decodes it back to 'café'.
    const js = await signHeader({ method: 'PUT', host: HOST, path: '/b/k', headers: { 'x-amz-meta-a': 'café' } })
    expect(authenticate(js, deps())).not.toBeNull()
    // Raw-bytes style: signs and sends the UTF-8 bytes 63 61 66 C3 A9; Node hands over 'cafÃ©'.
    const wire = Buffer.from('café', 'utf8').toString('latin1')
    const canonical = Buffer.concat([
      Buffer.from(
        `PUT\n/b/k\n\nhost:${HOST}\nx-amz-content-sha256:${EMPTY}\nx-amz-date:20130524T000000Z\nx-amz-meta-a:`,
      ),
      Buffer.from('café', 'utf8'),
      Buffer.from(`\n\nhost;x-amz-content-sha256;x-amz-date;x-amz-meta-a\n${EMPTY}`),
    ])
    const sts = `AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n${createHash('sha256').update(canonical).digest('hex')}`
    let key: Buffer = createHmac('sha256', 'AWS4' + SECRET)
      .update('20130524')
      .digest()
    for (const part of ['us-east-1', 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest()
    const signature = createHmac('sha256', key).update(sts).digest('hex')
    const raw = {
      method: 'PUT',
      path: '/b/k',
      query: [] as Array<[string, string]>,
      headers: {
        host: HOST,
        'x-amz-content-sha256': EMPTY,
        'x-amz-date': '20130524T000000Z',
        'x-amz-meta-a': wire,
        authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-meta-a,Signature=${signature}`,
      },
      now: T0,
    }
    expect(authenticate(raw, deps())?.seedSignature).toBe(signature)
    expectS3Error(() => authenticate(withHeaders(raw, { 'x-amz-meta-a': 'cafe' }), deps()), 'SignatureDoesNotMatch')
  })

  it('repeated headers joined with "," and values with inner spaces are canonicalized as signed', async () => {
    const req = await signHeader({
      method: 'PUT',
      host: 'localhost',
      path: '/b/k',
      headers: { 'x-amz-meta-list': 'a,b', 'x-amz-meta-sp': '  x   y  ' },
    })
    expect(authenticate(req, deps())).not.toBeNull()
  })
})
