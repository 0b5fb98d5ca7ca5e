/**
 * @module Signature V2: the string to sign against the examples of the AWS S3 developer guide
 * ("Signing and authenticating REST requests"), and header/presigned verification through authenticate.
 */
import { describe, expect, it } from 'vitest'
import { canonicalResourceV2, signV2, stringToSignV2 } from '../../../server/s3/auth/sigv2.js'
import { authenticate } from '../../../server/s3/auth/sigv4.js'
import type { AuthRequest } from '../../../server/s3/auth/types.js'
import { AKID, SECRET, deps, expectS3Error } from './signer.js'

const REFUSED = 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.'

describe('SigV2 string to sign (AWS developer guide examples)', () => {
  const cases: Array<{ name: string; sts: string; signature: string }> = [
    {
      name: 'object GET',
      sts: 'GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg',
      signature: 'bWq2s1WEIj+Ydj0vQ697zp+IXMU=',
    },
    {
      name: 'object PUT',
      sts: 'PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/johnsmith/photos/puppy.jpg',
      signature: 'MyyxeRY7whkBe+bq8fHCL/2kKUg=',
    },
    {
      name: 'list',
      sts: 'GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/johnsmith/',
      signature: 'htDYFYduRNen8P9ZfE/s9SuKy0U=',
    },
    {
      name: '?acl',
      sts: 'GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/johnsmith/?acl',
      signature: 'c2WLPFtWHVgbEmeEG93a4cG37dM=',
    },
    {
      name: 'upload with x-amz-* headers',
      sts: 'PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\nx-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\nx-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/static.johnsmith.net/db-backup.dat.gz',
      signature: 'ilyl83RwaSoYIEdixDQcA4OnAnc=',
    },
    {
      name: 'query string auth',
      sts: 'GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg',
      signature: 'NpgCjnDzrM+WFzoENXmpNDUsSn8=',
    },
  ]
  it.each(cases)('$name', ({ sts, signature }) => {
    expect(signV2(SECRET, sts)).toBe(signature)
  })

  it('builds the upload example from its headers: x-amz-* lowercased, sorted, repeats joined, folding removed', () => {
    const sts = stringToSignV2({
      method: 'PUT',
      headers: {
        'content-md5': '4gJE4saaMU4BqNR0kLY+lw==',
        'content-type': 'application/x-download',
        'x-amz-meta-reviewedby': 'joe@johnsmith.net,jane@johnsmith.net',
        'x-amz-acl': 'public-read',
        'x-amz-meta-filechecksum': '0x02661779',
        'x-amz-meta-checksumalgorithm': '  crc32 ',
        'user-agent': 'curl/7.15.5',
      },
      date: 'Tue, 27 Mar 2007 21:06:08 +0000',
      resourcePath: '/static.johnsmith.net/db-backup.dat.gz',
      query: [],
    })
    expect(signV2(SECRET, sts)).toBe('ilyl83RwaSoYIEdixDQcA4OnAnc=')
  })

  it('the resource keeps only signed sub-resources, sorted, valueless ones without =', () => {
    const q: Array<[string, string]> = [
      ['uploadId', 'u1'],
      ['prefix', 'p'],
      ['partNumber', '2'],
      ['acl', ''],
    ]
    expect(canonicalResourceV2('/b/k', q)).toBe('/b/k?acl&partNumber=2&uploadId=u1')
    expect(
      canonicalResourceV2('/b/', [
        ['list-type', '2'],
        ['delimiter', '/'],
      ]),
    ).toBe('/b/')
  })
})

/** A SigV2 header-signed request at `now`. */
function v2Request(
  opts: {
    method?: string
    path?: string
    rawPath?: string
    vhost?: string
    query?: Array<[string, string]>
    headers?: Record<string, string>
    now?: Date
    secret?: string
  } = {},
): AuthRequest {
  const now = opts.now ?? new Date('2026-01-02T03:04:05Z')
  const headers: Record<string, string> = { host: '127.0.0.1:9000', date: now.toUTCString(), ...opts.headers }
  const path = opts.path ?? '/bucket/a b.txt'
  const rawPath = opts.rawPath ?? path.replace(/ /g, '%20')
  const resource = (opts.vhost ? `/${opts.vhost}` : '') + rawPath
  const sts = stringToSignV2({
    method: opts.method ?? 'GET',
    headers,
    date: headers['x-amz-date'] ? '' : headers.date,
    resourcePath: resource,
    query: opts.query ?? [],
  })
  headers.authorization = `AWS ${AKID}:${signV2(opts.secret ?? SECRET, sts)}`
  return { method: opts.method ?? 'GET', path, rawPath, vhostBucket: opts.vhost, query: opts.query ?? [], headers, now }
}

