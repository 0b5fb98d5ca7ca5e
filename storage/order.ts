/**
 * @module Byte-order helpers shared by every MetadataStore: UTF-8 encoding of names, the successor of
 * a prefix, and the order-preserving (key, uploadId) sort key that multipart uploads are listed by.
 */

const LONE_SURROGATE = /[\uD800-\uDFFF]/u
const NUL = 0x00
const ESCAPED_NUL = 0xff
/**
 * Ends the escaped key inside an upload sort key. An upload id is non-empty UTF-8, so the byte after
 * the terminator is never 0xff: "key, then id" sorts before "key + NUL + more" (00 ff …).
 */
const KEY_END = Buffer.from([NUL])

/**
 * UTF-8 bytes of a name. Precondition: the string is well-formed UTF-16; a lone surrogate would
 * be encoded as U+FFFD and two different keys would collide, so it is refused (TypeError).
 */
export function utf8(s: string): Buffer {
  if (LONE_SURROGATE.test(s)) throw new TypeError('name is not well-formed Unicode (lone surrogate)')
  return Buffer.from(s, 'utf8')
}

/** Compares two strings in UTF-8 byte order (= code point order; not JavaScript's UTF-16 order). */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(utf8(a), utf8(b))
}

/**
 * The smallest byte string greater than every byte string that starts with `b`; undefined when
 * there is none (empty or all 0xff). Used as the exclusive end of a prefix range and as the seek
 * target that skips a whole common prefix.
 */
export function successor(b: Uint8Array): Buffer | undefined {
  let end = b.length
  while (end > 0 && b[end - 1] === 0xff) end--
  if (end === 0) return undefined
  const out = Buffer.from(b.subarray(0, end))
  out[end - 1]++
  return out
}

/** `b` followed by one 0x00 byte: the smallest byte string strictly greater than `b`. */
export function justAfter(b: Uint8Array): Buffer {
  return Buffer.concat([b, Buffer.from([NUL])])
}

/**
 * Order-preserving escape: 0x00 becomes 0x00 0xff (0xff never occurs in UTF-8), so a key can be
 * followed by a 0x00 terminator and keys still sort by their bytes (FoundationDB's tuple layer). Byte-wise, so
 * escape(a + b) = escape(a) + escape(b) and prefixes stay prefixes.
 */
export function escapeNul(b: Uint8Array): Buffer {
  if (!b.includes(NUL)) return Buffer.from(b)
  const out: number[] = []
  for (const byte of b) {
    out.push(byte)
    if (byte === NUL) out.push(ESCAPED_NUL)
  }
  return Buffer.from(out)
}

function unescapeNul(b: Uint8Array): Buffer {
  const out: number[] = []
  for (let i = 0; i < b.length; i++) {
    out.push(b[i])
    if (b[i] === NUL) i++
  }
  return Buffer.from(out)
}

/**
 * Sort key of a multipart upload: escape(key) ‖ 0x00 ‖ uploadId. Orders by key bytes, then by
 * upload id bytes. For a key without NUL this is plainly `<key>\0<uploadId>`.
 * Precondition: upload ids are non-empty and contain no NUL.
 */
export function uploadSortKey(key: string, uploadId: string): Buffer {
  return Buffer.concat([escapeNul(utf8(key)), KEY_END, utf8(uploadId)])
}

/** The range of upload sort keys whose key is exactly `key`: [start, end). */
export function uploadsOfKey(key: string): { start: Buffer; end: Buffer } {
  const k = escapeNul(utf8(key))
  return { start: Buffer.concat([k, KEY_END]), end: Buffer.concat([k, Buffer.from([NUL, ESCAPED_NUL])]) }
}

/** Inverse of uploadSortKey. */
export function parseUploadSortKey(b: Buffer): { key: string; uploadId: string } {
  let i = 0
  while (i < b.length && !(b[i] === NUL && b[i + 1] !== ESCAPED_NUL)) i += b[i] === NUL ? 2 : 1
  return { key: unescapeNul(b.subarray(0, i)).toString('utf8'), uploadId: b.subarray(i + 1).toString('utf8') }
}

/** Precondition: upload ids are non-empty, at most 1024 characters and contain no NUL. */
export function assertUploadId(id: string): void {
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024 || id.includes('\0')) {
    throw new TypeError('invalid upload id')
  }
  utf8(id)
}

/** Precondition: bucket names are non-empty and contain no NUL (they delimit LevelDB keys). */
export function assertBucketName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.includes('\0')) throw new TypeError('invalid bucket name')
}

/** Precondition: part numbers are integers 1..10000. */
export function assertPartNumber(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 10000) throw new RangeError('part number must be an integer 1..10000')
}
