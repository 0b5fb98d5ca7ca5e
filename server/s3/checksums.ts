/**
 * @module The object checksums of docs/s3-sse-rules.md §3.16: incremental CRC32 / CRC32C / CRC64NVME / SHA1 /
 * SHA256 hashers (base64 of the big-endian digest), header parsing, BadDigest, multipart combination.
 */
import { createHash, type Hash } from 'node:crypto'
import { endianness } from 'node:os'
import zlib from 'node:zlib'
import { S3Error } from './errors.js'

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256'
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256']
/** Digest sizes in bytes. */
export const CHECKSUM_LENGTH: Readonly<Record<ChecksumAlgorithm, number>> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
}
/** Algorithms AWS added in 2026 that v1 answers as unsupported (§3.16). */
const UNSUPPORTED = new Set(['md5', 'sha512', 'xxhash64', 'xxhash3', 'xxhash128'])

/** An incremental hash: feed bytes, then take the big-endian digest once. */
export interface Hasher {
  update(data: Uint8Array): void
  digest(): Buffer
}

// ---- CRC tables: reflected polynomials, slicing-by-16 over little-endian 32-bit words ----
const SLICES = 16
const LITTLE_ENDIAN = endianness() === 'LE'

function crc32Tables(poly: number): Uint32Array {
  const t = new Uint32Array(256 * SLICES)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1
    t[n] = c >>> 0
  }
  for (let k = 1; k < SLICES; k++)
    for (let n = 0; n < 256; n++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 255]
  return t
}
const CRC32C_T = crc32Tables(0x82f63b78)
let crc32FallbackT: Uint32Array | undefined

/** Updates an inverted 32-bit CRC state; words are read through an aligned Int32Array view. */
function crc32Update(t: Uint32Array, crc: number, buf: Uint8Array): number {
  const n = buf.length
  let i = 0
  let head = LITTLE_ENDIAN ? (4 - (buf.byteOffset & 3)) & 3 : n
  if (head > n) head = n
  for (; i < head; i++) crc = (crc >>> 8) ^ t[(crc ^ buf[i]) & 255]
  const nw = ((n - i) >>> 4) << 2
  if (nw > 0) {
    const w = new Int32Array(buf.buffer, buf.byteOffset + i, nw)
    for (let j = 0; j < nw; j += 4) {
      const a = crc ^ w[j],
        b = w[j + 1],
        c = w[j + 2],
        d = w[j + 3]
      crc =
        t[3840 + (a & 255)] ^
        t[3584 + ((a >>> 8) & 255)] ^
        t[3328 + ((a >>> 16) & 255)] ^
        t[3072 + (a >>> 24)] ^
        t[2816 + (b & 255)] ^
        t[2560 + ((b >>> 8) & 255)] ^
        t[2304 + ((b >>> 16) & 255)] ^
        t[2048 + (b >>> 24)] ^
        t[1792 + (c & 255)] ^
        t[1536 + ((c >>> 8) & 255)] ^
        t[1280 + ((c >>> 16) & 255)] ^
        t[1024 + (c >>> 24)] ^
        t[768 + (d & 255)] ^
        t[512 + ((d >>> 8) & 255)] ^
        t[256 + ((d >>> 16) & 255)] ^
        t[d >>> 24]
    }
    i += nw * 4
  }
  for (; i < n; i++) crc = (crc >>> 8) ^ t[(crc ^ buf[i]) & 255]
  return crc
}

/** CRC64NVME tables as two 32-bit halves: poly 0xAD93D23594C93659 reflected = 0x9A6C9329_AC4BC9B5. */
const C64_LO = new Uint32Array(256 * SLICES)
const C64_HI = new Uint32Array(256 * SLICES)
for (let n = 0; n < 256; n++) {
  let lo = n,
    hi = 0
  for (let k = 0; k < 8; k++) {
    const odd = lo & 1
    lo = (lo >>> 1) | (hi << 31)
    hi = hi >>> 1
    if (odd) {
      lo ^= 0xac4bc9b5
      hi ^= 0x9a6c9329
    }
  }
  C64_LO[n] = lo >>> 0
  C64_HI[n] = hi >>> 0
}
for (let k = 1; k < SLICES; k++) {
  for (let n = 0; n < 256; n++) {
    const pl = C64_LO[(k - 1) * 256 + n],
      ph = C64_HI[(k - 1) * 256 + n]
    C64_LO[k * 256 + n] = (((pl >>> 8) | (ph << 24)) ^ C64_LO[pl & 255]) >>> 0
    C64_HI[k * 256 + n] = ((ph >>> 8) ^ C64_HI[pl & 255]) >>> 0
  }
}

