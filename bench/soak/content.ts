/**
 * @module The soak's object contents: deterministic bytes regenerated on demand (an AES-256-CTR
 * keystream per segment), so no body is kept in memory and any byte range of any content written
 * can be checked later. A content is a list of segments (one for a PUT, one per part for a
 * multipart upload) and is known by an id; its SHA-256 is computed once, as it is first generated.
 */
import { createCipheriv, createHash } from 'node:crypto'

const CHUNK = 64 * 1024
const ZEROS = Buffer.alloc(CHUNK)

/** One stretch of keystream: `size` bytes of the stream keyed by SHA-256(`seed`). */
export interface Segment {
  seed: string
  size: number
}

export interface Content {
  id: string
  segments: Segment[]
  size: number
  /** SHA-256 (hex) of the whole content, once known. */
  sha256?: string
  /** The write that sent it (operation, upload id, request id), for failure reports. */
  origin?: string
}

let nextId = 0
const contents = new Map<string, Content>()

/** A new content made of `segments` (registered, so reads can be checked against it by id). */
export function makeContent(segments: Segment[]): Content {
  const c: Content = { id: `c${nextId++}`, segments, size: segments.reduce((n, s) => n + s.size, 0) }
  contents.set(c.id, c)
  return c
}

export function contentById(id: string): Content {
  const c = contents.get(id)
  if (!c) throw new Error(`unknown content ${id}`)
  return c
}

/** A fresh segment of `size` bytes, distinct from every other one. */
let nextSeed = 0
export function newSegment(size: number, runSeed: string): Segment {
  return { seed: `${runSeed}/${nextSeed++}`, size }
}

function keyOf(seed: string): Buffer {
  return createHash('sha256').update(seed).digest()
}

/** Bytes [from, to) of one segment, in chunks of at most 64 KiB. */
function* segmentBytes(seg: Segment, from: number, to: number): Generator<Buffer> {
  if (to <= from) return
  const iv = Buffer.alloc(16)
  // The CTR counter block of byte `from` (128-bit big-endian block index).
  iv.writeBigUInt64BE(BigInt(Math.floor(from / 16)), 8)
  const cipher = createCipheriv('aes-256-ctr', keyOf(seg.seed), iv)
  let skip = from % 16
  let pos = from
  while (pos < to) {
    const want = Math.min(CHUNK, to - pos + skip)
    let out = cipher.update(want === CHUNK ? ZEROS : ZEROS.subarray(0, want))
    if (skip) {
      out = out.subarray(skip)
      skip = 0
    }
    pos += out.length
    yield out
  }
}

/** Bytes [from, to) of a content (`to` exclusive), in chunks of at most 64 KiB. */
export function* contentBytes(c: Content, from = 0, to = c.size): Generator<Buffer> {
  let base = 0
  for (const seg of c.segments) {
    const s = Math.max(from, base)
    const e = Math.min(to, base + seg.size)
    if (s < e) yield* segmentBytes(seg, s - base, e - base)
    base += seg.size
    if (base >= to) return
  }
}

/** SHA-256 (hex) of bytes [from, to) of a content; the whole content's is cached. */
export function sha256Of(c: Content, from = 0, to = c.size): string {
  const whole = from === 0 && to === c.size
  if (whole && c.sha256) return c.sha256
  const h = createHash('sha256')
  for (const b of contentBytes(c, from, to)) h.update(b)
  const d = h.digest('hex')
  if (whole) c.sha256 = d
  return d
}

/** The MD5 (hex) of one segment: a part's ETag, or a single-part PUT's under SSE-S3. */
export function md5Of(seg: Segment): string {
  const h = createHash('md5')
  for (const b of segmentBytes(seg, 0, seg.size)) h.update(b)
  return h.digest('hex')
}
