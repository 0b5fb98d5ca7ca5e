/**
 * @module Tests of verifyBody: lengths, x-amz-content-sha256, Content-MD5, checksums, aws-chunked bodies
 * (docs/s3-sse-rules.md §2.5–§2.7, §3.16).
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { authenticate } from '../../../server/s3/auth/sigv4.js'
import type { AuthContext } from '../../../server/s3/auth/types.js'
import {
  precheckBodyHeaders,
  storedContentEncoding,
  verifyBody,
  type VerifyBodyOptions,
} from '../../../server/s3/body.js'
import { checksumOf } from '../../../server/s3/checksums.js'
import { cut, pieces, unsignedChunked } from '../auth/chunks.js'
import { deps, expectS3Error, expectS3Rejects } from '../auth/signer.js'
import { PAYLOAD, v34Body, v34Request } from '../auth/vectors.js'

const md5b64 = (d: string | Buffer) => createHash('md5').update(d).digest('base64')
const sha256hex = (d: string | Buffer) => createHash('sha256').update(d).digest('hex')

const HELLO = Buffer.from('hello world')
const unsigned = (hex?: string): AuthContext => ({
  accessKeyId: 'AK',
  accountId: '1',
  principalArn: 'arn',
  mode: 'header',
  payload: hex ? { kind: 'sha256', hex } : { kind: 'unsigned' },
  amzDate: '20130524T000000Z',
  scope: '20130524/us-east-1/s3/aws4_request',
  signingKey: Buffer.alloc(32),
  seedSignature: '0'.repeat(64),
  signedHeaders: ['host'],
})
const trailerCtx = (): AuthContext => ({ ...unsigned(), payload: { kind: 'streaming-unsigned-trailer' } })

/** Consumes the verified stream like a handler would; returns what it saw. */
async function consume(body: Uint8Array | Uint8Array[], opts: VerifyBodyOptions) {
  const list = Array.isArray(body) ? body : [body]
  const v = verifyBody(pieces(list), opts)
  const out: Buffer[] = []
  let completed = false
  for await (const c of v.stream) out.push(c)
  completed = true
  return { data: Buffer.concat(out), digests: v.digests(), completed }
}