describe('SigV2 verification', () => {
  it('a header-signed request is verified, region-less, as SigV2 with an unsigned payload', () => {
    const ctx = authenticate(v2Request(), deps('eu-west-3'))!
    expect(ctx).toMatchObject({
      accessKeyId: AKID,
      accountId: '111122223333',
      mode: 'header',
      signatureVersion: 2,
      payload: { kind: 'unsigned' },
    })
  })

  it('x-amz-date empties the Date line; sub-resources and virtual-hosted buckets are in the resource', () => {
    const now = new Date('2026-01-02T03:04:05Z')
    const req = v2Request({
      now,
      headers: { 'x-amz-date': now.toUTCString(), date: 'ignored' },
      query: [['uploads', '']],
      method: 'POST',
    })
    expect(authenticate(req, deps())?.signatureVersion).toBe(2)
    expect(
      authenticate(v2Request({ vhost: 'bucket', path: '/k', query: [['acl', '']] }), deps())?.signatureVersion,
    ).toBe(2)
  })

  it('a wrong signature answers 403 SignatureDoesNotMatch with the StringToSign', () => {
    const err = expectS3Error(() => authenticate(v2Request({ secret: 'wrong' }), deps()), 'SignatureDoesNotMatch', {
      fields: { AWSAccessKeyId: AKID, StringToSign: /^GET\n\n\n.*\n\/bucket\/a%20b\.txt$/ },
    })
    expect(err.status).toBe(403)
  })

  it('a tampered path or an unknown key are refused', () => {
    const req = v2Request()
    expectS3Error(
      () => authenticate({ ...req, path: '/bucket/other', rawPath: '/bucket/other' }, deps()),
      'SignatureDoesNotMatch',
    )
    expectS3Error(
      () =>
        authenticate(
          { ...req, headers: { ...req.headers, authorization: req.headers.authorization.replace(AKID, 'NOPE') } },
          deps(),
        ),
      'InvalidAccessKeyId',
    )
  })

  it('a Date more than 15 minutes off answers 403 RequestTimeTooSkewed; no date answers AccessDenied', () => {
    const req = v2Request()
    expectS3Error(
      () => authenticate({ ...req, now: new Date(req.now.getTime() + 16 * 60_000) }, deps()),
      'RequestTimeTooSkewed',
    )
    const { date: _d, ...noDate } = req.headers
    expectS3Error(() => authenticate({ ...req, headers: noDate }, deps()), 'AccessDenied', {
      message: 'AWS authentication requires a valid Date or x-amz-date header',
    })
  })

  it('presigned: verified before Expires, 403 "Request has expired" after', () => {
    const expires = '1767323045' // 2026-01-02T03:04:05Z
    const sig = signV2(SECRET, `GET\n\n\n${expires}\n/bucket/k`)
    const query: Array<[string, string]> = [
      ['AWSAccessKeyId', AKID],
      ['Expires', expires],
      ['Signature', sig],
    ]
    const req: AuthRequest = {
      method: 'GET',
      path: '/bucket/k',
      rawPath: '/bucket/k',
      query,
      headers: { host: 'h' },
      now: new Date('2026-01-02T03:00:00Z'),
    }
    expect(authenticate(req, deps())).toMatchObject({ mode: 'presigned', signatureVersion: 2 })
    expectS3Error(() => authenticate({ ...req, now: new Date('2026-01-02T03:04:05Z') }, deps()), 'AccessDenied', {
      message: 'Request has expired',
      fields: { Expires: '2026-01-02T03:04:05Z' },
    })
    expectS3Error(
      () => authenticate({ ...req, query: [...query.slice(0, 2), ['Signature', 'bad']] }, deps()),
      'SignatureDoesNotMatch',
    )
  })

  it('session credentials: x-amz-security-token (signed among the x-amz-* headers, or in the presigned query) selects the temporary key', () => {
    const session = {
      secretAccessKey: 'tmp-secret',
      accountId: '111122223333',
      principalArn: 'arn:aws:sts::111122223333:assumed-role/r/s',
      sessionToken: 'TOKEN',
      expiresAt: Date.parse('2026-01-02T04:00:00Z'),
    }
    const withSessions = { ...deps(), sessions: { find: (id: string) => (id === 'ASIATEMP' ? session : undefined) } }
    const req = v2Request({ secret: 'tmp-secret', headers: { 'x-amz-security-token': 'TOKEN' } })
    const temp = {
      ...req,
      headers: { ...req.headers, authorization: req.headers.authorization.replace(AKID, 'ASIATEMP') },
    }
    expect(authenticate(temp, withSessions)).toMatchObject({
      accessKeyId: 'ASIATEMP',
      sessionToken: true,
      signatureVersion: 2,
    })
    expectS3Error(
      () => authenticate({ ...temp, headers: { ...temp.headers, 'x-amz-security-token': 'OTHER' } }, withSessions),
      'InvalidToken',
    )
    expectS3Error(
      () =>
        authenticate(
          {
            ...temp,
            now: new Date('2026-01-02T04:00:00Z'),
            headers: { ...temp.headers, date: new Date('2026-01-02T04:00:00Z').toUTCString() },
          },
          withSessions,
        ),
      'ExpiredToken',
    )
    const expires = '1767326000'
    const sig = signV2('tmp-secret', `GET\n\n\n${expires}\nx-amz-security-token:TOKEN\n/bucket/k`)
    const presigned: AuthRequest = {
      method: 'GET',
      path: '/bucket/k',
      rawPath: '/bucket/k',
      headers: {},
      now: new Date('2026-01-02T03:00:00Z'),
      query: [
        ['AWSAccessKeyId', 'ASIATEMP'],
        ['Expires', expires],
        ['Signature', sig],
        ['x-amz-security-token', 'TOKEN'],
      ],
    }
    expect(authenticate(presigned, withSessions)).toMatchObject({ mode: 'presigned', sessionToken: true })
  })

  it('--sigv4-only: header and presigned SigV2 answer 400 InvalidRequest', () => {
    const strict = { ...deps(), sigv4Only: true }
    const err = expectS3Error(() => authenticate(v2Request(), strict), 'InvalidRequest', { message: REFUSED })
    expect(err.status).toBe(400)
    const q: AuthRequest = {
      method: 'GET',
      path: '/b/k',
      query: [
        ['AWSAccessKeyId', AKID],
        ['Expires', '1'],
        ['Signature', 'x'],
      ],
      headers: {},
      now: new Date(),
    }
    expectS3Error(() => authenticate(q, strict), 'InvalidRequest', { message: REFUSED })
  })
})
