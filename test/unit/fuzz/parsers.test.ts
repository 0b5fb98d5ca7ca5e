/**
 * @module Hardening: property-based fuzzing of the request parsers. A hostile input
 * must end as a value or an S3Error — never another exception (TypeError, RangeError, a parser's
 * own error), never a hang. Runs are bounded; `FUZZ_RUNS` scales them (default 1).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AwsChunkedParser, decodeAwsChunked } from '../../../server/s3/auth/chunked.js'
import { verifyPresigned } from '../../../server/s3/auth/presign.js'
import { authenticate, parseAuthorization } from '../../../server/s3/auth/sigv4.js'
import type { AuthRequest } from '../../../server/s3/auth/types.js'
import { S3Error } from '../../../server/s3/errors.js'
import { parseEncryptionConfiguration } from '../../../server/s3/ops/bucket-encryption.js'
import { parseParts } from '../../../server/s3/ops/multipart-complete.js'
import { parseDeleteRequest } from '../../../server/s3/ops/object-delete.js'
import { bucketFromHost, parseOperation, parseTarget } from '../../../server/s3/route.js'
import { parseXmlBody, textOf } from '../../../server/s3/xml.js'
import type { UploadRecord } from '../../../storage/types.js'
import { cut, drain, pieces, signedChunked, unsignedChunked } from '../auth/chunks.js'
import { AKID, deps, signHeader, T0 } from '../auth/signer.js'

const SCALE = Number(process.env.FUZZ_RUNS ?? 1)
const runs = (n: number) => ({ numRuns: Math.max(1, Math.round(n * SCALE)) })

/** Runs fn; passes if it returns or throws an S3Error, fails (with the input) otherwise. */
function valueOrS3Error<T>(fn: () => T): T | S3Error {
  try {
    return fn()
  } catch (err) {
    if (err instanceof S3Error) return err
    throw err
  }
}

async function valueOrS3ErrorAsync<T>(fn: () => Promise<T>): Promise<T | S3Error> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof S3Error) return err
    throw err
  }
}

/** Byte-ish strings: printable ASCII, control characters, percent escapes, non-BMP text. */
const hostileString = (maxLength = 64) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc
      .array(
        fc.constantFrom(
          '%',
          '%2',
          '%zz',
          '%00',
          '%FF',
          '%C0%AF',
          '/',
          '..',
          '?',
          '&',
          '=',
          '+',
          ';',
          '#',
          '\0',
          '\r\n',
          ' ',
          'uploads',
          'uploadId',
          'partNumber',
          'delete',
          'encryption',
          'acl',
          'list-type=2',
          'location',
          'x',
        ),
        { maxLength: 20 },
      )
      .map((a) => a.join('')),
  )

const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'get', '', 'PROPFIND']

describe('fuzz: request target and operation', () => {
  it('parseTarget + parseOperation return an operation or throw S3Error', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...METHODS),
        hostileString(),
        fc.dictionary(fc.constantFrom('x-amz-copy-source', 'content-length', 'host', 'x-amz-date'), hostileString(16)),
        fc.option(hostileString(32), { nil: undefined }),
        (method, target, headers, host) => {
          const out = valueOrS3Error(() => {
            const t = parseTarget(target)
            const vhost = bucketFromHost(host, ['localhost', 's3.amazonaws.com', '127.0.0.1'])
            return parseOperation(method, t, headers, vhost)
          })
          if (!(out instanceof S3Error)) expect(typeof out.kind).toBe('string')
        },
      ),
      runs(3000),
    )
  })

  it('bucketFromHost never throws', () => {
    fc.assert(
      fc.property(
        fc.option(hostileString(80), { nil: undefined }),
        fc.array(hostileString(16), { maxLength: 3 }),
        (host, bases) => {
          const b = bucketFromHost(host, bases)
          expect(b === undefined || typeof b === 'string').toBe(true)
        },
      ),
      runs(2000),
    )
  })

  it('a huge target parses in linear time', () => {
    const t0 = Date.now()
    valueOrS3Error(() =>
      parseOperation('GET', parseTarget('/b/' + 'a%2F'.repeat(200_000) + '?' + 'x=1&'.repeat(100_000)), {}),
    )
    valueOrS3Error(() => bucketFromHost('a.'.repeat(100_000) + 's3.localhost', ['localhost']))
    expect(Date.now() - t0).toBeLessThan(3000)
  })
})

