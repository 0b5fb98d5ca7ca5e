/** @module Test support: independent aws-chunked encoders (signed and unsigned) and stream helpers. */
import { createHash, createHmac } from 'node:crypto'
import { EMPTY } from './signer.js'

const sha = (d: string | Uint8Array) => createHash('sha256').update(d).digest('hex')
const hmac = (k: Uint8Array, d: string) => createHmac('sha256', k).update(d).digest('hex')

/** Splits `data` into chunks of `size` (last one shorter), or of the given sizes. */
export function cut(data: Buffer, sizes: number | number[]): Buffer[] {
  const list = typeof sizes === 'number' ? [] : sizes
  if (typeof sizes === 'number')
    for (let i = 0; i < data.length; i += sizes) list.push(Math.min(sizes, data.length - i))
  const out: Buffer[] = []
  let at = 0
  for (const n of list) {
    out.push(data.subarray(at, at + n))
    at += n
  }
  return out
}

/** `STREAMING-UNSIGNED-PAYLOAD-TRAILER` body: `<hex>\r\n<data>\r\n … 0\r\n[trailer\r\n]\r\n`. */
export function unsignedChunked(
  chunks: Buffer[],
  trailer?: string,
  opts: { trailerEnd?: string; end?: string } = {},
): Buffer {
  const parts: Buffer[] = []
  for (const c of chunks) parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'))
  parts.push(Buffer.from('0\r\n'))
  if (trailer !== undefined) parts.push(Buffer.from(trailer + (opts.trailerEnd ?? '\r\n')))
  parts.push(Buffer.from(opts.end ?? '\r\n'))
  return Buffer.concat(parts)
}

export interface SigningInput {
  key: Buffer
  amzDate: string
  scope: string
  seed: string
}

/**
 * Signed aws-chunked body (docs/s3-sse-rules.md §2.6), optionally with a signed trailer (§2.7); returns the signatures
 * too.
 */
export function signedChunked(
  chunks: Buffer[],
  s: SigningInput,
  trailer?: string,
): { body: Buffer; signatures: string[] } {
  const parts: Buffer[] = []
  const signatures: string[] = []
  let prev = s.seed
  for (const c of [...chunks, Buffer.alloc(0)]) {
    prev = hmac(s.key, `AWS4-HMAC-SHA256-PAYLOAD\n${s.amzDate}\n${s.scope}\n${prev}\n${EMPTY}\n${sha(c)}`)
    signatures.push(prev)
    parts.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${prev}\r\n`), c)
    if (c.length > 0 || trailer === undefined) parts.push(Buffer.from('\r\n'))
  }
  if (trailer !== undefined) {
    const sig = hmac(s.key, `AWS4-HMAC-SHA256-TRAILER\n${s.amzDate}\n${s.scope}\n${prev}\n${sha(trailer + '\n')}`)
    signatures.push(sig)
    parts.push(Buffer.from(`${trailer}\r\nx-amz-trailer-signature:${sig}\r\n\r\n`))
  }
  return { body: Buffer.concat(parts), signatures }
}

/** An async iterable over the given pieces. */
export async function* pieces(list: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of list) yield p
}

/** Reads an async iterable to one buffer. */
export async function drain(src: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = []
  for await (const c of src) out.push(Buffer.from(c))
  return Buffer.concat(out)
}
