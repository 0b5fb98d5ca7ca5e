/**
 * @module E2E: header-auth SigV4 failures, error framing and common headers, and absurd requests,
 * all over raw HTTP (docs/s3-sse-rules.md §1.2, §1.3, §2.4–§2.10, §8.1 HDR/ERR, §8.2 AUTH).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectRawError } from '../support/expect-s3.js'
import {
  parseXml,
  requestHead,
  send,
  sendBytes,
  sha256Hex,
  signRequest,
  signedSend,
  type RawRequest,
  type RawResponse,
} from '../support/raw-s3.js'
import { startTestServer, type TestServer } from '../support/server.js'

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/'
const MALFORMED = 'The authorization header is malformed; '
const MINUTE = 60_000

function expectCommonHeaders(res: RawResponse): void {
  expect(res.headers['x-amz-request-id']).toMatch(/^[0-9A-Z]{16}$/)
  expect(res.headers['x-amz-id-2']).toMatch(/^\S{20,}$/)
  expect(res.headers.server).toBe('AmazonS3')
  expect(new Date(res.headers.date!).toUTCString()).toBe(res.headers.date)
}

describe('authentication and error framing', () => {
  let srv: TestServer
  const bucket = 'auth'
  const sign = (req: RawRequest, opts?: Parameters<typeof signRequest>[2]) => signRequest(srv.port, req, opts)
  /** Signs, lets `edit` change the signed request, sends. */
  const tamper = async (
    req: RawRequest,
    edit: (h: Record<string, string>) => void,
    opts?: Parameters<typeof signRequest>[2],
  ) => {
    const signed = await sign(req, opts)
    const headers = { ...signed.headers! }
    edit(headers)
    return send(srv.port, { ...signed, headers })
  }
  const getObj = (key = 'obj'): RawRequest => ({ method: 'GET', path: `/${bucket}/${key}` })

  beforeAll(async () => {
    srv = await startTestServer()
    expect((await signedSend(srv.port, { method: 'PUT', path: `/${bucket}` })).status).toBe(200)
    expect((await signedSend(srv.port, { method: 'PUT', path: `/${bucket}/obj`, body: 'secret' })).status).toBe(200)
  })
  afterAll(async () => {
    await srv?.close()
  })

  describe('common framing', () => {
    it('HDR-01 every answer carries x-amz-request-id (16 × [0-9A-Z]), x-amz-id-2, Date and Server: AmazonS3', async () => {
      const answers = [
        await signedSend(srv.port, getObj()),
        await signedSend(srv.port, getObj('missing')),
        await signedSend(srv.port, { method: 'HEAD', path: `/${bucket}/missing` }),
        await signedSend(srv.port, { method: 'DELETE', path: `/${bucket}/never` }),
        await send(srv.port, getObj()),
        await signedSend(srv.port, { ...getObj(), headers: { 'if-none-match': '*' } }),
      ]
      expect(answers.map((a) => a.status)).toEqual([200, 404, 404, 204, 403, 304])
      for (const a of answers) expectCommonHeaders(a)
      expect(new Set(answers.map((a) => a.headers['x-amz-request-id'])).size).toBe(answers.length)
    })

    it('HDR-02 XML success bodies start with the XML prolog and put the root element in the S3 namespace', async () => {
      const docs = [
        await signedSend(srv.port, { method: 'GET', path: '/' }),
        await signedSend(srv.port, { method: 'GET', path: `/${bucket}`, query: { 'list-type': '2' } }),
        await signedSend(srv.port, { method: 'GET', path: `/${bucket}` }),
        await signedSend(srv.port, { method: 'GET', path: `/${bucket}`, query: { location: '' } }),
        await signedSend(srv.port, { method: 'POST', path: `/${bucket}/mp`, query: { uploads: '' } }),
        await signedSend(srv.port, { method: 'GET', path: `/${bucket}`, query: { uploads: '' } }),
      ]
      for (const d of docs) {
        expect(d.status).toBe(200)
        expect(d.headers['content-type']).toBe('application/xml')
        expect(d.text.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true)
        const doc = parseXml(d.text)
        const root = Object.keys(doc).find((k) => k !== '?xml')!
        expect(doc[root]['@_xmlns'], root).toBe(NS)
      }
    })

    it('ERR-01 an error body is <Error> with Code, Message, the specific elements, then RequestId = x-amz-request-id and HostId = x-amz-id-2', async () => {
      const res = await signedSend(srv.port, getObj('no/such'))
      expectCommonHeaders(res)
      expectRawError(res, {
        status: 404,
        code: 'NoSuchKey',
        message: 'The specified key does not exist.',
        fields: { Key: 'no/such' },
      })
      expect(
        res.text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<Error>') ||
          res.text.startsWith('<?xml version="1.0" encoding="UTF-8"?><Error>'),
      ).toBe(true)
      expect(res.text).toMatch(
        /<Error><Code>NoSuchKey<\/Code><Message>[^<]*<\/Message><Key>no\/such<\/Key><RequestId>[0-9A-Z]{16}<\/RequestId><HostId>[^<]+<\/HostId><\/Error>$/,
      )
      // Errors never carry SSE headers (SSE-14).
      expect(res.headers['x-amz-server-side-encryption']).toBeUndefined()
    })

    it('ERR-02 a failing HEAD answers the status only, with an empty body', async () => {
      for (const [req, status] of [
        [{ method: 'HEAD', path: `/${bucket}/missing` }, 404],
        [{ method: 'HEAD', path: '/no-such-bucket-head' }, 404],
        [{ method: 'HEAD', path: `/${bucket}/obj`, headers: { 'if-match': '"x"' } }, 412],
      ] as const) {
        const res = await signedSend(srv.port, req)
        expect(res.status).toBe(status)
        expect(res.body.length).toBe(0)
        expectCommonHeaders(res)
      }
      const badSig = await signedSend(
        srv.port,
        { method: 'HEAD', path: `/${bucket}/obj` },
        { secretAccessKey: 'wrong' },
      )
      expect([badSig.status, badSig.body.length]).toEqual([403, 0])
      const anon = await send(srv.port, { method: 'HEAD', path: `/${bucket}/obj` })
      expect([anon.status, anon.body.length]).toEqual([403, 0])
    })

    it('ERR-03 a 304 has no body and carries ETag and Last-Modified', async () => {
      const res = await signedSend(srv.port, { ...getObj(), headers: { 'if-none-match': '*' } })
      expect(res.status).toBe(304)
      expect(res.body.length).toBe(0)
      expect(res.headers.etag).toMatch(/^"[0-9a-f]{32}"$/)
      expect(res.headers['last-modified']).toMatch(/GMT$/)
    })

    it('ERR-04 a bad signature on a missing bucket answers 403 (authentication first), not 404 (inferred)', async () => {
      const res = await signedSend(
        srv.port,
        { method: 'GET', path: '/no-such-bucket-err04/key' },
        { secretAccessKey: 'wrong' },
      )
      expectRawError(res, { status: 403, code: 'SignatureDoesNotMatch' })
      const anon = await send(srv.port, { method: 'GET', path: '/no-such-bucket-err04/key' })
      expectRawError(anon, { status: 403, code: 'AccessDenied' })
    })
  })

  describe('header authentication', () => {
    it('AUTH-03 a wrong signature answers 403 SignatureDoesNotMatch with AWSAccessKeyId, StringToSign, SignatureProvided, StringToSignBytes, CanonicalRequest, CanonicalRequestBytes', async () => {
      const signed = await sign(getObj(), { secretAccessKey: 'not-the-secret' })
      const res = await send(srv.port, signed)
      const e = expectRawError(res, {
        status: 403,
        code: 'SignatureDoesNotMatch',
        message:
          'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
        fields: { AWSAccessKeyId: 'test' },
      })
      const provided = /Signature=([0-9a-f]{64})/.exec(signed.headers!.authorization)![1]
      expect(e.SignatureProvided).toBe(provided)
      expect(e.StringToSign).toMatch(
        /^AWS4-HMAC-SHA256\n\d{8}T\d{6}Z\n\d{8}\/us-east-1\/s3\/aws4_request\n[0-9a-f]{64}$/,
      )
      expect(e.CanonicalRequest.split('\n').slice(0, 2)).toEqual(['GET', `/${bucket}/obj`])
      expect(e.StringToSignBytes).toBe(
        Buffer.from(e.StringToSign)
          .toString('hex')
          .replace(/(..)(?!$)/g, '$1 '),
      )
      expect(e.CanonicalRequestBytes).toBe(
        Buffer.from(e.CanonicalRequest)
          .toString('hex')
          .replace(/(..)(?!$)/g, '$1 '),
      )
      // The canonical request hash in the string to sign is that of the canonical request shown.
      expect(e.StringToSign.split('\n')[3]).toBe(sha256Hex(e.CanonicalRequest))
    })

    it('AUTH-04 an unknown access key answers 403 InvalidAccessKeyId with AWSAccessKeyId', async () => {
      expectRawError(await signedSend(srv.port, getObj(), { accessKeyId: 'AKIANOTKNOWN' }), {
        status: 403,
        code: 'InvalidAccessKeyId',
        message: 'The AWS Access Key Id you provided does not exist in our records.',
        fields: { AWSAccessKeyId: 'AKIANOTKNOWN' },
      })
    })

    it('AUTH-05 an Authorization without SignedHeaders answers 400 AuthorizationHeaderMalformed (three components)', async () => {
      const res = await tamper(getObj(), (h) => {
        h.authorization = h.authorization.replace(/SignedHeaders=[^,]+,\s*/, '')
      })
      expectRawError(res, {
        status: 400,
        code: 'AuthorizationHeaderMalformed',
        message: `${MALFORMED}the authorization header requires three components: Credential, SignedHeaders, and Signature.`,
      })
    })

    it('AUTH-06 a Credential with 4 parts answers 400 AuthorizationHeaderMalformed (Credential is mal-formed)', async () => {
      const res = await tamper(getObj(), (h) => {
        h.authorization = h.authorization.replace('/s3/aws4_request', '/s3')
      })
      expectRawError(res, {
        status: 400,
        code: 'AuthorizationHeaderMalformed',
        message: `${MALFORMED}the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`,
      })
    })

    it('AUTH-07 an empty access key answers 400 AuthorizationHeaderMalformed (non-empty Access Key)', async () => {
      const res = await tamper(getObj(), (h) => {
        h.authorization = h.authorization.replace('Credential=test/', 'Credential=/')
      })
      expectRawError(res, {
        status: 400,
        code: 'AuthorizationHeaderMalformed',
        message: `${MALFORMED}a non-empty Access Key (AKID) must be provided in the credential.`,
      })
    })

    it('AUTH-08 scope region us-west-2 for a us-east-1 bucket answers 400 AuthorizationHeaderMalformed with Region', async () => {
      expectRawError(await signedSend(srv.port, getObj(), { region: 'us-west-2' }), {
        status: 400,
        code: 'AuthorizationHeaderMalformed',
        message: `${MALFORMED}the region 'us-west-2' is wrong; expecting 'us-east-1'`,
        fields: { Region: 'us-east-1' },
      })
    })

    it('AUTH-09 a scope date other than the x-amz-date date answers 400 AuthorizationHeaderMalformed (contract-defined, not AWS-verified)', async () => {
      const res = await tamper(getObj(), (h) => {
        h.authorization = h.authorization.replace(/Credential=test\/\d{8}\//, 'Credential=test/20200101/')
      })
      expectRawError(res, {
        status: 400,
        code: 'AuthorizationHeaderMalformed',
        message: `${MALFORMED}Invalid credential date. Date is not the same as X-Amz-Date.`,
      })
    })

    it('AUTH-10 scope service ec2 answers 400 AuthorizationHeaderMalformed (contract-defined, not AWS-verified)', async () => {
      expectRawError(await signedSend(srv.port, getObj(), { service: 'ec2' }), {
        status: 400,
        code: 'AuthorizationHeaderMalformed',
        message: `${MALFORMED}incorrect service "ec2". This endpoint belongs to "s3".`,
      })
    })

    it('AUTH-11 no x-amz-date and no Date answers 403 AccessDenied (requires a valid Date or x-amz-date)', async () => {
      const want = {
        status: 403,
        code: 'AccessDenied',
        message: 'AWS authentication requires a valid Date or x-amz-date header',
      }
      expectRawError(
        await tamper(getObj(), (h) => {
          delete h['x-amz-date']
        }),
        want,
      )
      expectRawError(
        await tamper(getObj(), (h) => {
          delete h['x-amz-date']
          h.date = new Date().toUTCString()
        }),
        want,
      )
      expectRawError(
        await tamper(getObj(), (h) => {
          h['x-amz-date'] = '99999999T999999Z'
        }),
        want,
      )
    })

    it.each([
      ['past', -16],
      ['future', 16],
    ])(
      'AUTH-12 x-amz-date 16 minutes in the %s answers 403 RequestTimeTooSkewed with RequestTime, ServerTime, MaxAllowedSkewMilliseconds',
      async (_when, minutes) => {
        const res = await signedSend(srv.port, getObj(), { date: new Date(Date.now() + minutes * MINUTE) })
        const e = expectRawError(res, {
          status: 403,
          code: 'RequestTimeTooSkewed',
          message: 'The difference between the request time and the current time is too large.',
          fields: { MaxAllowedSkewMilliseconds: '900000' },
        })
        expect(e.RequestTime).toMatch(/^\d{8}T\d{6}Z$/)
        expect(e.ServerTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/)
      },
    )

    it.each([-14, 14])('AUTH-13 x-amz-date %i minutes off is accepted', async (minutes) => {
      const res = await signedSend(srv.port, getObj(), { date: new Date(Date.now() + minutes * MINUTE) })
      expect([res.status, res.text]).toEqual([200, 'secret'])
    })

    it('AUTH-14 header auth without x-amz-content-sha256 answers 400 InvalidRequest (Missing required header)', async () => {
      expectRawError(
        await tamper(getObj(), (h) => {
          delete h['x-amz-content-sha256']
        }),
        {
          status: 400,
          code: 'InvalidRequest',
          message: 'Missing required header for this request: x-amz-content-sha256',
        },
      )
    })

    it('AUTH-15 x-amz-content-sha256: abc answers 400 InvalidArgument with ArgumentName and ArgumentValue', async () => {
      expectRawError(await signedSend(srv.port, getObj(), { payloadHash: 'abc' }), {
        status: 400,
        code: 'InvalidArgument',
        message:
          'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
        fields: { ArgumentName: 'x-amz-content-sha256', ArgumentValue: 'abc' },
      })
    })

    it('AUTH-16 a payload hash of another body answers 400 XAmzContentSHA256Mismatch and stores nothing', async () => {
      const claimed = sha256Hex('another body')
      const res = await signedSend(
        srv.port,
        { method: 'PUT', path: `/${bucket}/auth-16`, body: 'the real body' },
        { payloadHash: claimed },
      )
      expectRawError(res, {
        status: 400,
        code: 'XAmzContentSHA256Mismatch',
        message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
        fields: { ClientComputedContentSHA256: claimed, S3ComputedContentSHA256: sha256Hex('the real body') },
      })
      expect((await signedSend(srv.port, { method: 'HEAD', path: `/${bucket}/auth-16` })).status).toBe(404)
    })

    it('AUTH-17 an UNSIGNED-PAYLOAD PUT is accepted', async () => {
      const res = await signedSend(
        srv.port,
        { method: 'PUT', path: `/${bucket}/auth-17`, body: 'unsigned' },
        { payloadHash: 'UNSIGNED-PAYLOAD' },
      )
      expect(res.status).toBe(200)
    })

    it('AUTH-18 an x-amz-meta-a header that is not signed answers 403 AccessDenied with HeadersNotSigned (inferred)', async () => {
      const res = await signedSend(
        srv.port,
        { method: 'PUT', path: `/${bucket}/auth-18`, headers: { 'x-amz-meta-a': 'b' }, body: 'x' },
        { unsigned: ['x-amz-meta-a'] },
      )
      expectRawError(res, {
        status: 403,
        code: 'AccessDenied',
        message: 'There were headers present in the request which were not signed',
        fields: { HeadersNotSigned: 'x-amz-meta-a' },
      })
    })

    it('AUTH-20 an anonymous GET on a private bucket answers 403 AccessDenied Access Denied', async () => {
      expectRawError(await send(srv.port, getObj()), { status: 403, code: 'AccessDenied', message: 'Access Denied' })
      expectRawError(await send(srv.port, { method: 'GET', path: `/${bucket}` }), {
        status: 403,
        code: 'AccessDenied',
        message: 'Access Denied',
      })
      expectRawError(await send(srv.port, { method: 'PUT', path: `/${bucket}/anon`, body: 'x' }), {
        status: 403,
        code: 'AccessDenied',
      })
    })

    it('AUTH-21 Authorization: AWS AKID:sig (SigV2) is verified: a wrong signature answers 403 SignatureDoesNotMatch (--sigv4-only: test/e2e/sigv2.test.ts)', async () => {
      expectRawError(
        await send(srv.port, {
          ...getObj(),
          headers: { authorization: 'AWS test:c2lnbmF0dXJl', date: new Date().toUTCString() },
        }),
        {
          status: 403,
          code: 'SignatureDoesNotMatch',
          fields: { AWSAccessKeyId: 'test', SignatureProvided: 'c2lnbmF0dXJl' },
        },
      )
    })

    it('AUTH-22 an Authorization header together with X-Amz-Algorithm answers 400 InvalidArgument (contract-defined, not AWS-verified)', async () => {
      const signed = await sign({ ...getObj(), query: { 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256' } })
      expectRawError(await send(srv.port, signed), {
        status: 400,
        code: 'InvalidArgument',
        fields: { ArgumentName: 'Authorization' },
      })
    })

    it('an unknown Authorization scheme answers 400 InvalidArgument Unsupported Authorization Type (contract-defined, not AWS-verified)', async () => {
      expectRawError(await send(srv.port, { ...getObj(), headers: { authorization: 'Bearer abc' } }), {
        status: 400,
        code: 'InvalidArgument',
        message: 'Unsupported Authorization Type',
        fields: { ArgumentName: 'Authorization', ArgumentValue: 'Bearer abc' },
      })
    })

    it('AUTH-26 an x-amz-security-token answers 403 InvalidToken (contract-defined, not AWS-verified)', async () => {
      const res = await signedSend(srv.port, { ...getObj(), headers: { 'x-amz-security-token': 'FwoGZXIvYXdzEJr' } })
      expectRawError(res, {
        status: 403,
        code: 'InvalidToken',
        message: 'The provided token is malformed or otherwise invalid.',
      })
    })

    it('AUTH-27 SigV4a (AWS4-ECDSA-P256-SHA256) answers 501 NotImplemented (contract-defined, not AWS-verified)', async () => {
      const res = await tamper(getObj(), (h) => {
        h.authorization = h.authorization.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256')
      })
      expectRawError(res, {
        status: 501,
        code: 'NotImplemented',
        message: 'A header you provided implies functionality that is not implemented',
      })
    })
  })

  describe('absurd requests', () => {
    it('a 20 KiB header is refused without crashing the server', async () => {
      const res = await signedSend(srv.port, { ...getObj(), headers: { 'x-amz-meta-huge': 'h'.repeat(20 * 1024) } })
      expect(res.status).toBeGreaterThanOrEqual(400)
      expect(res.status).toBeLessThan(500)
      expect((await signedSend(srv.port, getObj())).text).toBe('secret')
    })

    it('150 user metadata headers totalling over 2 KiB answer 400 MetadataTooLarge', async () => {
      const headers: Record<string, string> = {}
      for (let i = 0; i < 150; i++) headers[`x-amz-meta-k${i}`] = 'v'.repeat(12)
      expectRawError(await signedSend(srv.port, { method: 'PUT', path: `/${bucket}/many-meta`, headers, body: 'x' }), {
        status: 400,
        code: 'MetadataTooLarge',
      })
    })

    it('a Content-Length over 5 GiB answers 400 EntityTooLarge with ProposedSize and MaxSizeAllowed before any body is sent', async () => {
      const size = 5 * 1024 ** 3 + 1
      const req = await sign(
        { method: 'PUT', path: `/${bucket}/too-large`, headers: { 'content-length': String(size) } },
        { payloadHash: 'UNSIGNED-PAYLOAD' },
      )
      const res = await sendBytes(srv.port, requestHead(req))
      expectRawError(res, {
        status: 400,
        code: 'EntityTooLarge',
        message: 'Your proposed upload exceeds the maximum allowed size',
        fields: { ProposedSize: size, MaxSizeAllowed: 5 * 1024 ** 3 },
      })
    })

    it('a non-numeric Content-Length is refused with 400', async () => {
      const req = await sign({ method: 'PUT', path: `/${bucket}/bad-length` }, { payloadHash: 'UNSIGNED-PAYLOAD' })
      const head = requestHead(req) + '\r\ncontent-length: abc'
      const res = await sendBytes(srv.port, head)
      expect(res.status).toBe(400)
      expect((await signedSend(srv.port, getObj())).status).toBe(200)
    })

    it('a Range of absurd size answers 416 InvalidRange', async () => {
      expectRawError(await signedSend(srv.port, { ...getObj(), headers: { range: 'bytes=99999999999999999999-' } }), {
        status: 416,
        code: 'InvalidRange',
      })
    })

    it('a 4 KiB key answers 400 KeyTooLongError', async () => {
      expectRawError(await signedSend(srv.port, { method: 'PUT', path: `/${bucket}/${'k'.repeat(4096)}`, body: 'x' }), {
        status: 400,
        code: 'KeyTooLongError',
        fields: { MaxSizeAllowed: 1024, Size: 4096 },
      })
    })

    it('an Authorization header of 8 KiB of garbage answers a 4xx S3 error', async () => {
      const res = await send(srv.port, {
        ...getObj(),
        headers: { authorization: 'AWS4-HMAC-SHA256 ' + 'x,'.repeat(4096) },
      })
      expect(res.status).toBe(400)
      expect(parseXml(res.text).Error.Code).toBe('AuthorizationHeaderMalformed')
    })

    it('an unsupported method answers 405 MethodNotAllowed; an unimplemented sub-resource 501 NotImplemented', async () => {
      expectRawError(await signedSend(srv.port, { method: 'PATCH', path: `/${bucket}/obj`, body: 'x' }), {
        status: 405,
        code: 'MethodNotAllowed',
      })
      expectRawError(await signedSend(srv.port, { method: 'GET', path: `/${bucket}`, query: { torrent: '' } }), {
        status: 501,
        code: 'NotImplemented',
        message: 'The ?torrent subresource is not implemented.',
      })
    })

    it('a request target with an invalid percent-escape answers 400 InvalidURI', async () => {
      const req = await sign(getObj())
      const res = await sendBytes(srv.port, requestHead({ ...req, path: `/${bucket}/%zz` }))
      expectRawError(res, { status: 400, code: 'InvalidURI' })
    })
  })
})