/** CRC64NVME over an inverted (lo, hi) state held in `s` (no BigInt anywhere in here). */
function crc64Update(s: Int32Array, buf: Uint8Array): void {
  const TL = C64_LO,
    TH = C64_HI
  let lo = s[0],
    hi = s[1]
  const n = buf.length
  let i = 0
  let head = LITTLE_ENDIAN ? (4 - (buf.byteOffset & 3)) & 3 : n
  if (head > n) head = n
  for (; i < head; i++) {
    const x = (lo ^ buf[i]) & 255
    lo = ((lo >>> 8) | (hi << 24)) ^ TL[x]
    hi = (hi >>> 8) ^ TH[x]
  }
  const nw = ((n - i) >>> 4) << 2
  if (nw > 0) {
    const w = new Int32Array(buf.buffer, buf.byteOffset + i, nw)
    for (let j = 0; j < nw; j += 4) {
      const a = lo ^ w[j],
        b = hi ^ w[j + 1],
        c = w[j + 2],
        d = w[j + 3]
      const a0 = a & 255,
        a1 = (a >>> 8) & 255,
        a2 = (a >>> 16) & 255,
        a3 = a >>> 24
      const b0 = b & 255,
        b1 = (b >>> 8) & 255,
        b2 = (b >>> 16) & 255,
        b3 = b >>> 24
      const c0 = c & 255,
        c1 = (c >>> 8) & 255,
        c2 = (c >>> 16) & 255,
        c3 = c >>> 24
      const d0 = d & 255,
        d1 = (d >>> 8) & 255,
        d2 = (d >>> 16) & 255,
        d3 = d >>> 24
      lo =
        TL[3840 + a0] ^
        TL[3584 + a1] ^
        TL[3328 + a2] ^
        TL[3072 + a3] ^
        TL[2816 + b0] ^
        TL[2560 + b1] ^
        TL[2304 + b2] ^
        TL[2048 + b3] ^
        TL[1792 + c0] ^
        TL[1536 + c1] ^
        TL[1280 + c2] ^
        TL[1024 + c3] ^
        TL[768 + d0] ^
        TL[512 + d1] ^
        TL[256 + d2] ^
        TL[d3]
      hi =
        TH[3840 + a0] ^
        TH[3584 + a1] ^
        TH[3328 + a2] ^
        TH[3072 + a3] ^
        TH[2816 + b0] ^
        TH[2560 + b1] ^
        TH[2304 + b2] ^
        TH[2048 + b3] ^
        TH[1792 + c0] ^
        TH[1536 + c1] ^
        TH[1280 + c2] ^
        TH[1024 + c3] ^
        TH[768 + d0] ^
        TH[512 + d1] ^
        TH[256 + d2] ^
        TH[d3]
    }
    i += nw * 4
  }
  for (; i < n; i++) {
    const x = (lo ^ buf[i]) & 255
    lo = ((lo >>> 8) | (hi << 24)) ^ TL[x]
    hi = (hi >>> 8) ^ TH[x]
  }
  s[0] = lo
  s[1] = hi
}

class Crc32Hasher implements Hasher {
  private crc = 0
  constructor(private readonly table: Uint32Array | undefined) {}
  update(data: Uint8Array): void {
    this.crc = this.table ? crc32Update(this.table, ~this.crc, data) ^ -1 : zlib.crc32(data, this.crc)
  }
  digest(): Buffer {
    const out = Buffer.alloc(4)
    out.writeUInt32BE(this.crc >>> 0)
    return out
  }
}

