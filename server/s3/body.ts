/**
 * @module Request-body verification (docs/s3-sse-rules.md §2.5–§2.7, §3.7, §3.16): decodes aws-chunked, computes
 * MD5 / the object checksum / SHA-256 while streaming, and fails the stream before it completes.
 */
import { createHash } from 'node:crypto'
import { decodeAwsChunked, type ReceivedTrailer } from './auth/chunked.js'
import { parsePayloadMode } from './auth/common.js'
import type { AuthContext, PayloadMode } from './auth/types.js'
import {
  CHECKSUM_LENGTH,
  checksumMismatch,
  createChecksum,
  decodeBase64Exact,
  parseChecksumHeaders,
  parseTrailerHeader,
  type ChecksumAlgorithm,
  type SentChecksum,
} from './checksums.js'
import { S3Error } from './errors.js'
import { OFFLOAD_THRESHOLD, offloadedHash } from './hash-offload.js'
import { releaseBody } from '../expect-continue.js'

/** What a completely read, verified body was. */
export interface BodyDigests {
  size: number
  md5: Buffer
  /** The checksum stored with the object: the client's algorithm, else CRC64NVME (§3.16). */
  checksum: { algorithm: ChecksumAlgorithm; value: string }
}

/** Body-related request headers, validated before the body is read. */
export interface BodyHeaderInfo {
  /** Content-MD5 as sent and decoded. */
  contentMd5?: { sent: string; digest: Buffer }
  /** A checksum sent as an `x-amz-checksum-*` header. */
  checksum?: SentChecksum
  /** The lowercase trailer name and algorithm announced by `x-amz-trailer`. */
  trailer?: { name: string; algorithm: ChecksumAlgorithm }
  /** `x-amz-decoded-content-length` of an aws-chunked body. */
  decodedLength?: number
}

/**
 * Checks everything about the body that can be judged from headers alone (§1.4 step 3), so the
 * server can answer before reading: Content-MD5 syntax (400 InvalidDigest + `Content-MD5`),
 * checksum headers (400 InvalidRequest, §3.16), `x-amz-trailer` (400 InvalidRequest, §2.7), a
 * header checksum and a trailer together (the "Expecting a single" error), and
 * `x-amz-decoded-content-length` for aws-chunked bodies (411 MissingContentLength).
 */
