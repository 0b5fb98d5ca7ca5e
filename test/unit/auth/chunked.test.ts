/** @module Tests of the aws-chunked decoder: vectors V3/V4, every split, STRM-01…STRM-14 at the unit level. */
import { createHash, createHmac } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  AwsChunkedParser,
  decodeAwsChunked,
  type ChunkedOptions,
  type ReceivedTrailer,
} from '../../../server/s3/auth/chunked.js'
import { authenticate } from '../../../server/s3/auth/sigv4.js'
import type { AuthContext } from '../../../server/s3/auth/types.js'
import { cut, drain, pieces, signedChunked, unsignedChunked } from './chunks.js'
import { EMPTY, deps, expectS3Error, expectS3Rejects } from './signer.js'
import { PAYLOAD, V3, V4, v34Body, v34Request } from './vectors.js'

const ctx3 = authenticate(v34Request(false), deps()) as AuthContext
const ctx4 = authenticate(v34Request(true), deps()) as AuthContext

function signedOpts(ctx: AuthContext, trailer: boolean, received?: ReceivedTrailer): ChunkedOptions {
  return {
    signed: true,
    trailerHeader: trailer ? 'x-amz-checksum-crc32c' : undefined,
    signingKey: ctx.signingKey,
    amzDate: ctx.amzDate,
    scope: ctx.scope,
    seedSignature: ctx.seedSignature,
    decodedLength: PAYLOAD.length,
    received,
  }
}
const signingInput = (ctx: AuthContext) => ({
  key: ctx.signingKey,
  amzDate: ctx.amzDate,
  scope: ctx.scope,
  seed: ctx.seedSignature,
})

/** Decodes `body` fed as the given split, synchronously; returns the decoded length. */
function decodeSplit(opts: ChunkedOptions, body: Buffer, cuts: number[]): number {
  const p = new AwsChunkedParser(opts)
  let at = 0
  let total = 0
  for (const c of [...cuts, body.length]) {
    for (const piece of p.push(body.subarray(at, c))) total += piece.length
    at = c
  }
  p.end()
  return total
}

