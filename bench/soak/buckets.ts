/**
 * @module The soak's buckets and keys: one bucket per SSE mode (SSE-S3, SSE-KMS, SSE-KMS with
 * S3 Bucket Keys, SSE-C) and one whose writes send no SSE header and so take the bucket default,
 * which the configuration operations keep changing; the request headers of each mode; the
 * shared context every operation runs with; a seeded random source.
 */
import { createHash } from 'node:crypto'
import type { Model } from './model.js'
import type { SoakClient } from './s3.js'
import type { Stats } from './stats.js'
import { KMS_KEYS } from './server.js'

export type Mode = 'SSE-S3' | 'SSE-KMS' | 'SSE-KMS-BK' | 'SSE-C' | 'default'

export interface BucketSpec {
  name: string
  mode: Mode
}

export const DATA_BUCKETS: BucketSpec[] = [
  { name: 'soak-sse-s3', mode: 'SSE-S3' },
  { name: 'soak-sse-kms', mode: 'SSE-KMS' },
  { name: 'soak-sse-kms-bk', mode: 'SSE-KMS-BK' },
  { name: 'soak-sse-c', mode: 'SSE-C' },
  { name: 'soak-default', mode: 'default' },
]

/** Buckets whose policy and default encryption are changed concurrently (the first holds objects). */
export const CONFIG_BUCKETS = ['soak-default', 'soak-config-1', 'soak-config-2']

export const KEYS_PER_BUCKET = 40
export const HOT_KEYS = 3

/** Object key `i` of a bucket; some carry spaces, `+` and non-ASCII to exercise the encoding. */
export function keyName(i: number): string {
  if (i < 0) return `hot/${-i - 1}`
  return i % 7 === 3 ? `dir ü+ñ/obj ${i}` : `obj/${i}`
}

export const objectRegister = (bucket: string, key: string) => `object:${bucket}/${key}`

/** The SSE-C customer key of one object (fixed per key, so any read can present it). */
function customerKey(bucket: string, key: string): Buffer {
  return createHash('sha256').update(`soak customer key\0${bucket}\0${key}`).digest()
}

function ssecHeaders(bucket: string, key: string): Record<string, string> {
  const k = customerKey(bucket, key)
  return {
    'x-amz-server-side-encryption-customer-algorithm': 'AES256',
    'x-amz-server-side-encryption-customer-key': k.toString('base64'),
    'x-amz-server-side-encryption-customer-key-md5': createHash('md5').update(k).digest('base64'),
  }
}

/** Headers of a PutObject or CreateMultipartUpload in `b`'s mode. */
export function writeHeaders(b: BucketSpec, key: string): Record<string, string> {
  switch (b.mode) {
    case 'SSE-S3':
      return { 'x-amz-server-side-encryption': 'AES256' }
    case 'SSE-KMS':
      return { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': KMS_KEYS[0] }
    case 'SSE-KMS-BK':
      return {
        'x-amz-server-side-encryption': 'aws:kms',
        'x-amz-server-side-encryption-aws-kms-key-id': KMS_KEYS[1],
        'x-amz-server-side-encryption-bucket-key-enabled': 'true',
      }
    case 'SSE-C':
      return ssecHeaders(b.name, key)
    case 'default':
      return {}
  }
}

/** Headers of a GetObject, UploadPart or CompleteMultipartUpload: the customer key for SSE-C. */
export function readHeaders(b: BucketSpec, key: string): Record<string, string> {
  return b.mode === 'SSE-C' ? ssecHeaders(b.name, key) : {}
}

/** What a GET's SSE headers must say in `b` (undefined: whatever the bucket default was). */
export function expectedSse(b: BucketSpec): { header: string; value: string } | undefined {
  switch (b.mode) {
    case 'SSE-S3':
      return { header: 'x-amz-server-side-encryption', value: 'AES256' }
    case 'SSE-KMS':
    case 'SSE-KMS-BK':
      return { header: 'x-amz-server-side-encryption', value: 'aws:kms' }
    case 'SSE-C':
      return { header: 'x-amz-server-side-encryption-customer-algorithm', value: 'AES256' }
    case 'default':
      return undefined
  }
}

/** mulberry32: a small seeded generator, so a run's sequence of choices can be replayed. */
export class Rng {
  private s: number
  constructor(seed: number) {
    this.s = seed >>> 0
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1))
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]
  }
  chance(p: number): boolean {
    return this.next() < p
  }
}

export interface Ctx {
  client: SoakClient
  model: Model
  stats: Stats
  rng: Rng
  /** Distinguishes this run's contents from another run's. */
  runSeed: string
}

const KiB = 1024
const MiB = 1024 * KiB

/** A PUT size: 0 B to a few MiB, weighted to small objects, with the 64 KiB chunk edges. */
export function pickSize(rng: Rng): number {
  const r = rng.next()
  if (r < 0.05) return 0
  if (r < 0.35) return rng.int(1, 4 * KiB)
  if (r < 0.45) return rng.pick([64 * KiB - 1, 64 * KiB, 64 * KiB + 1, 128 * KiB, 128 * KiB + 1])
  if (r < 0.6) return rng.int(4 * KiB, 256 * KiB)
  if (r < 0.9) return rng.int(256 * KiB, MiB)
  return rng.int(MiB, 6 * MiB)
}