// ---------------------------------------------------------------------------------------------
// XML bodies

const VALID_BODIES: Array<[root: string, body: string]> = [
  [
    'CompleteMultipartUpload',
    '<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><PartNumber>1</PartNumber><ETag>"0cc175b9c0f1b6a831c399e269772661"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part><Part><PartNumber>2</PartNumber><ETag>"92eb5ffee6ae2fec3ad71c777531578f"</ETag></Part></CompleteMultipartUpload>',
  ],
  [
    'Delete',
    '<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a/b c</Key></Object><Object><Key>x</Key><ETag>"abc"</ETag></Object><Quiet>true</Quiet></Delete>',
  ],
  [
    'ServerSideEncryptionConfiguration',
    '<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>alias/app</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled><BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes></Rule></ServerSideEncryptionConfiguration>',
  ],
  [
    'CreateBucketConfiguration',
    '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>',
  ],
]

const UPLOAD = { checksumAlgorithm: 'CRC32' } as UploadRecord

/** What the server does with each body, exactly as its handler does (minus the I/O). */
function parseBody(root: string, text: string): unknown {
  switch (root) {
    case 'CompleteMultipartUpload':
      return parseParts(parseXmlBody(text, root), UPLOAD)
    case 'Delete':
      return parseDeleteRequest(text)
    case 'ServerSideEncryptionConfiguration':
      return parseEncryptionConfiguration(parseXmlBody(text, root))
    default:
      return textOf(parseXmlBody(text, root), 'LocationConstraint')
  }
}