describe('verifyBody', () => {
  it('a raw body yields its bytes and MD5, CRC64NVME by default (CKS-05: test data..)', async () => {
    const data = Buffer.from('test data..')
    const r = await consume(cut(data, 3), { auth: unsigned(), headers: {}, contentLength: data.length })
    expect(r.data.equals(data)).toBe(true)
    expect(r.digests).toEqual({
      size: 11,
      md5: createHash('md5').update(data).digest(),
      checksum: { algorithm: 'CRC64NVME', value: 'qUVrWYOrIAM=' },
    })
  })

  it('AUTH-16 a hex payload hash of another body answers 400 XAmzContentSHA256Mismatch before the stream completes', async () => {
    const wrong = sha256hex('other')
    const v = verifyBody(pieces([HELLO]), { auth: unsigned(wrong), headers: {}, contentLength: HELLO.length })
    const seen: Buffer[] = []
    const consumer = (async () => {
      for await (const c of v.stream) seen.push(c)
      return 'committed'
    })()
    const err = await expectS3Rejects(consumer, 'XAmzContentSHA256Mismatch', {
      message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
      fields: { ClientComputedContentSHA256: wrong, S3ComputedContentSHA256: sha256hex(HELLO) },
    })
    expect(err.status).toBe(400)
    expect(() => v.digests()).toThrow()
  })

  it('AUTH-16 the matching hex hash (any case) passes', async () => {
    const r = await consume(HELLO, { auth: unsigned(sha256hex(HELLO).toUpperCase()), headers: {} })
    expect(r.digests.size).toBe(11)
  })

  it('AUTH-17 UNSIGNED-PAYLOAD bodies are accepted without a hash', async () => {
    expect((await consume(HELLO, { auth: unsigned(), headers: {} })).completed).toBe(true)
  })

  it('a raw body shorter than Content-Length answers 400 IncompleteBody (§3.7 message)', async () => {
    await expectS3Rejects(consume(HELLO, { auth: unsigned(), headers: {}, contentLength: 12 }), 'IncompleteBody', {
      message: 'You did not provide the number of bytes specified by the Content-Length HTTP header',
    })
    await expectS3Rejects(consume(HELLO, { auth: unsigned(), headers: {}, contentLength: 10 }), 'IncompleteBody')
  })

  it('MD5-01 a correct Content-MD5 passes', async () => {
    expect((await consume(HELLO, { auth: unsigned(), headers: { 'content-md5': md5b64(HELLO) } })).completed).toBe(true)
  })

  it('MD5-02 Content-MD5: MTIz (3 bytes) / __invalid__ answer 400 InvalidDigest + Content-MD5 before reading', () => {
    for (const bad of ['MTIz', '__invalid__', md5b64(HELLO).replace('==', '')]) {
      const err = expectS3Error(() => precheckBodyHeaders({ 'content-md5': bad }), 'InvalidDigest', {
        message: 'The Content-MD5 you specified was invalid.',
        fields: { 'Content-MD5': bad },
      })
      expect(err.status).toBe(400)
      expectS3Error(
        () => verifyBody(pieces([HELLO]), { auth: unsigned(), headers: { 'content-md5': bad } }),
        'InvalidDigest',
      )
    }
  })

  it('MD5-03 Content-MD5 of another body answers 400 BadDigest + ExpectedDigest (hex; base64 for UploadPart), CalculatedDigest', async () => {
    const sent = md5b64('other')
    const headers = { 'content-md5': sent }
    await expectS3Rejects(consume(HELLO, { auth: unsigned(), headers }), 'BadDigest', {
      message: 'The Content-MD5 you specified did not match what we received.',
      fields: { ExpectedDigest: Buffer.from(sent, 'base64').toString('hex'), CalculatedDigest: md5b64(HELLO) },
    })
    await expectS3Rejects(consume(HELLO, { auth: unsigned(), headers, md5ExpectedAs: 'base64' }), 'BadDigest', {
      fields: { ExpectedDigest: sent, CalculatedDigest: md5b64(HELLO) },
    })
  })

  it('CKS-01 x-amz-checksum-crc32: DUoRhQ== with hello world passes and is the stored checksum', async () => {
    const r = await consume(HELLO, { auth: unsigned(), headers: { 'x-amz-checksum-crc32': 'DUoRhQ==' } })
    expect(r.digests.checksum).toEqual({ algorithm: 'CRC32', value: 'DUoRhQ==' })
  })

  it('CKS-03 a well-formed but wrong CRC32 answers 400 BadDigest "The CRC32 you specified…"', async () => {
    for (const [alg, header] of [
      ['CRC32', 'x-amz-checksum-crc32'],
      ['SHA256', 'x-amz-checksum-sha256'],
      ['CRC64NVME', 'x-amz-checksum-crc64nvme'],
    ] as const) {
      const wrong = checksumOf(alg, Buffer.from('nope'))
      await expectS3Rejects(consume(HELLO, { auth: unsigned(), headers: { [header]: wrong } }), 'BadDigest', {
        message: `The ${alg} you specified did not match the calculated checksum.`,
      })
    }
  })

  it('checks run in order: length, x-amz-content-sha256, Content-MD5, checksum', async () => {
    const headers = { 'content-md5': md5b64('x'), 'x-amz-checksum-crc32': 'AAAAAA==' }
    await expectS3Rejects(
      consume(HELLO, { auth: unsigned(sha256hex('x')), headers, contentLength: 99 }),
      'IncompleteBody',
    )
    await expectS3Rejects(consume(HELLO, { auth: unsigned(sha256hex('x')), headers }), 'XAmzContentSHA256Mismatch')
    await expectS3Rejects(consume(HELLO, { auth: unsigned(), headers }), 'BadDigest', { message: /Content-MD5/ })
    await expectS3Rejects(
      consume(HELLO, { auth: unsigned(), headers: { 'x-amz-checksum-crc32': 'AAAAAA==' } }),
      'BadDigest',
      { message: /CRC32/ },
    )
  })

  it('an upload algorithm is used when the client sends no checksum', async () => {
    const r = await consume(HELLO, { auth: unsigned(), headers: {}, defaultChecksum: 'CRC32' })
    expect(r.digests.checksum).toEqual({ algorithm: 'CRC32', value: 'DUoRhQ==' })
  })

  it('anonymous bodies follow x-amz-content-sha256 when sent, and cannot use signed chunks', async () => {
    await expectS3Rejects(
      consume(HELLO, { auth: null, headers: { 'x-amz-content-sha256': sha256hex('x') } }),
      'XAmzContentSHA256Mismatch',
    )
    expect((await consume(HELLO, { auth: null, headers: {} })).completed).toBe(true)
    expectS3Error(
      () =>
        verifyBody(pieces([]), {
          auth: null,
          headers: {
            'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
            'x-amz-decoded-content-length': '0',
          },
        }),
      'AccessDenied',
    )
  })
})