class Crc64Hasher implements Hasher {
  private readonly state = new Int32Array([-1, -1])
  update(data: Uint8Array): void {
    crc64Update(this.state, data)
  }
  digest(): Buffer {
    const out = Buffer.alloc(8)
    out.writeUInt32BE(~this.state[1] >>> 0, 0)
    out.writeUInt32BE(~this.state[0] >>> 0, 4)
    return out
  }
}

class NodeHasher implements Hasher {
  private readonly h: Hash
  constructor(alg: string) {
    this.h = createHash(alg)
  }
  update(data: Uint8Array): void {
    this.h.update(data)
  }
  digest(): Buffer {
    return this.h.digest()
  }
}

/**
 * A new incremental hasher. CRC32 uses zlib.crc32 when the runtime has it (Node ≥ 20.15), else
 * (or with `portable`) the same pure-JS table code as CRC32C.
 */
export function createChecksum(algorithm: ChecksumAlgorithm, opts: { portable?: boolean } = {}): Hasher {
  switch (algorithm) {
    case 'CRC32':
      if (typeof zlib.crc32 === 'function' && !opts.portable) return new Crc32Hasher(undefined)
      return new Crc32Hasher((crc32FallbackT ??= crc32Tables(0xedb88320)))
    case 'CRC32C':
      return new Crc32Hasher(CRC32C_T)
    case 'CRC64NVME':
      return new Crc64Hasher()
    case 'SHA1':
      return new NodeHasher('sha1')
    case 'SHA256':
      return new NodeHasher('sha256')
  }
}

/** base64 checksum of whole data, e.g. `checksumOf('CRC32', Buffer.from('hello world'))` → `DUoRhQ==`. */
export function checksumOf(algorithm: ChecksumAlgorithm, data: Uint8Array): string {
  const h = createChecksum(algorithm)
  h.update(data)
  return h.digest().toString('base64')
}