/** One mutation of an XML document (the arbitrary picks the kind and its positions). */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.constantFrom(
      '<',
      '>',
      '</',
      '/>',
      '&',
      '&amp;',
      '&lt;',
      '&#0;',
      '&#x110000;',
      '&#99999999999;',
      '&bogus;',
      ']]>',
      '<![CDATA[x]]>',
      '<!-- c -->',
      '<?pi x?>',
      '<!DOCTYPE x [<!ENTITY e "eeeeeeeeee">]>',
      '\0',
      '\uFFFE',
      '"',
      "'",
      '=',
      'xmlns:a="u"',
      '<Part/>',
      '<Part></Part>',
      '<Object/>',
      '<Rule/>',
      '<PartNumber>-1</PartNumber>',
      '<PartNumber>99999999999999999999999</PartNumber>',
      '<Key></Key>',
      '<__proto__>x</__proto__>',
      '<constructor>1</constructor>',
      '<hasOwnProperty>1</hasOwnProperty>',
      '<toString/>',
      '<a:Part xmlns:a="x"/>',
    ),
  }),
  fc.record({ kind: fc.constant('bytes' as const), at: fc.nat(), text: fc.string({ unit: 'binary', maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fc.nat(),
    len: fc.integer({ min: 1, max: 200 }),
    times: fc.integer({ min: 1, max: 50 }),
  }),
  fc.record({
    kind: fc.constant('nest' as const),
    at: fc.nat(),
    depth: fc.integer({ min: 1, max: 3000 }),
    tag: fc.constantFrom('Part', 'Object', 'Rule', 'a', 'Key', 'ApplyServerSideEncryptionByDefault'),
  }),
  fc.record({ kind: fc.constant('hugeText' as const), at: fc.nat(), len: fc.integer({ min: 1000, max: 300_000 }) }),
)

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never

function applyMutation(doc: string, m: Mutation): string {
  const at = m.at % (doc.length + 1)
  switch (m.kind) {
    case 'truncate':
      return doc.slice(0, at)
    case 'insert':
    case 'bytes':
      return doc.slice(0, at) + m.text + doc.slice(at)
    case 'delete':
      return doc.slice(0, at) + doc.slice(at + m.len)
    case 'duplicate':
      return doc.slice(0, at) + doc.slice(at, at + m.len).repeat(m.times) + doc.slice(at)
    case 'nest':
      return doc.slice(0, at) + `<${m.tag}>`.repeat(m.depth) + `</${m.tag}>`.repeat(m.depth) + doc.slice(at)
    case 'hugeText':
      return doc.slice(0, at) + 'x'.repeat(m.len) + doc.slice(at)
  }
}

/** Replaces every text node with a value of a wrong type. */
const wrongValue = fc.constantFrom(
  '',
  ' ',
  '-1',
  '0',
  '1e9',
  'NaN',
  'true',
  'null',
  '<x/>',
  '<x>1</x><x>2</x>',
  '&#0;',
  '\u0000',
  'A'.repeat(5000),
)

describe('fuzz: XML request bodies', () => {
  it('mutated valid bodies parse to a value or throw S3Error', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID_BODIES),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        ([root, body], muts) => {
          const text = muts.reduce(applyMutation, body)
          valueOrS3Error(() => parseBody(root, text))
        },
      ),
      runs(1500),
    )
  })

  it('wrong-typed values in valid shapes parse to a value or throw S3Error', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID_BODIES),
        fc.array(wrongValue, { minLength: 1, maxLength: 12 }),
        ([root, body], values) => {
          let i = 0
          const text = body.replace(/>([^<]+)</g, () => `>${values[i++ % values.length]}<`)
          valueOrS3Error(() => parseBody(root, text))
        },
      ),
      runs(1000),
    )
  })

  it('arbitrary text parses to a value or throws S3Error', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID_BODIES.map(([r]) => r)),
        fc.oneof(fc.string(), fc.string({ unit: 'binary' })),
        (root, text) => {
          valueOrS3Error(() => parseBody(root, text))
          valueOrS3Error(() => parseBody(root, `<${root}>${text}</${root}>`))
        },
      ),
      runs(1000),
    )
  })

  it('entity expansion (billion laughs) does not blow up', () => {
    const lol = ['<!DOCTYPE Delete [<!ENTITY a "aaaaaaaaaa">']
    for (let i = 1; i < 10; i++)
      lol.push(`<!ENTITY ${String.fromCharCode(97 + i)} "${`&${String.fromCharCode(96 + i)};`.repeat(10)}">`)
    const text = `${lol.join('')}]><Delete><Object><Key>&j;</Key></Object></Delete>`
    const t0 = Date.now()
    const out = valueOrS3Error(() => parseDeleteRequest(text))
    expect(Date.now() - t0).toBeLessThan(5000)
    if (!(out instanceof S3Error)) expect(out.keys[0].key.length).toBeLessThan(1_000_000)
  })

  it('deep nesting up to the body cap answers quickly', () => {
    const depth = 200_000
    const text = '<Delete>' + '<Object>'.repeat(depth) + '</Object>'.repeat(depth) + '</Delete>'
    const t0 = Date.now()
    valueOrS3Error(() => parseDeleteRequest(text))
    valueOrS3Error(() => parseDeleteRequest('<Delete>' + '<Object>'.repeat(depth)))
    expect(Date.now() - t0).toBeLessThan(10_000)
  })
})

// ---------------------------------------------------------------------------------------------
// aws-chunked framing

const SIGNING = {
  key: Buffer.alloc(32, 7),
  amzDate: '20130524T000000Z',
  scope: '20130524/us-east-1/s3/aws4_request',
  seed: 'a'.repeat(64),
}

interface Framed {
  body: Buffer
  data: Buffer
  opts: ConstructorParameters<typeof AwsChunkedParser>[0]
}

const framed: fc.Arbitrary<Framed> = fc
  .record({
    sizes: fc.array(fc.integer({ min: 8192, max: 20_000 }), { maxLength: 3 }),
    last: fc.integer({ min: 0, max: 9000 }),
    signed: fc.boolean(),
    trailer: fc.boolean(),
  })
  .map(({ sizes, last, signed, trailer }) => {
    const all = [...sizes, last].filter((n) => n > 0)
    const data = Buffer.alloc(all.reduce((a, b) => a + b, 0))
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff
    const chunks = cut(data, all)
    const trailerLine = trailer ? 'x-amz-checksum-crc32:AAAAAA==' : undefined
    const body = signed ? signedChunked(chunks, SIGNING, trailerLine).body : unsignedChunked(chunks, trailerLine)
    const opts: Framed['opts'] = {
      signed,
      decodedLength: data.length,
      trailerHeader: trailer ? 'x-amz-checksum-crc32' : undefined,
      ...(signed
        ? { signingKey: SIGNING.key, amzDate: SIGNING.amzDate, scope: SIGNING.scope, seedSignature: SIGNING.seed }
        : {}),
    }
    return { body, data, opts }
  })

const byteMutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.constantFrom(
      '\r\n',
      '\r',
      '\n',
      '0\r\n\r\n',
      'ffffffffffffffff\r\n',
      'fffffffffffff\r\n',
      '-1\r\n',
      ';',
      ';chunk-signature=',
      'x-amz-checksum-crc32:AAAAAA==\r\n',
      '\0',
      'G'.repeat(5000),
    ),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 70 }) }),
  fc.record({
    kind: fc.constant('setSize' as const),
    at: fc.nat(),
    size: fc.constantFrom(
      '0',
      '1',
      '2000',
      '1fffffffffffff',
      'fffffffffffff',
      'FFFFF',
      '00000000000000000',
      ' 10',
      '10 ',
      '+10',
      '0x10',
    ),
  }),
)

type ByteMutation = typeof byteMutation extends fc.Arbitrary<infer T> ? T : never

function mutateBytes(buf: Buffer, m: ByteMutation): Buffer {
  const at = buf.length === 0 ? 0 : m.at % buf.length
  switch (m.kind) {
    case 'flip': {
      const b = Buffer.from(buf)
      if (b.length) b[at] ^= m.xor
      return b
    }
    case 'truncate':
      return buf.subarray(0, at)
    case 'insert':
      return Buffer.concat([buf.subarray(0, at), Buffer.from(m.bytes, 'latin1'), buf.subarray(at)])
    case 'delete':
      return Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.len)])
    case 'setSize': {
      const eol = buf.indexOf(';') >= 0 && buf.indexOf(';') < buf.indexOf('\r') ? buf.indexOf(';') : buf.indexOf('\r')
      return Buffer.concat([Buffer.from(m.size, 'latin1'), buf.subarray(Math.max(0, eol))])
    }
  }
}

/** The decoder's verdict on a body fed in the given piece sizes. */
async function decode(body: Buffer, opts: Framed['opts'], split: number[]): Promise<Buffer | S3Error> {
  const list: Buffer[] = []
  let at = 0
  for (const n of split) {
    if (at >= body.length) break
    list.push(body.subarray(at, at + n))
    at += n
  }
  if (at < body.length) list.push(body.subarray(at))
  return valueOrS3ErrorAsync(() => drain(decodeAwsChunked(pieces(list), { ...opts, received: {} })))
}

describe('fuzz: aws-chunked framing', () => {
  const split = fc.array(fc.integer({ min: 1, max: 9000 }), { maxLength: 8 })

  it('valid framing decodes to exactly the data under any split', async () => {
    await fc.assert(
      fc.asyncProperty(framed, split, async ({ body, data, opts }, sp) => {
        const out = await decode(body, opts, sp)
        expect(out).toBeInstanceOf(Buffer)
        expect((out as Buffer).equals(data)).toBe(true)
      }),
      runs(150),
    )
  })

  it('mutated framing throws S3Error or yields exactly the data', async () => {
    await fc.assert(
      fc.asyncProperty(
        framed,
        fc.array(byteMutation, { minLength: 1, maxLength: 3 }),
        split,
        async ({ body, data, opts }, muts, sp) => {
          const bad = muts.reduce(mutateBytes, body)
          const out = await decode(bad, opts, sp)
          // Signed chunks must yield exactly the data; unsigned ones carry no per-chunk integrity
          // (the trailer checksum is checked by the body verifier), so only the length is fixed.
          if (!(out instanceof S3Error)) {
            if (opts.signed) expect(out.equals(data)).toBe(true)
            else expect(out.length).toBe(data.length)
          }
        },
      ),
      runs(600),
    )
  })

  it('arbitrary bytes throw S3Error or yield at most the declared length', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 0, max: 100 }),
        fc.boolean(),
        async (bytes, decodedLength, signed) => {
          const opts: Framed['opts'] = signed
            ? {
                signed,
                decodedLength,
                signingKey: SIGNING.key,
                amzDate: SIGNING.amzDate,
                scope: SIGNING.scope,
                seedSignature: SIGNING.seed,
              }
            : { signed, decodedLength }
          const out = await decode(Buffer.from(bytes), opts, [7, 1, 50])
          if (!(out instanceof S3Error)) expect(out.length).toBe(decodedLength)
        },
      ),
      runs(1000),
    )
  })

  it('an endless size line is refused early (no unbounded buffering)', () => {
    const p = new AwsChunkedParser({ signed: false, decodedLength: 10 })
    expect(() => {
      for (let i = 0; i < 1000; i++) p.push(Buffer.alloc(1024, 0x31))
    }).toThrow(S3Error)
  })
})

