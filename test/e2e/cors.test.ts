/**
 * @module E2E: bucket CORS. Put/Get/DeleteBucketCors with AWS's validation (JS SDK and raw signed
 * requests), the unauthenticated preflight (OPTIONS) on bucket and object paths, and the
 * Access-Control-* headers on actual requests — successes, errors and presigned requests alike.
 */
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  GetObjectCommand,
  type CORSRule,
  type S3Client,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { errorOf, md5Base64, parseXml, send, signedSend, type RawResponse } from '../support/raw-s3.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'

const APP = 'https://app.example.com'
const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method'

describe('bucket CORS', () => {
  let srv: TestServer
  let s3: S3Client

  beforeAll(async () => {
    srv = await startTestServer()
    s3 = makeClient(srv.endpoint, { maxAttempts: 1 })
  })
  afterAll(async () => {
    s3?.destroy()
    await srv?.close()
  })

  async function bucketWith(name: string, rules?: CORSRule[]): Promise<void> {
    await s3.send(new CreateBucketCommand({ Bucket: name }))
    if (rules) await s3.send(new PutBucketCorsCommand({ Bucket: name, CORSConfiguration: { CORSRules: rules } }))
  }

  function putCorsRaw(
    bucket: string,
    body: string,
    headers: Record<string, string> = { 'content-md5': md5Base64(body) },
  ): Promise<RawResponse> {
    return signedSend(srv.port, { method: 'PUT', path: `/${bucket}`, query: { cors: '' }, headers, body })
  }

  function preflight(path: string, headers: Record<string, string>): Promise<RawResponse> {
    return send(srv.port, { method: 'OPTIONS', path, headers })
  }

  const corsOf = (res: RawResponse) =>
    Object.fromEntries(Object.entries(res.headers).filter(([k]) => k.startsWith('access-control-') || k === 'vary'))

  it('PutBucketCors, GetBucketCors and DeleteBucketCors round-trip the rules in order', async () => {
    await bucketWith('cors-crud')
    await expect(s3.send(new GetBucketCorsCommand({ Bucket: 'cors-crud' }))).rejects.toMatchObject({
      name: 'NoSuchCORSConfiguration',
      $metadata: { httpStatusCode: 404 },
    })
    const rules: CORSRule[] = [
      {
        ID: 'uploads',
        AllowedOrigins: [APP, 'http://*.example.org'],
        AllowedMethods: ['PUT', 'POST'],
        AllowedHeaders: ['*'],
        ExposeHeaders: ['ETag', 'x-amz-version-id'],
        MaxAgeSeconds: 3000,
      },
      { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'] },
    ]
    await s3.send(new PutBucketCorsCommand({ Bucket: 'cors-crud', CORSConfiguration: { CORSRules: rules } }))
    const got = await s3.send(new GetBucketCorsCommand({ Bucket: 'cors-crud' }))
    expect(got.CORSRules).toEqual(rules)
    const del = await s3.send(new DeleteBucketCorsCommand({ Bucket: 'cors-crud' }))
    expect(del.$metadata.httpStatusCode).toBe(204)
    await expect(s3.send(new GetBucketCorsCommand({ Bucket: 'cors-crud' }))).rejects.toMatchObject({
      name: 'NoSuchCORSConfiguration',
    })
    // Deleting what is not there is a 204 too.
    expect((await s3.send(new DeleteBucketCorsCommand({ Bucket: 'cors-crud' }))).$metadata.httpStatusCode).toBe(204)
  })

  it('GetBucketCors without a configuration is 404 NoSuchCORSConfiguration naming the bucket', async () => {
    await bucketWith('cors-none')
    const res = await signedSend(srv.port, { method: 'GET', path: '/cors-none', query: { cors: '' } })
    expect(res.status).toBe(404)
    expect(errorOf(res)).toMatchObject({
      Code: 'NoSuchCORSConfiguration',
      Message: 'The CORS configuration does not exist',
      BucketName: 'cors-none',
    })
  })

  it('PutBucketCors on a bucket that does not exist is 404 NoSuchBucket', async () => {
    await expect(
      s3.send(
        new PutBucketCorsCommand({
          Bucket: 'cors-missing',
          CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] },
        }),
      ),
    ).rejects.toMatchObject({ name: 'NoSuchBucket' })
  })

  const rule = (inner: string) => `<CORSConfiguration><CORSRule>${inner}</CORSRule></CORSConfiguration>`
  const invalid: Array<[string, string, string, string?]> = [
    // [what, code, body, message]
    [
      'a method S3 does not allow',
      'InvalidRequest',
      rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>'),
      'Found unsupported HTTP method in CORS config. Unsupported method is PATCH',
    ],
    [
      'OPTIONS as a method',
      'InvalidRequest',
      rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>OPTIONS</AllowedMethod>'),
      'Found unsupported HTTP method in CORS config. Unsupported method is OPTIONS',
    ],
    [
      'an origin with two wildcards',
      'InvalidRequest',
      rule('<AllowedOrigin>*example*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>'),
      'AllowedOrigin "*example*.com" can not have more than one wildcard.',
    ],
    [
      'a header with two wildcards',
      'InvalidRequest',
      rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>x-*-*</AllowedHeader>'),
      'AllowedHeader "x-*-*" can not have more than one wildcard.',
    ],
    [
      'an expose header with a wildcard',
      'InvalidRequest',
      rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>x-amz-*</ExposeHeader>'),
    ],
    ['a rule without an origin', 'MalformedXML', rule('<AllowedMethod>GET</AllowedMethod>')],
    ['a rule without a method', 'MalformedXML', rule('<AllowedOrigin>*</AllowedOrigin>')],
    ['no rules', 'MalformedXML', '<CORSConfiguration></CORSConfiguration>'],
    ['an empty rule', 'MalformedXML', '<CORSConfiguration><CORSRule/></CORSConfiguration>'],
    [
      'an ID of 256 characters',
      'MalformedXML',
      rule(`<ID>${'i'.repeat(256)}</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>`),
    ],
    [
      'a MaxAgeSeconds that is not an integer',
      'MalformedXML',
      rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>1.5</MaxAgeSeconds>'),
    ],
    [
      'two MaxAgeSeconds',
      'MalformedXML',
      rule(
        '<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>1</MaxAgeSeconds><MaxAgeSeconds>2</MaxAgeSeconds>',
      ),
    ],
    [
      '101 rules',
      'MalformedXML',
      `<CORSConfiguration>${'<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>'.repeat(101)}</CORSConfiguration>`,
    ],
    ['a body that is not XML', 'MalformedXML', 'not xml'],
    [
      'a body over 64 KB',
      'MalformedXML',
      rule(`${'<AllowedOrigin>http://o.example</AllowedOrigin>'.repeat(1400)}<AllowedMethod>GET</AllowedMethod>`),
    ],
  ]
  it.each(invalid)('PutBucketCors with %s is 400 %s and stores nothing', async (_what, code, body, message) => {
    const bucket = `cors-bad-${invalid.findIndex((r) => r[2] === body)}`
    await bucketWith(bucket)
    const res = await putCorsRaw(bucket, body)
    expect(res.status, res.text).toBe(400)
    const err = errorOf(res)
    expect(err.Code).toBe(code)
    if (message) expect(err.Message).toBe(message)
    await expect(s3.send(new GetBucketCorsCommand({ Bucket: bucket }))).rejects.toMatchObject({
      name: 'NoSuchCORSConfiguration',
    })
  })

  it('PutBucketCors accepts 100 rules', async () => {
    await bucketWith('cors-hundred')
    const res = await putCorsRaw(
      'cors-hundred',
      `<CORSConfiguration>${'<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>'.repeat(100)}</CORSConfiguration>`,
    )
    expect(res.status, res.text).toBe(200)
    expect((await s3.send(new GetBucketCorsCommand({ Bucket: 'cors-hundred' }))).CORSRules).toHaveLength(100)
  })

  it('PutBucketCors without Content-MD5 or a checksum is 400 InvalidRequest', async () => {
    await bucketWith('cors-md5')
    const res = await putCorsRaw(
      'cors-md5',
      rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>'),
      {},
    )
    expect(res.status).toBe(400)
    expect(errorOf(res)).toMatchObject({
      Code: 'InvalidRequest',
      Message: 'Missing required header for this request: Content-MD5',
    })
  })

  it('decodes character references in the document (&#38; and &amp; are both &)', async () => {
    await bucketWith('cors-refs')
    const res = await putCorsRaw(
      'cors-refs',
      rule(
        '<AllowedOrigin>https://a.example?x=1&#38;y=2</AllowedOrigin><AllowedOrigin>https://b&amp;c</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>x-&#97;</ExposeHeader>',
      ),
    )
    expect(res.status, res.text).toBe(200)
    const got = await s3.send(new GetBucketCorsCommand({ Bucket: 'cors-refs' }))
    expect(got.CORSRules).toEqual([
      { AllowedOrigins: ['https://a.example?x=1&y=2', 'https://b&c'], AllowedMethods: ['GET'], ExposeHeaders: ['x-a'] },
    ])
    const raw = await signedSend(srv.port, { method: 'GET', path: '/cors-refs', query: { cors: '' } })
    expect(raw.text).toContain('<AllowedOrigin>https://b&amp;c</AllowedOrigin>')
  })

  it('bucket policies judge PutBucketCors and DeleteBucketCors as s3:PutBucketCORS, GetBucketCors as s3:GetBucketCORS', async () => {
    await bucketWith('cors-policy', [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }])
    const deny = (action: string) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Deny', Principal: '*', Action: action, Resource: 'arn:aws:s3:::cors-policy' }],
      })
    const putPolicy = (text: string) =>
      signedSend(srv.port, { method: 'PUT', path: '/cors-policy', query: { policy: '' }, body: text })
    expect((await putPolicy(deny('s3:PutBucketCORS'))).status).toBe(204)
    const body = rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PUT</AllowedMethod>')
    expect((await putCorsRaw('cors-policy', body)).status).toBe(403)
    expect((await signedSend(srv.port, { method: 'DELETE', path: '/cors-policy', query: { cors: '' } })).status).toBe(
      403,
    )
    expect((await signedSend(srv.port, { method: 'GET', path: '/cors-policy', query: { cors: '' } })).status).toBe(200)
    expect((await putPolicy(deny('s3:GetBucketCORS'))).status).toBe(204)
    expect((await signedSend(srv.port, { method: 'GET', path: '/cors-policy', query: { cors: '' } })).status).toBe(403)
    expect((await putCorsRaw('cors-policy', body)).status).toBe(200)
  })

  it('PutBucketCors sent together with PutBucketPolicy and PutBucketEncryption: every change is kept', async () => {
    await bucketWith('cors-race')
    // The policy below is public: new buckets block that, as on AWS, so lift the block first.
    expect(
      (await signedSend(srv.port, { method: 'DELETE', path: '/cors-race', query: { publicAccessBlock: '' } })).status,
    ).toBe(204)
    for (let n = 0; n < 10; n++) {
      const corsXml = rule(
        `<ID>trial-${n}</ID><AllowedOrigin>https://t${n}.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod>`,
      )
      const policy = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: `T${n}`,
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:GetObject',
            Resource: `arn:aws:s3:::cors-race/p${n}/*`,
          },
        ],
      })
      const algorithm = n % 2 === 0 ? 'AES256' : 'aws:kms'
      const encXml = `<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>${algorithm}</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`
      const answers = await Promise.all([
        putCorsRaw('cors-race', corsXml),
        signedSend(srv.port, { method: 'PUT', path: '/cors-race', query: { policy: '' }, body: policy }),
        signedSend(srv.port, {
          method: 'PUT',
          path: '/cors-race',
          query: { encryption: '' },
          headers: { 'content-md5': md5Base64(encXml) },
          body: encXml,
        }),
      ])
      expect(answers.map((a) => a.status)).toEqual([200, 204, 200])
      expect((await s3.send(new GetBucketCorsCommand({ Bucket: 'cors-race' }))).CORSRules?.[0]?.ID).toBe(`trial-${n}`)
      const gotPolicy = await signedSend(srv.port, { method: 'GET', path: '/cors-race', query: { policy: '' } })
      expect(gotPolicy.text).toContain(`"T${n}"`)
      const gotEnc = await signedSend(srv.port, { method: 'GET', path: '/cors-race', query: { encryption: '' } })
      expect(gotEnc.text).toContain(`<SSEAlgorithm>${algorithm}</SSEAlgorithm>`)
    }
  })

  describe('preflight (OPTIONS)', () => {
    beforeAll(async () => {
      await bucketWith('pfl', [
        {
          AllowedOrigins: [APP],
          AllowedMethods: ['GET', 'PUT'],
          AllowedHeaders: ['Content-Type', 'x-amz-meta-*'],
          ExposeHeaders: ['ETag'],
          MaxAgeSeconds: 600,
        },
        { AllowedOrigins: ['http://*.example.org'], AllowedMethods: ['GET'] },
        { AllowedOrigins: ['*'], AllowedMethods: ['HEAD'] },
      ])
      await bucketWith('pf-none')
    })

    it("a matching preflight on an object is 200 with the rule's headers, the origin echoed and credentials allowed", async () => {
      const res = await preflight('/pfl/some/key', {
        origin: APP,
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'Content-Type,X-Amz-Meta-Color',
      })
      expect(res.status, res.text).toBe(200)
      expect(res.body.length).toBe(0)
      expect(corsOf(res)).toEqual({
        'access-control-allow-origin': APP,
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': 'GET, PUT',
        'access-control-allow-headers': 'content-type, x-amz-meta-color',
        'access-control-expose-headers': 'ETag',
        'access-control-max-age': '600',
        vary: VARY,
      })
      expect(res.headers['x-amz-request-id']).toMatch(/^[0-9A-Z]{16}$/)
    })

    it('matches requested header names without regard to case, and a bucket path too', async () => {
      const res = await preflight('/pfl', {
        origin: APP,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'CONTENT-type',
      })
      expect(res.status, res.text).toBe(200)
      expect(res.headers['access-control-allow-headers']).toBe('content-type')
    })

    it('a wildcard origin pattern matches; a rule of * answers * without credentials', async () => {
      const sub = await preflight('/pfl/k', {
        origin: 'http://cdn.example.org',
        'access-control-request-method': 'GET',
      })
      expect(sub.status, sub.text).toBe(200)
      expect(sub.headers['access-control-allow-origin']).toBe('http://cdn.example.org')
      expect(sub.headers['access-control-allow-methods']).toBe('GET')
      expect(sub.headers['access-control-max-age']).toBeUndefined()
      const any = await preflight('/pfl/k', { origin: 'http://random:1234', 'access-control-request-method': 'HEAD' })
      expect(any.status, any.text).toBe(200)
      expect(any.headers['access-control-allow-origin']).toBe('*')
      expect(any.headers['access-control-allow-credentials']).toBeUndefined()
      expect(any.headers.vary).toBe(VARY)
    })

    const notAllowed: Array<[string, string, Record<string, string>, string]> = [
      [
        'an origin no rule names',
        '/pfl/k',
        { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
        'OBJECT',
      ],
      [
        "a method the origin's rule lacks",
        '/pfl/k',
        { origin: 'http://cdn.example.org', 'access-control-request-method': 'PUT' },
        'OBJECT',
      ],
      [
        'a header no AllowedHeader covers',
        '/pfl/k',
        {
          origin: APP,
          'access-control-request-method': 'PUT',
          'access-control-request-headers': 'content-type, x-amz-acl',
        },
        'OBJECT',
      ],
      [
        'any header on a rule without AllowedHeader',
        '/pfl',
        {
          origin: 'http://cdn.example.org',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'content-type',
        },
        'BUCKET',
      ],
      [
        'the origin with a trailing slash',
        '/pfl',
        { origin: `${APP}/`, 'access-control-request-method': 'GET' },
        'BUCKET',
      ],
    ]
    it.each(notAllowed)(
      '%s is 403 AccessForbidden with no CORS headers',
      async (_what, path, headers, resourceType) => {
        const res = await preflight(path, headers)
        expect(res.status).toBe(403)
        expect(corsOf(res)).toEqual({})
        expect(errorOf(res)).toMatchObject({
          Code: 'AccessForbidden',
          Message: expect.stringMatching(/^CORSResponse: This CORS request is not allowed\./),
          Method: headers['access-control-request-method'],
          ResourceType: resourceType,
        })
        // Code, Message, Method, ResourceType, RequestId, HostId: the order S3 writes them in.
        expect(res.text.indexOf('<Method>')).toBeLessThan(res.text.indexOf('<ResourceType>'))
        expect(res.text.indexOf('<ResourceType>')).toBeLessThan(res.text.indexOf('<RequestId>'))
      },
    )

    it('without an Origin is 400 BadRequest, whatever the bucket', async () => {
      for (const path of ['/pfl/k', '/pf-none', '/no-such-bucket/k']) {
        const res = await preflight(path, { 'access-control-request-method': 'GET' })
        expect(res.status).toBe(400)
        expect(errorOf(res)).toMatchObject({
          Code: 'BadRequest',
          Message: 'Insufficient information. Origin request header needed.',
        })
      }
    })

    it('on a bucket without CORS is 403 "CORS is not enabled", naming the requested method or OPTIONS', async () => {
      const res = await preflight('/pf-none/k', { origin: APP, 'access-control-request-method': 'PUT' })
      expect(res.status).toBe(403)
      expect(errorOf(res)).toMatchObject({
        Code: 'AccessForbidden',
        Message: 'CORSResponse: CORS is not enabled for this bucket.',
        Method: 'PUT',
        ResourceType: 'BUCKET',
      })
      const bare = await preflight('/pf-none/k', { origin: APP })
      expect(errorOf(bare)).toMatchObject({ Code: 'AccessForbidden', Method: 'OPTIONS', ResourceType: 'BUCKET' })
    })

    it('on a bucket that does not exist is 403 "Bucket not found"', async () => {
      const res = await preflight('/no-such-bucket/k', { origin: APP, 'access-control-request-method': 'GET' })
      expect(res.status).toBe(403)
      expect(errorOf(res)).toMatchObject({
        Code: 'AccessForbidden',
        Message: 'CORSResponse: Bucket not found',
        Method: 'GET',
        ResourceType: 'BUCKET',
      })
    })

    it('without a valid Access-Control-Request-Method on a configured bucket is 400 BadRequest', async () => {
      const none = await preflight('/pfl/k', { origin: APP })
      expect(none.status).toBe(400)
      expect(errorOf(none)).toMatchObject({
        Code: 'BadRequest',
        Message: 'Invalid Access-Control-Request-Method: null',
      })
      const bad = await preflight('/pfl/k', { origin: APP, 'access-control-request-method': 'PATCH' })
      expect(errorOf(bad)).toMatchObject({
        Code: 'BadRequest',
        Message: 'Invalid Access-Control-Request-Method: PATCH',
      })
    })

    it('is answered without a signature, for any subresource the actual request will name', async () => {
      const res = await preflight('/pfl/k?tagging', { origin: APP, 'access-control-request-method': 'PUT' })
      expect(res.status, res.text).toBe(200)
      expect(res.headers['access-control-allow-origin']).toBe(APP)
    })
  })

  describe('actual requests', () => {
    beforeAll(async () => {
      await bucketWith('act', [
        { AllowedOrigins: [APP], AllowedMethods: ['GET', 'PUT', 'HEAD'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 60 },
      ])
      await s3.send(new PutObjectCommand({ Bucket: 'act', Key: 'obj', Body: 'hello cors' }))
    })

    const expected = {
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, PUT, HEAD',
      'access-control-expose-headers': 'ETag',
      'access-control-max-age': '60',
      vary: VARY,
    }

    it('a signed GET from an allowed origin carries the CORS headers', async () => {
      const res = await signedSend(srv.port, { method: 'GET', path: '/act/obj', headers: { origin: APP } })
      expect(res.status).toBe(200)
      expect(res.text).toBe('hello cors')
      expect(corsOf(res)).toEqual(expected)
    })

    it('a presigned GET from an allowed origin carries them', async () => {
      const url = new URL(
        await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'act', Key: 'obj' }), { expiresIn: 300 }),
      )
      const res = await send(srv.port, { method: 'GET', path: url.pathname + url.search, headers: { origin: APP } })
      expect(res.status).toBe(200)
      expect(corsOf(res)).toEqual(expected)
    })

    it('errors carry them too: 404 NoSuchKey, 403 from an unsigned request, 403 SignatureDoesNotMatch, 501 NotImplemented', async () => {
      const missing = await signedSend(srv.port, { method: 'GET', path: '/act/missing', headers: { origin: APP } })
      expect(missing.status).toBe(404)
      expect(corsOf(missing)).toEqual(expected)
      const anonymous = await send(srv.port, { method: 'GET', path: '/act/obj', headers: { origin: APP } })
      expect(anonymous.status).toBe(403)
      expect(corsOf(anonymous)).toEqual(expected)
      const badSig = await signedSend(
        srv.port,
        { method: 'GET', path: '/act/obj', headers: { origin: APP } },
        { secretAccessKey: 'wrong' },
      )
      expect(badSig.status).toBe(403)
      expect(errorOf(badSig).Code).toBe('SignatureDoesNotMatch')
      expect(corsOf(badSig)).toEqual(expected)
      const refused = await signedSend(srv.port, {
        method: 'GET',
        path: '/act',
        query: { website: '' },
        headers: { origin: APP },
      })
      expect(refused.status).toBe(501)
      expect(corsOf(refused)).toEqual(expected)
      const head = await signedSend(srv.port, { method: 'HEAD', path: '/act/missing', headers: { origin: APP } })
      expect(head.status).toBe(404)
      expect(corsOf(head)).toEqual(expected)
    })

    it('no CORS headers without an Origin, from another origin, for a method no rule allows, or on a bucket without CORS', async () => {
      expect(corsOf(await signedSend(srv.port, { method: 'GET', path: '/act/obj' }))).toEqual({})
      expect(
        corsOf(
          await signedSend(srv.port, { method: 'GET', path: '/act/obj', headers: { origin: 'https://evil.example' } }),
        ),
      ).toEqual({})
      const del = await signedSend(srv.port, { method: 'DELETE', path: '/act/other', headers: { origin: APP } })
      expect(del.status).toBe(204)
      expect(corsOf(del)).toEqual({})
      await bucketWith('act-none')
      expect(
        corsOf(await signedSend(srv.port, { method: 'GET', path: '/act-none', headers: { origin: APP } })),
      ).toEqual({})
    })

    it("the request's Access-Control-Request-Method decides the match, as S3 judges it", async () => {
      const res = await signedSend(srv.port, {
        method: 'GET',
        path: '/act/obj',
        headers: { origin: APP, 'access-control-request-method': 'DELETE' },
      })
      expect(res.status).toBe(200)
      expect(corsOf(res)).toEqual({})
    })

    it('a new configuration applies at once; deleting it removes the headers', async () => {
      await bucketWith('act-live')
      const before = await signedSend(srv.port, { method: 'GET', path: '/act-live', headers: { origin: APP } })
      expect(before.headers['access-control-allow-origin']).toBeUndefined()
      await s3.send(
        new PutBucketCorsCommand({
          Bucket: 'act-live',
          CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] },
        }),
      )
      const during = await signedSend(srv.port, { method: 'GET', path: '/act-live', headers: { origin: APP } })
      expect(during.status).toBe(200)
      expect(during.headers['access-control-allow-origin']).toBe('*')
      expect(parseXml(during.text).ListBucketResult).toBeDefined()
      await s3.send(new DeleteBucketCorsCommand({ Bucket: 'act-live' }))
      const after = await signedSend(srv.port, { method: 'GET', path: '/act-live', headers: { origin: APP } })
      expect(after.headers['access-control-allow-origin']).toBeUndefined()
    })
  })
})