describe('aws-chunked decoder', () => {
  it('STRM-01 vector V3: seed signature verifies and the three chunk signatures are reproduced', async () => {
    expect(ctx3.seedSignature).toBe(V3.seed)
    expect(ctx3.payload).toEqual({ kind: 'streaming-signed', trailer: false })
    const body = v34Body(false)
    expect(body.length).toBe(66824)
    expect(signedChunked(cut(PAYLOAD, [65536, 1024]), signingInput(ctx3)).signatures).toEqual(V3.chunks)
    expect((await drain(decodeAwsChunked(pieces([body]), signedOpts(ctx3, false)))).equals(PAYLOAD)).toBe(true)
  })

  it('STRM-02 vector V4: chunk and trailer signatures verify and the trailer is exposed', async () => {
    expect(ctx4.seedSignature).toBe(V4.seed)
    const body = v34Body(true)
    expect(body.length).toBe(66946)
    expect(
      createHash('sha256')
        .update(V4.trailerLine + '\n')
        .digest('hex'),
    ).toBe(V4.trailerHash)
    const { signatures } = signedChunked(cut(PAYLOAD, [65536, 1024]), signingInput(ctx4), V4.trailerLine)
    expect(signatures).toEqual([...V4.chunks, V4.trailerSignature])
    const received: ReceivedTrailer = {}
    expect((await drain(decodeAwsChunked(pieces([body]), signedOpts(ctx4, true, received)))).equals(PAYLOAD)).toBe(true)
    expect(received.trailer).toEqual({ name: 'x-amz-checksum-crc32c', value: 'sOO8/Q==' })
  })

  /**
   * Split points: every boundary in the first 300 bytes and within 300 bytes of each framing
   * region (chunk headers, CRLFs, zero chunk, trailer), and every 61st byte elsewhere.
   */
  function splitPoints(body: Buffer): number[] {
    const framing = [0, 65536 + 83, 65536 + 83 + 1024 + 83, body.length]
    const out: number[] = []
    for (let i = 0; i <= body.length; i++) if (i % 61 === 0 || framing.some((f) => Math.abs(i - f) <= 300)) out.push(i)
    return out
  }

  it('STRM-01 V3 body split at every framing byte boundary (and a sample of the data) decodes and verifies', () => {
    const body = v34Body(false)
    for (const i of splitPoints(body)) expect(decodeSplit(signedOpts(ctx3, false), body, [i])).toBe(66560)
  })

  it('STRM-02 V4 body split at every framing byte boundary (and a sample of the data) decodes, verifies and yields the trailer', () => {
    const body = v34Body(true)
    for (const i of splitPoints(body)) {
      const received: ReceivedTrailer = {}
      expect(decodeSplit(signedOpts(ctx4, true, received), body, [i])).toBe(66560)
      expect(received.trailer?.value).toBe('sOO8/Q==')
    }
  })

  it('V3/V4 bodies fed one byte at a time and in random three-way splits decode to the payload', async () => {
    for (const trailer of [false, true]) {
      const body = v34Body(trailer)
      const ones = Array.from({ length: body.length }, (_, i) => body.subarray(i, i + 1))
      expect(
        (await drain(decodeAwsChunked(pieces(ones), signedOpts(trailer ? ctx4 : ctx3, trailer)))).equals(PAYLOAD),
      ).toBe(true)
      fc.assert(
        fc.property(fc.integer({ min: 0, max: body.length }), fc.integer({ min: 0, max: body.length }), (a, b) => {
          expect(decodeSplit(signedOpts(trailer ? ctx4 : ctx3, trailer), body, [Math.min(a, b), Math.max(a, b)])).toBe(
            66560,
          )
        }),
        { numRuns: 300 },
      )
    }
  })

  it('data chunks pass through as subarrays of the input (no copies)', () => {
    const body = v34Body(false)
    const out = new AwsChunkedParser(signedOpts(ctx3, false)).push(body)
    expect(out.map((b) => b.length)).toEqual([65536, 1024])
    expect(out.every((b) => b.buffer === body.buffer)).toBe(true)
  })

  it('STRM-05 aws-chunked needs no Content-Length: framing alone delimits the body', async () => {
    const body = unsignedChunked(cut(PAYLOAD, 8192))
    expect(
      (await drain(decodeAwsChunked(pieces(cut(body, 1000)), { signed: false, decodedLength: PAYLOAD.length }))).equals(
        PAYLOAD,
      ),
    ).toBe(true)
  })

  it('STRM-06 one altered chunk signature answers 403 SignatureDoesNotMatch', async () => {
    for (const k of [0, 1, 2]) {
      const sigs = [...V3.chunks]
      sigs[k] = createHmac('sha256', 'x').update(String(k)).digest('hex')
      const err = await expectS3Rejects(
        drain(decodeAwsChunked(pieces([v34Body(false, sigs)]), signedOpts(ctx3, false))),
        'SignatureDoesNotMatch',
      )
      expect(err.status).toBe(403)
    }
    const tampered = Buffer.from(v34Body(false))
    tampered[200] = 0x62 // one data byte
    await expectS3Rejects(drain(decodeAwsChunked(pieces([tampered]), signedOpts(ctx3, false))), 'SignatureDoesNotMatch')
    const unsignedExt = Buffer.from(
      v34Body(false)
        .toString('latin1')
        .replace(/;chunk-signature=[0-9a-f]+/, ''),
      'latin1',
    )
    await expectS3Rejects(
      drain(decodeAwsChunked(pieces([unsignedExt]), signedOpts(ctx3, false))),
      'SignatureDoesNotMatch',
    )
  })

  it('STRM-07 a non-final chunk of 4096 bytes answers 403 InvalidChunkSizeError + Chunk, BadChunkSize', async () => {
    const data = Buffer.alloc(9000 + 4096 + 4096 + 4, 'x')
    for (const signed of [false, true]) {
      const chunks = cut(data, [9000, 4096, 4096, 4])
      const wire = signed ? signedChunked(chunks, signingInput(ctx3)).body : unsignedChunked(chunks)
      const opts = signed
        ? { ...signedOpts(ctx3, false), decodedLength: data.length }
        : { signed: false, decodedLength: data.length }
      const err = await expectS3Rejects(drain(decodeAwsChunked(pieces([wire]), opts)), 'InvalidChunkSizeError', {
        message: 'Only the last chunk is allowed to have a size less than 8192 bytes',
        fields: { Chunk: 2, BadChunkSize: 4096 },
      })
      expect(err.status).toBe(403)
    }
    // A small last data chunk (and a tiny single chunk) are fine.
    const ok = unsignedChunked(cut(Buffer.alloc(8193), [8192, 1]))
    expect((await drain(decodeAwsChunked(pieces([ok]), { signed: false, decodedLength: 8193 }))).length).toBe(8193)
  })

  it('STRM-09 a trailer other than x-amz-trailer, or none, answers 400 MalformedTrailerError (contract-defined)', async () => {
    const opts = { signed: false, decodedLength: 5, trailerHeader: 'x-amz-checksum-crc32' }
    const body = (t?: string) => unsignedChunked([Buffer.from('hello')], t)
    await expectS3Rejects(
      drain(decodeAwsChunked(pieces([body('x-amz-checksum-crc32c:AAAAAA==')]), opts)),
      'MalformedTrailerError',
      {
        message:
          'The request contained trailing data that was not well-formed or did not conform to our published schema.',
      },
    )
    await expectS3Rejects(drain(decodeAwsChunked(pieces([body()]), opts)), 'MalformedTrailerError')
    await expectS3Rejects(drain(decodeAwsChunked(pieces([body('no colon here')]), opts)), 'MalformedTrailerError')
    await expectS3Rejects(
      drain(decodeAwsChunked(pieces([body('x-amz-checksum-crc32:NhCmhg==')]), { ...opts, trailerHeader: undefined })),
      'MalformedTrailerError',
    )
    const twice = unsignedChunked(
      [Buffer.from('hello')],
      'x-amz-checksum-crc32:NhCmhg==\r\nx-amz-checksum-crc32:NhCmhg==',
    )
    await expectS3Rejects(drain(decodeAwsChunked(pieces([twice]), opts)), 'MalformedTrailerError')
    const garbage = Buffer.concat([body('x-amz-checksum-crc32:NhCmhg=='), Buffer.from('junk')])
    await expectS3Rejects(drain(decodeAwsChunked(pieces([garbage]), opts)), 'MalformedTrailerError')
  })

  it('STRM-09 a signed trailer without x-amz-trailer-signature is MalformedTrailerError', async () => {
    const wire = Buffer.from(
      v34Body(true)
        .toString('latin1')
        .replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, ''),
      'latin1',
    )
    await expectS3Rejects(drain(decodeAwsChunked(pieces([wire]), signedOpts(ctx4, true))), 'MalformedTrailerError')
  })

  it('STRM-11 fewer (or more) decoded bytes than x-amz-decoded-content-length answer 400 IncompleteBody (contract-defined)', async () => {
    const msg = 'The request body terminated unexpectedly'
    const wire = unsignedChunked(cut(PAYLOAD, 8192))
    for (const declared of [PAYLOAD.length + 1, PAYLOAD.length - 1]) {
      await expectS3Rejects(
        drain(decodeAwsChunked(pieces([wire]), { signed: false, decodedLength: declared })),
        'IncompleteBody',
        { message: msg },
      )
    }
    for (const cutAt of [0, 3, 100, wire.length - 3, wire.length - 1]) {
      await expectS3Rejects(
        drain(decodeAwsChunked(pieces([wire.subarray(0, cutAt)]), { signed: false, decodedLength: PAYLOAD.length })),
        'IncompleteBody',
        { message: msg },
      )
    }
    const badHex = Buffer.from('zz\r\nhello\r\n0\r\n\r\n')
    await expectS3Rejects(
      drain(decodeAwsChunked(pieces([badHex]), { signed: false, decodedLength: 5 })),
      'IncompleteBody',
    )
    const noCrlf = Buffer.from('5\r\nhelloXX0\r\n\r\n')
    await expectS3Rejects(
      drain(decodeAwsChunked(pieces([noCrlf]), { signed: false, decodedLength: 5 })),
      'IncompleteBody',
    )
  })

  it('STRM-13 an unsigned trailer written as "…==\\n\\r\\n\\r\\n" and LF-only lines are accepted', async () => {
    const lf = Buffer.from('5\nhello\n0\nx-amz-checksum-crc32:NhCmhg==\n\r\n\r\n')
    const received: ReceivedTrailer = {}
    const out = await drain(
      decodeAwsChunked(pieces([lf]), {
        signed: false,
        decodedLength: 5,
        trailerHeader: 'x-amz-checksum-crc32',
        received,
      }),
    )
    expect(out.toString()).toBe('hello')
    expect(received.trailer?.value).toBe('NhCmhg==')
    const mixed = unsignedChunked([Buffer.from('hello')], 'x-amz-checksum-crc32:NhCmhg==', {
      trailerEnd: '\n\r\n',
      end: '\r\n',
    })
    expect(
      (
        await drain(
          decodeAwsChunked(pieces([mixed]), { signed: false, decodedLength: 5, trailerHeader: 'x-amz-checksum-crc32' }),
        )
      ).toString(),
    ).toBe('hello')
  })

  it('STRM-14 a signed trailer with a wrong x-amz-trailer-signature answers 403 SignatureDoesNotMatch', async () => {
    const wire = v34Body(true, V4.chunks, 'e'.repeat(64))
    await expectS3Rejects(drain(decodeAwsChunked(pieces([wire]), signedOpts(ctx4, true))), 'SignatureDoesNotMatch')
    const otherValue = Buffer.from(v34Body(true).toString('latin1').replace('sOO8/Q==', 'AAAAAA=='), 'latin1')
    await expectS3Rejects(
      drain(decodeAwsChunked(pieces([otherValue]), signedOpts(ctx4, true))),
      'SignatureDoesNotMatch',
    )
  })

  it('signed decoding without a signing key is a programming error', () => {
    expect(() => new AwsChunkedParser({ signed: true, decodedLength: 0 })).toThrow(TypeError)
    expectS3Error(() => new AwsChunkedParser({ signed: false, decodedLength: 0 }).end(), 'IncompleteBody')
    expect(EMPTY).toHaveLength(64)
  })
})