/** `x-amz-checksum-<alg>` for an algorithm. */
export function checksumHeaderName(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`
}

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
/** Strict base64 decode of exactly `length` bytes (canonical padding); undefined if not. */
export function decodeBase64Exact(value: string, length: number): Buffer | undefined {
  if (!B64_RE.test(value)) return undefined
  const bytes = Buffer.from(value, 'base64')
  if (bytes.length !== length || bytes.toString('base64') !== value) return undefined
  return bytes
}

function algorithmOfSuffix(suffix: string): ChecksumAlgorithm | undefined {
  const up = suffix.toUpperCase()
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(up) ? (up as ChecksumAlgorithm) : undefined
}

/** A checksum the client sent: algorithm and base64 value. */
export interface SentChecksum {
  algorithm: ChecksumAlgorithm
  value: string
}

const MULTIPLE_MESSAGE = 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.'
const UNSUPPORTED_MESSAGE =
  'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]'

/**
 * The `x-amz-checksum-<alg>` header of a request, validated per §3.16 (`-type`, `-algorithm`,
 * `-mode` are not checksums). Throws 400 InvalidRequest for two checksum headers, for an
 * unsupported algorithm (md5, sha512, xxhash*) and for a value that is not base64 of the right length.
 */
export function parseChecksumHeaders(headers: Readonly<Record<string, string>>): SentChecksum | undefined {
  const found: Array<[string, string]> = []
  for (const name of Object.keys(headers)) {
    if (!name.startsWith('x-amz-checksum-')) continue
    const suffix = name.slice('x-amz-checksum-'.length)
    if (algorithmOfSuffix(suffix) || UNSUPPORTED.has(suffix)) found.push([suffix, headers[name]])
  }
  if (found.length === 0) return undefined
  if (found.length > 1) throw new S3Error('InvalidRequest', { message: MULTIPLE_MESSAGE })
  const [suffix, value] = found[0]
  const algorithm = algorithmOfSuffix(suffix)
  if (!algorithm) throw new S3Error('InvalidRequest', { message: UNSUPPORTED_MESSAGE })
  if (!decodeBase64Exact(value, CHECKSUM_LENGTH[algorithm])) {
    throw new S3Error('InvalidRequest', { message: `Value for x-amz-checksum-${suffix} header is invalid.` })
  }
  return { algorithm, value }
}

/** The algorithm named by `x-amz-trailer` (§2.7); anything else → 400 InvalidRequest. */
export function parseTrailerHeader(value: string): ChecksumAlgorithm {
  const name = value.trim().toLowerCase()
  const algorithm = name.startsWith('x-amz-checksum-') ? algorithmOfSuffix(name.slice(15)) : undefined
  if (!algorithm)
    throw new S3Error('InvalidRequest', { message: 'The value specified in the x-amz-trailer header is not supported' })
  return algorithm
}

/** 400 BadDigest `The <ALG> you specified did not match the calculated checksum.` (§3.16, §2.7). */
export function checksumMismatch(algorithm: ChecksumAlgorithm): S3Error {
  return new S3Error('BadDigest', { message: `The ${algorithm} you specified did not match the calculated checksum.` })
}

/** COMPOSITE multipart checksum `base64(H(H(p1)‖…‖H(pN)))-N` from the parts' base64 checksums. */
export function compositeChecksum(algorithm: ChecksumAlgorithm, partValues: readonly string[]): string {
  const h = createChecksum(algorithm)
  for (const v of partValues) h.update(Buffer.from(v, 'base64'))
  return `${h.digest().toString('base64')}-${partValues.length}`
}

// ---- CRC combination (zlib's crc32_combine, generalised to 64 bits; BigInt, once per part) ----
const CRC_SPEC = {
  CRC32: { width: 32n, poly: 0xedb88320n },
  CRC32C: { width: 32n, poly: 0x82f63b78n },
  CRC64NVME: { width: 64n, poly: 0x9a6c9329ac4bc9b5n },
} as const
export type CrcAlgorithm = keyof typeof CRC_SPEC
const X2N = new Map<CrcAlgorithm, bigint[]>()

/** a·b mod P in the reflected representation (bit width-1 is x⁰). */
function multModP(a: bigint, b: bigint, width: bigint, poly: bigint): bigint {
  if (a === 0n) return 0n
  let m = 1n << (width - 1n)
  let p = 0n
  for (;;) {
    if (a & m) {
      p ^= b
      if ((a & (m - 1n)) === 0n) break
    }
    m >>= 1n
    b = b & 1n ? (b >> 1n) ^ poly : b >> 1n
  }
  return p
}

/** x^(8·bytes) mod P. */
function xPowBytes(alg: CrcAlgorithm, bytes: number): bigint {
  const { width, poly } = CRC_SPEC[alg]
  let table = X2N.get(alg)
  if (!table) {
    table = [1n << (width - 2n)] // x^1
    for (let k = 1; k < 64; k++) table.push(multModP(table[k - 1], table[k - 1], width, poly))
    X2N.set(alg, table)
  }
  let p = 1n << (width - 1n) // x^0
  let k = 3 // 8 bits per byte
  for (let n = bytes; n > 0; n = Math.floor(n / 2), k++) if (n % 2 === 1) p = multModP(table[k], p, width, poly)
  return p
}

/**
 * The FULL_OBJECT CRC of a concatenation from the parts' CRCs and sizes:
 * `crc(A‖B) = crc(A)·x^(8|B|) mod P ⊕ crc(B)`. Returns base64 of the big-endian value.
 */
export function combineCrc(algorithm: CrcAlgorithm, parts: ReadonlyArray<{ value: string; size: number }>): string {
  const { width, poly } = CRC_SPEC[algorithm]
  const bytes = Number(width / 8n)
  let crc = BigInt('0x' + createChecksum(algorithm).digest().toString('hex')) // CRC of nothing
  for (const part of parts) {
    const c = BigInt('0x' + (Buffer.from(part.value, 'base64').toString('hex') || '0'))
    crc = multModP(xPowBytes(algorithm, part.size), crc, width, poly) ^ c
  }
  return Buffer.from(crc.toString(16).padStart(bytes * 2, '0'), 'hex').toString('base64')
}
