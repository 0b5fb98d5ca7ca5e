/** @module E2E: presigned URLs (query-string SigV4) used with global fetch (docs/s3-sse-rules.md §2.8, §8.4 PRE). */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { randomBytes } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { expectRawError } from '../support/expect-s3.js'
import { presignPath, send, type RawResponse } from '../support/raw-s3.js'
import { CHECKSUM_MODES, makeClient, withServer } from '../support/server.js'

const QUERY_PARAMS_REQUIRED =
  'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.'

/** fetch's answer in the RawResponse shape the error assertions take. */
async function fetchRaw(url: string, init?: RequestInit): Promise<RawResponse> {
  const res = await fetch(url, init)
  const body = Buffer.from(await res.arrayBuffer())
  return { status: res.status, headers: Object.fromEntries(res.headers.entries()), body, text: body.toString('utf8') }
}

/** The URL with one query parameter replaced (or removed when value is undefined). */
function withParam(url: string, name: string, value: string | undefined): string {
  const u = new URL(url)
  if (value === undefined) u.searchParams.delete(name)
  else u.searchParams.set(name, value)
  return u.toString()
}

describe('presigned URLs', () => {
  const srv = withServer()

  describe.each(CHECKSUM_MODES)('with requestChecksumCalculation %s', (mode) => {
    let s3: S3Client
    const bucket = mode === 'WHEN_SUPPORTED' ? 'pre-ws' : 'pre-wr'

    beforeAll(async () => {
      s3 = makeClient(srv.endpoint, { requestChecksumCalculation: mode, maxAttempts: 1 })
      await s3.send(new CreateBucketCommand({ Bucket: bucket }))
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'existing.txt', Body: 'presigned read' }))
    })

    it('PRE-12 a presigned PUT and a presigned GET round-trip through fetch', async () => {
      const data = randomBytes(70_000)
      const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'dir/pre-12.bin' }), {
        expiresIn: 300,
      })
      expect(putUrl).toContain('X-Amz-Signature=')
      const put = await fetch(putUrl, { method: 'PUT', body: data })
      expect(put.status).toBe(200)
      expect(put.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/)
      expect(put.headers.get('x-amz-server-side-encryption')).toBe('AES256')
      const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'dir/pre-12.bin' }), {
        expiresIn: 300,
      })
      const got = await fetch(getUrl)
      expect(got.status).toBe(200)
      expect(Buffer.from(await got.arrayBuffer()).equals(data)).toBe(true)
    })

    it('a presigned GET with signed response-content-type overrides Content-Type', async () => {
      const url = await getSignedUrl(
        s3,
        new GetObjectCommand({ Bucket: bucket, Key: 'existing.txt', ResponseContentType: 'text/x-presigned' }),
      )
      const res = await fetch(url)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/x-presigned')
      expect(await res.text()).toBe('presigned read')
    })

    it('PRE-03 a URL used after its expiry answers 403 AccessDenied Request has expired with X-Amz-Expires, Expires, ServerTime', async () => {
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'existing.txt' }), {
        expiresIn: 60,
        signingDate: new Date(Date.now() - 10 * 60_000),
      })
      const e = expectRawError(await fetchRaw(url), {
        status: 403,
        code: 'AccessDenied',
        message: 'Request has expired',
        fields: { 'X-Amz-Expires': '60' },
      })
      expect(e.Expires).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
      expect(e.ServerTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
      expect(new Date(e.Expires).getTime()).toBeLessThan(new Date(e.ServerTime).getTime())
    })

    it('PRE-06 X-Amz-Expires=0 answers 403 AccessDenied Request has expired (inferred)', async () => {
      const path = await presignPath(srv.port, { method: 'GET', path: `/${bucket}/existing.txt` }, { expiresIn: 0 })
      expect(path).toContain('X-Amz-Expires=0')
      expectRawError(await fetchRaw(`${srv.endpoint}${path}`), {
        status: 403,
        code: 'AccessDenied',
        message: 'Request has expired',
        fields: { 'X-Amz-Expires': '0' },
      })
    })

    it('a presigned URL with a tampered signature answers 403 SignatureDoesNotMatch with the canonical request', async () => {
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'existing.txt' }))
      const sig = new URL(url).searchParams.get('X-Amz-Signature')!
      const tampered = withParam(url, 'X-Amz-Signature', (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1))
      const e = expectRawError(await fetchRaw(tampered), {
        status: 403,
        code: 'SignatureDoesNotMatch',
        message:
          'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
        fields: { AWSAccessKeyId: 'test' },
      })
      expect(e.CanonicalRequest).toContain(`/${bucket}/existing.txt`)
      expect(e.CanonicalRequest).toContain('UNSIGNED-PAYLOAD')
      expect(e.StringToSign.startsWith('AWS4-HMAC-SHA256\n')).toBe(true)
    })

    it('a presigned GET URL does not authorize another key', async () => {
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'existing.txt' }))
      expectRawError(await fetchRaw(url.replace('existing.txt', 'other.txt')), {
        status: 403,
        code: 'SignatureDoesNotMatch',
      })
    })

    it('a presigned GET URL does not authorize a PUT', async () => {
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'existing.txt' }))
      expectRawError(await fetchRaw(url, { method: 'PUT', body: new Uint8Array([1, 2, 3]) }), {
        status: 403,
        code: 'SignatureDoesNotMatch',
      })
      const still = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'existing.txt' }))
      expect(await still.Body!.transformToString()).toBe('presigned read')
    })

    it('PRE-02 a URL without X-Amz-Signature answers 400 AuthorizationQueryParametersError', async () => {
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'existing.txt' }))
      expectRawError(await fetchRaw(withParam(url, 'X-Amz-Signature', undefined)), {
        status: 400,
        code: 'AuthorizationQueryParametersError',
        message: QUERY_PARAMS_REQUIRED,
      })
    })

    it('PRE-04 X-Amz-Expires=604801 answers 400 AuthorizationQueryParametersError (contract-defined, not AWS-verified)', async () => {
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'existing.txt' }))
      expectRawError(await fetchRaw(withParam(url, 'X-Amz-Expires', '604801')), {
        status: 400,
        code: 'AuthorizationQueryParametersError',
        message: 'X-Amz-Expires must be less than a week (in seconds) that is 604800',
      })
    })

    it('PRE-05 X-Amz-Expires=-1 answers 400 AuthorizationQueryParametersError (contract-defined, not AWS-verified)', async () => {
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'existing.txt' }))
      expectRawError(await fetchRaw(withParam(url, 'X-Amz-Expires', '-1')), {
        status: 400,
        code: 'AuthorizationQueryParametersError',
        message: 'X-Amz-Expires must be non-negative',
      })
    })

    it('PRE-07 an X-Amz-Date 20 minutes in the future answers 403 AccessDenied Request is not valid yet (contract-defined, not AWS-verified)', async () => {
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'existing.txt' }), {
        signingDate: new Date(Date.now() + 20 * 60_000),
      })
      expectRawError(await fetchRaw(url), { status: 403, code: 'AccessDenied', message: 'Request is not valid yet' })
    })

    it('PRE-08 a malformed X-Amz-Credential answers 400 AuthorizationQueryParametersError', async () => {
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'existing.txt' }))
      const cred = new URL(url).searchParams.get('X-Amz-Credential')!
      expectRawError(await fetchRaw(withParam(url, 'X-Amz-Credential', cred.split('/').slice(0, 4).join('/'))), {
        status: 400,
        code: 'AuthorizationQueryParametersError',
        message:
          'Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
      })
    })

    it('PRE-09 a credential for the wrong region answers 400 AuthorizationQueryParametersError with Region', async () => {
      const west = makeClient(srv.endpoint, { region: 'us-west-2', requestChecksumCalculation: mode })
      const url = await getSignedUrl(west, new GetObjectCommand({ Bucket: bucket, Key: 'existing.txt' }))
      expectRawError(await fetchRaw(url), {
        status: 400,
        code: 'AuthorizationQueryParametersError',
        message: "Error parsing the X-Amz-Credential parameter; the region 'us-west-2' is wrong; expecting 'us-east-1'",
        fields: { Region: 'us-east-1' },
      })
    })

    it('PRE-10 a presigned PUT sent with an unsigned x-amz-meta-x header answers 403 AccessDenied with HeadersNotSigned', async () => {
      const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'pre-10' }))
      expectRawError(
        await fetchRaw(url, { method: 'PUT', body: new Uint8Array([1]), headers: { 'x-amz-meta-x': 'y' } }),
        {
          status: 403,
          code: 'AccessDenied',
          message: 'There were headers present in the request which were not signed',
          fields: { HeadersNotSigned: 'x-amz-meta-x' },
        },
      )
    })

    it('PRE-11 a presigned PUT signed with content-type and sent with another Content-Type answers 403 SignatureDoesNotMatch', async () => {
      const url = await getSignedUrl(
        s3,
        new PutObjectCommand({ Bucket: bucket, Key: 'pre-11', ContentType: 'image/png' }),
        { signableHeaders: new Set(['content-type']) },
      )
      expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toContain('content-type')
      const e = expectRawError(
        await fetchRaw(url, { method: 'PUT', body: new Uint8Array([1]), headers: { 'content-type': 'text/plain' } }),
        {
          status: 403,
          code: 'SignatureDoesNotMatch',
        },
      )
      expect(e.CanonicalRequest).toContain('content-type:text/plain')
      const ok = await fetch(url, {
        method: 'PUT',
        body: new Uint8Array([1]),
        headers: { 'content-type': 'image/png' },
      })
      expect(ok.status).toBe(200)
    })
  })

  describe('presigned with node:http', () => {
    it('a presigned GET of a missing key answers 404 NoSuchKey after authentication', async () => {
      await makeClient(srv.endpoint).send(new CreateBucketCommand({ Bucket: 'pre-raw' }))
      const path = await presignPath(srv.port, { method: 'GET', path: '/pre-raw/absent' })
      expectRawError(await send(srv.port, { method: 'GET', path, headers: { host: `127.0.0.1:${srv.port}` } }), {
        status: 404,
        code: 'NoSuchKey',
        fields: { Key: 'absent' },
      })
    })
  })
})
