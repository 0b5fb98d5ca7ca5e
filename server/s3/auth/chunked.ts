/**
 * @module aws-chunked decoding (docs/s3-sse-rules.md §2.6–§2.7): a byte-level state machine that passes data
 * through as subarrays, verifies chunk and trailer signatures, and collects the trailer checksum.
 */
import { createHash, type Hash } from 'node:crypto'
import { S3Error } from '../errors.js'
import { EMPTY_SHA256, hmacHex, sha256Hex, signaturesEqual } from '../../../lib/sigv4.js'

export interface ChunkedOptions {
  /** Chunks carry `;chunk-signature=` (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]). */
  signed: boolean
  /** Signed streams only: a signed trailer section follows (…-PAYLOAD-TRAILER); default: `trailerHeader` set. */
  signedTrailer?: boolean
  /** The `x-amz-trailer` header: the one trailer name allowed (lowercase). */
  trailerHeader?: string
  signingKey?: Buffer
  amzDate?: string
  scope?: string
  /** The request signature: "previous signature" of the first chunk. */
  seedSignature?: string
  /** `x-amz-decoded-content-length`. */
  decodedLength: number
  /** Filled with the received trailer once the stream is complete. */
  received?: ReceivedTrailer
}

/** What the decoder saw in the trailer section. */
export interface ReceivedTrailer {
  trailer?: { name: string; value: string }
}

/** Every chunk but the last data chunk must be at least this long (§2.6). */
export const MIN_CHUNK_SIZE = 8192
const MAX_LINE = 4096
const CR = 0x0d
const LF = 0x0a
const SIG_EXT_RE = /^;chunk-signature=([0-9a-f]{64})$/
const SIZE_RE = /^([0-9a-fA-F]{1,13})(;.*)?$/

const incomplete = (): S3Error => new S3Error('IncompleteBody', { message: 'The request body terminated unexpectedly' })
const malformedTrailer = (): S3Error => new S3Error('MalformedTrailerError')
const badSignature = (): S3Error => new S3Error('SignatureDoesNotMatch')

type State = 'size' | 'data' | 'data-crlf' | 'trailer' | 'done'

/**
 * Push-style aws-chunked parser. `push` returns the decoded data found in one input buffer
 * (subarrays of it, no copies); `end` checks the stream was complete. Errors are S3Errors:
 * IncompleteBody (truncated, framing broken, decoded length ≠ declared), InvalidChunkSizeError,
 * SignatureDoesNotMatch (chunk or trailer signature), MalformedTrailerError.
 */
export class AwsChunkedParser {
  private state: State = 'size'
  private line: Buffer[] = []
  private lineLength = 0
  private remaining = 0
  private sawCr = false
  private decoded = 0
  private chunkIndex = 0
  private lastDataSize = -1
  private previousSignature: string
  private chunkSignature = ''
  private chunkHash: Hash | undefined
  private trailerSignature: string | undefined
  private readonly signedTrailer: boolean

  constructor(private readonly opts: ChunkedOptions) {
    this.previousSignature = opts.seedSignature ?? ''
    this.signedTrailer = opts.signed && (opts.signedTrailer ?? opts.trailerHeader !== undefined)
    if (opts.signed && (!opts.signingKey || !opts.amzDate || !opts.scope || !opts.seedSignature)) {
      throw new TypeError('signed aws-chunked decoding needs signingKey, amzDate, scope and seedSignature')
    }
  }

  /** Feeds one input buffer; returns the data bytes it contained, in order. */
  push(buf: Buffer): Buffer[] {
    const out: Buffer[] = []
    let pos = 0
    const n = buf.length
    while (pos < n) {
      switch (this.state) {
        case 'data': {
          const take = Math.min(this.remaining, n - pos)
          const piece = buf.subarray(pos, pos + take)
          this.chunkHash?.update(piece)
          out.push(piece)
          pos += take
          this.remaining -= take
          if (this.remaining === 0) this.state = 'data-crlf'
          break
        }
        case 'data-crlf': {
          const b = buf[pos++]
          if (b === CR && !this.sawCr) this.sawCr = true
          else if (b === LF) this.endOfData()
          else throw incomplete()
          break
        }
        case 'done': {
          // Some clients end with an extra CRLF (STRM-13); anything else is stray trailing data.
          const b = buf[pos++]
          if (b !== CR && b !== LF) throw malformedTrailer()
          break
        }
        default: {
          const eol = buf.indexOf(LF, pos)
          const end = eol < 0 ? n : eol
          this.lineLength += end - pos
          if (this.lineLength > MAX_LINE) throw this.state === 'trailer' ? malformedTrailer() : incomplete()
          if (eol < 0) {
            this.line.push(Buffer.from(buf.subarray(pos, n)))
            pos = n
            break
          }
          const text = this.takeLine(buf, pos, eol)
          pos = eol + 1
          if (this.state === 'size') this.onSizeLine(text)
          else this.onTrailerLine(text)
        }
      }
    }
    return out
  }

