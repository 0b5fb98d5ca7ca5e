/**
 * @module LevelDB key layout. Keys are Buffers compared bytewise, so names sort in UTF-8 byte order:
 *
 *   b\0<bucket>                          bucket record
 *   o\0<bucket>\0<key>                   object record of a database written before versions
 *                                        (moved to `v\0…` when the store opens: level/migrate.ts)
 *   v\0<bucket>\0<escaped key>\0<vid>    one version of an object (vid: 32 hex, newest first)
 *   n\0<bucket>\0<key>                   where the null version of a key is: its vid
 *   u\0<bucket>\0<escaped key>\0<id>     upload record (a NUL in the key is escaped as 00 ff)
 *   U\0<uploadId>                        upload id → { bucket, key }
 *   p\0<uploadId>\0<00001..10000>        part record (5-digit zero-padded part number)
 *
 * Bucket names and upload ids never contain NUL, so `\0` ends them unambiguously. Object keys may
 * contain NUL: in `o\0…` and `n\0…` the key runs to the end, so it needs nothing; in `u\0…` and
 * `v\0…` a key with NUL is escaped (order.ts, uploadSortKey) so that entries still sort by key,
 * then upload or version id.
 */
import {
  assertBucketName,
  assertPartNumber,
  assertUploadId,
  successor,
  uploadSortKey,
  uploadsOfKey,
  utf8,
} from '../order.js'

/** A key space: every key in it starts with `prefix`; entries are addressed relative to it. */
export interface Space {
  prefix: Buffer
}

function tag(letter: string, ...names: string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(letter + '\0', 'latin1')]
  for (const name of names) parts.push(utf8(name), Buffer.from([0]))
  return Buffer.concat(parts)
}

/** The key space of all buckets (relative key: the bucket name). */
export const bucketSpace: Space = { prefix: tag('b') }

/** The key space of every object record written before versions (level/migrate.ts empties it). */
export const legacyObjectsSpace: Space = { prefix: tag('o') }

/** The key space of every version of every bucket (for referencedBlobs and admin scans). */
export const allVersionsSpace: Space = { prefix: tag('v') }

/** The key space of every upload of every bucket. */
export const allUploadsSpace: Space = { prefix: tag('u') }

/** The key space of every part of every upload. */
export const allPartsSpace: Space = { prefix: tag('p') }

/** Versions of one bucket (relative key: uploadSortKey(key, versionId), see order.ts). */
export function versionSpace(bucket: string): Space {
  assertBucketName(bucket)
  return { prefix: tag('v', bucket) }
}

/** Uploads of one bucket (relative key: uploadSortKey(key, uploadId)). */
export function uploadSpace(bucket: string): Space {
  assertBucketName(bucket)
  return { prefix: tag('u', bucket) }
}

/** Parts of one upload (relative key: the 5-digit part number). */
export function partSpace(uploadId: string): Space {
  assertUploadId(uploadId)
  return { prefix: tag('p', uploadId) }
}

/** `b\0<name>`. */
export function bucketKey(name: string): Buffer {
  assertBucketName(name)
  return Buffer.concat([bucketSpace.prefix, utf8(name)])
}

/** `v\0<bucket>\0<escaped key>\0<versionId>`. */
export function versionKey(bucket: string, key: string, versionId: string): Buffer {
  return Buffer.concat([versionSpace(bucket).prefix, uploadSortKey(key, versionId)])
}

/** The absolute [gte, lt) range of every version of one key. */
export function versionsOfKey(bucket: string, key: string): { gte: Buffer; lt: Buffer } {
  const prefix = versionSpace(bucket).prefix
  const r = uploadsOfKey(key)
  return { gte: Buffer.concat([prefix, r.start]), lt: Buffer.concat([prefix, r.end]) }
}

/** `n\0<bucket>\0<key>`: the null-version index, whose value is the null version's id. */
export function nullVersionKey(bucket: string, key: string): Buffer {
  assertBucketName(bucket)
  return Buffer.concat([tag('n', bucket), utf8(key)])
}

/** `u\0<bucket>\0<escaped key>\0<uploadId>`. */
export function uploadKey(bucket: string, key: string, uploadId: string): Buffer {
  assertUploadId(uploadId)
  return Buffer.concat([uploadSpace(bucket).prefix, uploadSortKey(key, uploadId)])
}

/** `U\0<uploadId>`: the upload-id index, whose value is { bucket, key }. */
export function uploadRefKey(uploadId: string): Buffer {
  assertUploadId(uploadId)
  return Buffer.concat([tag('U'), utf8(uploadId)])
}

/** The 5-digit zero-padded part number: sorts numerically as bytes (1..10000). */
export function partNumberKey(partNumber: number): Buffer {
  assertPartNumber(partNumber)
  return Buffer.from(String(partNumber).padStart(5, '0'), 'latin1')
}

/** `p\0<uploadId>\0<5-digit part number>`. */
export function partKey(uploadId: string, partNumber: number): Buffer {
  return Buffer.concat([partSpace(uploadId).prefix, partNumberKey(partNumber)])
}

/** Absolute [gte, lt) range of a relative range inside a space. */
export function absoluteRange(space: Space, range: { gte: Buffer; lt?: Buffer }): { gte: Buffer; lt: Buffer } {
  return {
    gte: Buffer.concat([space.prefix, range.gte]),
    // The prefix ends in 0x00, so its successor always exists.
    lt: range.lt ? Buffer.concat([space.prefix, range.lt]) : successor(space.prefix)!,
  }
}
