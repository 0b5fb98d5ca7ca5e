/**
 * @module Tests of the checksum hashers, header parsing and multipart combination (docs/s3-sse-rules.md §0.3, §3.16).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  checksumOf,
  combineCrc,
  compositeChecksum,
  createChecksum,
  parseChecksumHeaders,
  parseTrailerHeader,
  type ChecksumAlgorithm,
} from '../../../server/s3/checksums.js'
import { expectS3Error } from '../auth/signer.js'

const ALL: ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256']
const CRCS = ['CRC32', 'CRC32C', 'CRC64NVME'] as const

describe('checksums (§0.3 vectors, §3.16)', () => {
  it.each([
    ['CRC32C', Buffer.alloc(66560, 'a'), 'sOO8/Q=='],
    ['CRC32', Buffer.from('hello world'), 'DUoRhQ=='],
    ['CRC32', Buffer.from('test-sse'), 'KHcEKQ=='],
    ['CRC64NVME', Buffer.from('123456789'), Buffer.from('ae8b14860a799888', 'hex').toString('base64')],
    ['CRC64NVME', Buffer.from('test data..'), 'qUVrWYOrIAM='],
    ['CRC64NVME', Buffer.from('test-sse'), 'Kr7StX/uFlQ='],
    ['SHA256', Buffer.alloc(0), '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='],
    ['SHA1', Buffer.from('abc'), 'qZk+NkcGgWq6PiVxeFDCbJzQ2J0='],
  ] as const)('%s vector %#', (alg, data, want) => {
    expect(checksumOf(alg, data)).toBe(want)
  })

  it('the pure-JS CRC32 equals zlib.crc32', () => {
    const data = Buffer.from('hello world')
    const h = createChecksum('CRC32', { portable: true })
    h.update(data)
    expect(h.digest().toString('base64')).toBe('DUoRhQ==')
  })

  it('incremental hashing over any split and any alignment equals one-shot hashing (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat(300), { maxLength: 5 }),
        fc.nat(7),
        (bytes, cuts, shift) => {
          // Copy into a buffer at an odd offset so the word-aligned path and both tails are exercised.
          const backing = Buffer.alloc(bytes.length + 8)
          backing.set(bytes, shift)
          const data = backing.subarray(shift, shift + bytes.length)
          const points = [...cuts.map((c) => Math.min(c, data.length)).sort((a, b) => a - b), data.length]
          for (const alg of ALL) {
            const h = createChecksum(alg)
            let at = 0
            for (const p of points) {
              h.update(data.subarray(at, p))
              at = p
            }
            expect(h.digest().toString('base64')).toBe(checksumOf(alg, Buffer.from(bytes)))
          }
          const portable = createChecksum('CRC32', { portable: true })
          portable.update(data)
          expect(portable.digest().toString('base64')).toBe(checksumOf('CRC32', data))
        },
      ),
      { numRuns: 300 },
    )
  })

  it('FULL_OBJECT CRCs combine from part CRCs and sizes (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: 5 }), (parts) => {
        const whole = Buffer.concat(parts)
        for (const alg of CRCS) {
          const combined = combineCrc(
            alg,
            parts.map((p) => ({ value: checksumOf(alg, p), size: p.length })),
          )
          expect(combined).toBe(checksumOf(alg, whole))
        }
      }),
      { numRuns: 200 },
    )
    // Large sizes need no data: combining with an all-zero 5 MiB part matches hashing it.
    const zeros = Buffer.alloc(5 * 1024 * 1024)
    const head = Buffer.from('head')
    for (const alg of CRCS) {
      const combined = combineCrc(alg, [
        { value: checksumOf(alg, head), size: 4 },
        { value: checksumOf(alg, zeros), size: zeros.length },
      ])
      expect(combined).toBe(checksumOf(alg, Buffer.concat([head, zeros])))
    }
  })

  it('COMPOSITE checksums are base64(H(H(p1)‖…‖H(pN)))-N', () => {
    const parts = ['a', 'b', 'c'].map((c) => Buffer.alloc(10, c))
    const values = parts.map((p) => checksumOf('SHA256', p))
    const inner = Buffer.concat(values.map((v) => Buffer.from(v, 'base64')))
    expect(compositeChecksum('SHA256', values)).toBe(`${checksumOf('SHA256', inner)}-3`)
    expect(compositeChecksum('CRC32', [checksumOf('CRC32', parts[0])])).toMatch(/^[A-Za-z0-9+/]{6}==-1$/)
  })

  it('CKS-01 a valid x-amz-checksum-crc32 header parses', () => {
    expect(parseChecksumHeaders({ 'x-amz-checksum-crc32': 'DUoRhQ==', 'x-amz-checksum-type': 'FULL_OBJECT' })).toEqual({
      algorithm: 'CRC32',
      value: 'DUoRhQ==',
    })
    expect(
      parseChecksumHeaders({ 'x-amz-sdk-checksum-algorithm': 'CRC32', 'x-amz-checksum-mode': 'ENABLED' }),
    ).toBeUndefined()
  })

  it('CKS-02 x-amz-checksum-crc32: xyz (and wrong lengths) answer 400 InvalidRequest "Value for … header is invalid."', () => {
    for (const [alg, bad] of [
      ['crc32', 'xyz'],
      ['crc32', 'DUoRhQ'],
      ['crc32c', 'qUVrWYOrIAM='],
      ['crc64nvme', 'DUoRhQ=='],
      ['sha256', 'DUoRhQ=='],
      ['sha1', '!!!!'],
    ]) {
      const err = expectS3Error(() => parseChecksumHeaders({ [`x-amz-checksum-${alg}`]: bad }), 'InvalidRequest', {
        message: `Value for x-amz-checksum-${alg} header is invalid.`,
      })
      expect(err.status).toBe(400)
    }
  })

  it('CKS-04 two checksum headers answer 400 InvalidRequest "Expecting a single x-amz-checksum- header…"', () => {
    expectS3Error(
      () =>
        parseChecksumHeaders({
          'x-amz-checksum-crc32': 'DUoRhQ==',
          'x-amz-checksum-sha1': 'qZk+NkcGgWq6PiVxeFDCbJzQ2J0=',
        }),
      'InvalidRequest',
      {
        message: 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
      },
    )
  })

  it('CKS-08 md5 / sha512 / xxhash* checksum headers answer the "unsupported" InvalidRequest', () => {
    for (const alg of ['md5', 'sha512', 'xxhash64', 'xxhash3', 'xxhash128']) {
      expectS3Error(() => parseChecksumHeaders({ [`x-amz-checksum-${alg}`]: 'AAAA' }), 'InvalidRequest', {
        message:
          'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]',
      })
    }
  })

  it('STRM-10 x-amz-trailer other than a checksum answers 400 InvalidRequest (contract-defined)', () => {
    expect(parseTrailerHeader('x-amz-checksum-crc64nvme')).toBe('CRC64NVME')
    expect(parseTrailerHeader(' X-Amz-Checksum-CRC32 ')).toBe('CRC32')
    for (const bad of ['x-amz-foo', 'x-amz-checksum-md5', '']) {
      expectS3Error(() => parseTrailerHeader(bad), 'InvalidRequest', {
        message: 'The value specified in the x-amz-trailer header is not supported',
      })
    }
  })
})