describe('verifyBody with aws-chunked bodies', () => {
  const trailerHeaders = (alg: string) => ({
    'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': String(PAYLOAD.length),
    'x-amz-trailer': `x-amz-checksum-${alg}`,
  })

  it('STRM-02 vector V4 through verifyBody stores CRC32C sOO8/Q==', async () => {
    const req = v34Request(true)
    const auth = authenticate(req, deps())
    const r = await consume(cut(v34Body(true), 4000), { auth, headers: req.headers, contentLength: 66946 })
    expect(r.data.equals(PAYLOAD)).toBe(true)
    expect(r.digests.checksum).toEqual({ algorithm: 'CRC32C', value: 'sOO8/Q==' })
    expect(r.digests.size).toBe(66560)
  })

  it('STRM-01 vector V3 through verifyBody computes the default CRC64NVME and MD5', async () => {
    const req = v34Request(false)
    const r = await consume(v34Body(false), {
      auth: authenticate(req, deps()),
      headers: req.headers,
      contentLength: 66824,
    })
    expect(r.digests.checksum).toEqual({ algorithm: 'CRC64NVME', value: checksumOf('CRC64NVME', PAYLOAD) })
    expect(r.digests.md5).toEqual(createHash('md5').update(PAYLOAD).digest())
  })

  it.each([
    ['STRM-03', 'crc32', 'CRC32'],
    ['STRM-04', 'crc64nvme', 'CRC64NVME'],
  ] as const)(
    '%s STREAMING-UNSIGNED-PAYLOAD-TRAILER with x-amz-checksum-%s is verified and stored',
    async (_id, alg, ALG) => {
      const value = checksumOf(ALG, PAYLOAD)
      const wire = unsignedChunked(cut(PAYLOAD, 16384), `x-amz-checksum-${alg}:${value}`)
      const r = await consume(cut(wire, 1500), { auth: trailerCtx(), headers: trailerHeaders(alg) })
      expect(r.data.equals(PAYLOAD)).toBe(true)
      expect(r.digests.checksum).toEqual({ algorithm: ALG, value })
    },
  )

  it('STRM-08 a wrong trailer checksum answers 400 BadDigest "The CRC32 you specified…"', async () => {
    const wire = unsignedChunked(cut(PAYLOAD, 16384), `x-amz-checksum-crc32:${checksumOf('CRC32', Buffer.from('x'))}`)
    const err = await expectS3Rejects(
      consume(wire, { auth: trailerCtx(), headers: trailerHeaders('crc32') }),
      'BadDigest',
      {
        message: 'The CRC32 you specified did not match the calculated checksum.',
      },
    )
    expect(err.status).toBe(400)
  })

  it('STRM-09 a trailer value that is not base64 of the right length is MalformedTrailerError', async () => {
    const wire = unsignedChunked(cut(PAYLOAD, 16384), 'x-amz-checksum-crc32:xyz')
    await expectS3Rejects(
      consume(wire, { auth: trailerCtx(), headers: trailerHeaders('crc32') }),
      'MalformedTrailerError',
    )
  })

  it('STRM-10 x-amz-trailer: x-amz-foo answers 400 InvalidRequest before reading', () => {
    expectS3Error(
      () =>
        verifyBody(pieces([]), {
          auth: trailerCtx(),
          headers: { ...trailerHeaders('crc32'), 'x-amz-trailer': 'x-amz-foo' },
        }),
      'InvalidRequest',
      {
        message: 'The value specified in the x-amz-trailer header is not supported',
      },
    )
    expectS3Error(
      () => precheckBodyHeaders({ ...trailerHeaders('crc32'), 'x-amz-checksum-crc32': 'DUoRhQ==' }),
      'InvalidRequest',
      {
        message: /^Expecting a single x-amz-checksum- header/,
      },
    )
  })

  it('STRM-11 fewer decoded bytes than declared answer 400 IncompleteBody; a missing declaration answers 411', async () => {
    const wire = unsignedChunked(
      cut(PAYLOAD.subarray(1), 16384),
      `x-amz-checksum-crc32:${checksumOf('CRC32', PAYLOAD.subarray(1))}`,
    )
    await expectS3Rejects(consume(wire, { auth: trailerCtx(), headers: trailerHeaders('crc32') }), 'IncompleteBody', {
      message: 'The request body terminated unexpectedly',
    })
    const { 'x-amz-decoded-content-length': _, ...noLength } = trailerHeaders('crc32')
    const err = expectS3Error(() => precheckBodyHeaders(noLength), 'MissingContentLength', {
      message: 'You must provide the Content-Length HTTP header.',
    })
    expect(err.status).toBe(411)
  })

  it('STRM-12 Content-Encoding aws-chunked / aws-chunked,gzip is stored as absent / gzip', () => {
    expect(storedContentEncoding('aws-chunked')).toBeUndefined()
    expect(storedContentEncoding('aws-chunked,gzip')).toBe('gzip')
    expect(storedContentEncoding('gzip, AWS-CHUNKED, br')).toBe('gzip,br')
    expect(storedContentEncoding('gzip, br')).toBe('gzip, br')
    expect(storedContentEncoding(undefined)).toBeUndefined()
    expect(storedContentEncoding({ 'content-encoding': 'aws-chunked,gzip' })).toBe('gzip')
  })
})