// ---------------------------------------------------------------------------------------------
// SigV4 Authorization headers and presigned queries

const authMutation = fc.oneof(
  fc.record({
    kind: fc.constant('char' as const),
    at: fc.nat(),
    ch: fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 30 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.constantFrom(
      ',',
      ', ',
      '=',
      '/',
      ';',
      ' ',
      'Credential=',
      'SignedHeaders=',
      'Signature=',
      'AWS4-HMAC-SHA256 ',
      ',Signature=00',
      ';;',
      '//',
      '\t',
      'aws4_request',
      '20990101',
      'X'.repeat(10_000),
    ),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
)

type AuthMutation = typeof authMutation extends fc.Arbitrary<infer T> ? T : never

function mutateText(s: string, m: AuthMutation): string {
  const at = m.at % (s.length + 1)
  switch (m.kind) {
    case 'char':
      return s.slice(0, at) + m.ch + s.slice(at + 1)
    case 'delete':
      return s.slice(0, at) + s.slice(at + m.len)
    case 'insert':
      return s.slice(0, at) + m.text + s.slice(at)
    case 'truncate':
      return s.slice(0, at)
  }
}

describe('fuzz: SigV4 header and presigned query parsing', async () => {
  const valid = await signHeader(
    {
      method: 'PUT',
      host: 'examplebucket.s3.amazonaws.com',
      path: '/examplebucket/a b',
      headers: { 'x-amz-meta-x': 'y' },
    },
    { body: 'hello' },
  )
  const d = deps()

  it('the unmutated request authenticates', () => {
    expect(authenticate(valid, d)?.accessKeyId).toBe(AKID)
  })

  it('random Authorization values throw S3Error or parse', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString(200), fc.string({ unit: 'binary', maxLength: 300 })), (value) => {
        valueOrS3Error(() => parseAuthorization(value))
        valueOrS3Error(() => authenticate({ ...valid, headers: { ...valid.headers, authorization: value } }, d))
        valueOrS3Error(() =>
          authenticate({ ...valid, headers: { ...valid.headers, authorization: 'AWS4-HMAC-SHA256 ' + value } }, d),
        )
      }),
      runs(1500),
    )
  })

  it('mutated valid Authorization headers (and x-amz-date / payload hash) throw S3Error or still authenticate', () => {
    fc.assert(
      fc.property(
        fc.array(authMutation, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('authorization', 'x-amz-date', 'x-amz-content-sha256', 'host'),
        (muts, header) => {
          const headers = { ...valid.headers, [header]: muts.reduce(mutateText, valid.headers[header] ?? '') }
          const out = valueOrS3Error(() => authenticate({ ...valid, headers }, d))
          if (!(out instanceof S3Error)) expect(out?.accessKeyId).toBe(AKID)
        },
      ),
      runs(1500),
    )
  })

  it('hostile presigned queries throw S3Error or authenticate', () => {
    const base: Array<[string, string]> = [
      ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
      ['X-Amz-Credential', `${AKID}/20130524/us-east-1/s3/aws4_request`],
      ['X-Amz-Date', '20130524T000000Z'],
      ['X-Amz-Expires', '86400'],
      ['X-Amz-SignedHeaders', 'host'],
      ['X-Amz-Signature', 'a'.repeat(64)],
    ]
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.array(authMutation, { minLength: 1, maxLength: 3 })), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.boolean(),
        (edits, dup) => {
          const query = base.map(([k, v]) => [k, v] as [string, string])
          for (const [i, muts] of edits) query[i][1] = muts.reduce(mutateText, query[i][1])
          if (dup) query.push(query[edits[0][0]])
          const req: AuthRequest = {
            method: 'GET',
            path: '/b/k',
            query,
            headers: { host: 'b.s3.amazonaws.com' },
            now: T0,
          }
          valueOrS3Error(() => authenticate(req, d))
          valueOrS3Error(() => verifyPresigned(req, d))
        },
      ),
      runs(1500),
    )
  })
})