  /** Call at the end of the input: throws IncompleteBody unless the terminator was seen. */
  end(): void {
    if (this.state !== 'done') throw incomplete()
  }

  private takeLine(buf: Buffer, start: number, eol: number): string {
    let text: string
    if (this.line.length === 0) text = buf.toString('latin1', start, eol)
    else {
      this.line.push(buf.subarray(start, eol))
      text = Buffer.concat(this.line).toString('latin1')
      this.line = []
    }
    this.lineLength = 0
    return text.endsWith('\r') ? text.slice(0, -1) : text
  }

  private onSizeLine(text: string): void {
    const m = SIZE_RE.exec(text)
    if (!m) throw incomplete()
    const size = parseInt(m[1], 16)
    if (this.opts.signed) {
      const sig = SIG_EXT_RE.exec(m[2] ?? '')
      if (!sig) throw badSignature()
      this.chunkSignature = sig[1]
    }
    this.chunkIndex++
    if (size > 0 && this.lastDataSize >= 0 && this.lastDataSize < MIN_CHUNK_SIZE) {
      throw new S3Error('InvalidChunkSizeError', {
        fields: [
          ['Chunk', this.chunkIndex - 1],
          ['BadChunkSize', this.lastDataSize],
        ],
      })
    }
    if (this.decoded + size > this.opts.decodedLength) throw incomplete()
    this.decoded += size
    if (size === 0) {
      if (this.decoded !== this.opts.decodedLength) throw incomplete()
      if (this.opts.signed) this.verifyChunk(EMPTY_SHA256)
      this.state = 'trailer'
      return
    }
    this.lastDataSize = size
    this.remaining = size
    this.chunkHash = this.opts.signed ? createHash('sha256') : undefined
    this.state = 'data'
  }

  private endOfData(): void {
    this.sawCr = false
    if (this.chunkHash) {
      this.verifyChunk(this.chunkHash.digest('hex'))
      this.chunkHash = undefined
    }
    this.state = 'size'
  }

  /** Chunk string to sign: AWS4-HMAC-SHA256-PAYLOAD, date, scope, previous signature, SHA256(""), SHA256(data). */
  private verifyChunk(dataHash: string): void {
    const o = this.opts
    const sts = `AWS4-HMAC-SHA256-PAYLOAD\n${o.amzDate}\n${o.scope}\n${this.previousSignature}\n${EMPTY_SHA256}\n${dataHash}`
    const expected = hmacHex(o.signingKey as Buffer, sts)
    if (!signaturesEqual(this.chunkSignature, expected)) throw badSignature()
    this.previousSignature = expected
  }

  private onTrailerLine(text: string): void {
    if (text === '') return this.finishTrailers()
    const colon = text.indexOf(':')
    if (colon <= 0) throw malformedTrailer()
    const name = text.slice(0, colon).trim().toLowerCase()
    const value = text.slice(colon + 1).trim()
    if (name === 'x-amz-trailer-signature') {
      if (!this.signedTrailer || this.trailerSignature !== undefined) throw malformedTrailer()
      this.trailerSignature = value
      return
    }
    const received = (this.opts.received ??= {})
    if (name !== this.opts.trailerHeader || received.trailer || this.trailerSignature !== undefined)
      throw malformedTrailer()
    received.trailer = { name, value }
  }

  /** The empty line: the trailer named by x-amz-trailer must be there, and signed if the stream is. */
  private finishTrailers(): void {
    const trailer = this.opts.received?.trailer
    if (this.opts.trailerHeader !== undefined && !trailer) throw malformedTrailer()
    if (this.signedTrailer) {
      if (this.trailerSignature === undefined) throw malformedTrailer()
      const o = this.opts
      const lines = trailer ? `${trailer.name}:${trailer.value}\n` : ''
      const sts = `AWS4-HMAC-SHA256-TRAILER\n${o.amzDate}\n${o.scope}\n${this.previousSignature}\n${sha256Hex(lines)}`
      if (!signaturesEqual(this.trailerSignature, hmacHex(o.signingKey as Buffer, sts))) throw badSignature()
    }
    this.state = 'done'
  }
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
}

/**
 * Decodes an aws-chunked body: yields the object bytes (subarrays of the input) and throws an
 * S3Error as soon as the stream is found bad — at the latest before returning, so a consumer
 * that commits only after the loop completed never commits a bad body. The trailer, if any,
 * is written into `opts.received` before the generator returns.
 */
export async function* decodeAwsChunked(
  source: AsyncIterable<Uint8Array>,
  opts: ChunkedOptions,
): AsyncGenerator<Buffer> {
  const parser = new AwsChunkedParser(opts)
  for await (const chunk of source) {
    const out = parser.push(asBuffer(chunk))
    for (let i = 0; i < out.length; i++) yield out[i]
  }
  parser.end()
}