export function precheckBodyHeaders(headers: Readonly<Record<string, string>>): BodyHeaderInfo {
  const info: BodyHeaderInfo = {}
  const md5 = headers['content-md5']
  if (md5 !== undefined) {
    const digest = decodeBase64Exact(md5.trim(), 16)
    if (!digest) throw new S3Error('InvalidDigest', { fields: [['Content-MD5', md5]] })
    info.contentMd5 = { sent: md5, digest }
  }
  info.checksum = parseChecksumHeaders(headers)
  const trailer = headers['x-amz-trailer']
  if (trailer !== undefined) {
    info.trailer = { name: trailer.trim().toLowerCase(), algorithm: parseTrailerHeader(trailer) }
    if (info.checksum) {
      throw new S3Error('InvalidRequest', {
        message: 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
      })
    }
  }
  if ((headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-')) {
    const declared = headers['x-amz-decoded-content-length']
    if (declared === undefined || !/^\d{1,16}$/.test(declared.trim())) throw new S3Error('MissingContentLength')
    info.decodedLength = Number(declared.trim())
  }
  return info
}

/**
 * The Content-Encoding to store, given the header value or the request headers: the list without
 * `aws-chunked` (case-insensitive); undefined when nothing remains (§2.6, STRM-12).
 * `aws-chunked,gzip` → `gzip`; `aws-chunked` → undefined; `gzip, br` → unchanged.
 */
export function storedContentEncoding(
  valueOrHeaders: string | undefined | Readonly<Record<string, string>>,
): string | undefined {
  const value = typeof valueOrHeaders === 'object' ? valueOrHeaders['content-encoding'] : valueOrHeaders
  if (value === undefined) return undefined
  const parts = value.split(',').map((s) => s.trim())
  if (!parts.some((p) => p.toLowerCase() === 'aws-chunked')) return value
  const kept = parts.filter((p) => p !== '' && p.toLowerCase() !== 'aws-chunked')
  return kept.length > 0 ? kept.join(',') : undefined
}

export interface VerifyBodyOptions {
  /** The authenticated context; null for anonymous requests (payload mode then from the header). */
  auth: AuthContext | null
  headers: Readonly<Record<string, string>>
  /** `Content-Length` of a raw body (absent with `Transfer-Encoding: chunked`). */
  contentLength?: number
  /** How BadDigest's `ExpectedDigest` is written: hex (PutObject, default) or base64 as sent (UploadPart). */
  md5ExpectedAs?: 'hex' | 'base64'
  /** Algorithm computed when the client sends no checksum (an upload's algorithm); default CRC64NVME. */
  defaultChecksum?: ChecksumAlgorithm
}

function payloadOf(opts: VerifyBodyOptions): PayloadMode {
  if (opts.auth) return opts.auth.payload
  const header = opts.headers['x-amz-content-sha256']
  if (header === undefined) return { kind: 'unsigned' }
  const mode = parsePayloadMode(header)
  // Signed chunks cannot be verified without a signing key.
  if (mode.kind === 'streaming-signed') throw new S3Error('AccessDenied')
  return mode
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
}

/**
 * Wraps a request body. `stream` yields the plaintext object bytes (aws-chunked decoded) while
 * computing MD5, the object checksum and, for a hex `x-amz-content-sha256`, SHA-256. At the end
 * it checks, in order: length (IncompleteBody), `x-amz-content-sha256` (XAmzContentSHA256Mismatch
 * + ClientComputedContentSHA256, S3ComputedContentSHA256), Content-MD5 (BadDigest + ExpectedDigest,
 * CalculatedDigest), checksum (BadDigest) — and throws before completing if any fails, so
 * nothing that commits only after the stream completed can commit a bad body. Chunk/trailer
 * signature and framing errors are thrown as soon as they are seen. `digests()` is available
 * once the stream has completed. Header syntax errors are thrown synchronously (precheckBodyHeaders).
 */
export function verifyBody(
  source: AsyncIterable<Uint8Array>,
  opts: VerifyBodyOptions,
): { stream: AsyncGenerator<Buffer>; digests(): BodyDigests } {
  const info = precheckBodyHeaders(opts.headers)
  const payload = payloadOf(opts)
  // The handler reads the body now: a client waiting on Expect: 100-continue may send it.
  releaseBody(source)
  const streaming = payload.kind === 'streaming-signed' || payload.kind === 'streaming-unsigned-trailer'
  if (streaming && info.decodedLength === undefined) throw new S3Error('MissingContentLength')
  const trailer = streaming ? info.trailer : undefined
  const algorithm: ChecksumAlgorithm =
    info.checksum?.algorithm ?? trailer?.algorithm ?? opts.defaultChecksum ?? 'CRC64NVME'
  const received: ReceivedTrailer = {}
  let data: AsyncIterable<Uint8Array> = source
  if (streaming) {
    const auth = opts.auth
    data = decodeAwsChunked(source, {
      signed: payload.kind === 'streaming-signed',
      signedTrailer: payload.kind === 'streaming-signed' && payload.trailer,
      trailerHeader: trailer?.name,
      signingKey: auth?.signingKey,
      amzDate: auth?.amzDate,
      scope: auth?.scope,
      seedSignature: auth?.seedSignature,
      decodedLength: info.decodedLength as number,
      received,
    })
  }
  let result: BodyDigests | undefined

  // Large bodies hash MD5 (and SHA-256) on the worker thread while this thread checksums and
  // encrypts; small ones inline, where a worker round trip would cost more than it saves.
  const expected = streaming ? info.decodedLength : opts.contentLength
  const offload = expected === undefined || expected >= OFFLOAD_THRESHOLD

  async function* run(): AsyncGenerator<Buffer> {
    const wantSha256 = payload.kind === 'sha256'
    const remote = offload
      ? offloadedHash(['md5', `checksum:${algorithm}`, ...(wantSha256 ? (['sha256'] as const) : [])])
      : undefined
    const md5 = remote ? undefined : createHash('md5')
    const sha256 = !remote && wantSha256 ? createHash('sha256') : undefined
    const checksum = remote ? undefined : createChecksum(algorithm)
    const limit = streaming ? undefined : opts.contentLength
    let size = 0
    let completed = false
    try {
      for await (const chunk of data) {
        const b = asBuffer(chunk)
        size += b.length
        if (limit !== undefined && size > limit) throw new S3Error('IncompleteBody')
        const wait = remote?.update(b)
        md5?.update(b)
        sha256?.update(b)
        checksum?.update(b)
        yield b
        if (wait) await wait
      }
      completed = true
    } finally {
      if (!completed) remote?.cancel()
    }
    const remoteDigests = remote ? await remote.digest() : undefined
    // 1. Length (§3.7; aws-chunked lengths were checked by the decoder, §2.6).
    if (limit !== undefined && size !== limit) throw new S3Error('IncompleteBody')
    // 2. x-amz-content-sha256 (A16).
    if (payload.kind === 'sha256') {
      const computed = remoteDigests ? remoteDigests[2].toString('hex') : sha256!.digest('hex')
      if (computed !== payload.hex.toLowerCase()) {
        throw new S3Error('XAmzContentSHA256Mismatch', {
          fields: [
            ['ClientComputedContentSHA256', payload.hex],
            ['S3ComputedContentSHA256', computed],
          ],
        })
      }
    }
    // 3. Content-MD5 (§3.16).
    const md5Digest = remoteDigests ? remoteDigests[0] : md5!.digest()
    if (info.contentMd5 && !info.contentMd5.digest.equals(md5Digest)) {
      const expected = opts.md5ExpectedAs === 'base64' ? info.contentMd5.sent : info.contentMd5.digest.toString('hex')
      throw new S3Error('BadDigest', {
        fields: [
          ['ExpectedDigest', expected],
          ['CalculatedDigest', md5Digest.toString('base64')],
        ],
      })
    }
    // 4. Checksum: header, else trailer (§2.7, §3.16).
    const value = (remoteDigests ? remoteDigests[1] : checksum!.digest()).toString('base64')
    let sent = info.checksum?.value
    if (trailer) {
      sent = received.trailer?.value
      if (sent === undefined || !decodeBase64Exact(sent, CHECKSUM_LENGTH[algorithm]))
        throw new S3Error('MalformedTrailerError')
    }
    if (sent !== undefined && sent !== value) throw checksumMismatch(algorithm)
    result = { size, md5: md5Digest, checksum: { algorithm, value } }
  }

  return {
    stream: run(),
    digests(): BodyDigests {
      if (!result) throw new Error('verifyBody: digests() called before the body was completely read and verified')
      return result
    },
  }
}
