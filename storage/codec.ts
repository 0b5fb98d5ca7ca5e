/**
 * @module Versioned record encoding: every stored value is JSON with a `v` field, and a record
 * written by an older build is brought forward by one `migrate` step per old version (Garage's idea).
 */
import type { BucketRecord, UploadPartRecord, UploadRecord, VersionRecord } from './types.js'
import { legacyVersionId } from './versions.js'

/** Turns a record of version n into a record of version n + 1 (the result's `v` is set for it). */
export type Migration = (old: Record<string, unknown>) => Record<string, unknown>

export interface RecordCodec<T> {
  encode(rec: T): string
  /** Throws if the text is not a record of this kind, or was written by a newer build. */
  decode(text: string): T
}

export interface CodecSpec {
  /** Name used in error messages ("object", "bucket", …). */
  kind: string
  /** The version this build writes. */
  version: number
  /** migrations[n] upgrades a v=n record to v=n+1; one entry for every n < version. */
  migrations: Record<number, Migration>
  /**
   * The record type has no `v` field of its own (part and index records): `v` is added on encode
   * and removed on decode.
   */
  detachedVersion?: boolean
}

/** A record of a version this build cannot read or migrate. */
export class RecordVersionError extends Error {
  override readonly name = 'RecordVersionError'
}

/**
 * Builds the codec of one record kind.
 * @example defineCodec<BucketRecord>({ kind: 'bucket', version: 1, migrations: {} })
 */
export function defineCodec<T extends object>(spec: CodecSpec): RecordCodec<T> {
  for (let n = 1; n < spec.version; n++) {
    if (!spec.migrations[n]) throw new Error(`${spec.kind} codec: no migration from v${n}`)
  }
  return {
    encode(rec: T): string {
      if (spec.detachedVersion) return JSON.stringify({ v: spec.version, ...rec })
      const v = (rec as { v?: unknown }).v
      if (v !== spec.version)
        throw new RecordVersionError(`${spec.kind} record must be v${spec.version}, got v${String(v)}`)
      return JSON.stringify(rec)
    },
    decode(text: string): T {
      let rec = JSON.parse(text) as Record<string, unknown>
      if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) {
        throw new RecordVersionError(`${spec.kind} record is not an object`)
      }
      let v = rec.v
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
        throw new RecordVersionError(`${spec.kind} record has no valid version`)
      }
      if (v > spec.version) {
        throw new RecordVersionError(
          `${spec.kind} record v${v} was written by a newer build (this one reads up to v${spec.version})`,
        )
      }
      while (v < spec.version) {
        rec = { ...spec.migrations[v](rec), v: v + 1 }
        v++
      }
      if (spec.detachedVersion) {
        const { v: _v, ...rest } = rec
        return rest as T
      }
      return rec as T
    },
  }
}

/** Where an upload id points (the `U\0<uploadId>` index). */
export interface UploadRef {
  bucket: string
  key: string
}

// Current versions. Raising one requires a migration from the previous version and a stored
// fixture of the previous version in test/unit/storage/codec.test.ts.
export const bucketCodec = defineCodec<BucketRecord>({ kind: 'bucket', version: 1, migrations: {} })
/** v2: versions. A v1 object was the only one of its key: it becomes that key's null version. */
export const objectCodec = defineCodec<VersionRecord>({
  kind: 'object',
  version: 2,
  migrations: { 1: (old) => ({ ...old, versionId: legacyVersionId(Number(old.lastModified), ''), nullVersion: true }) },
})
/** v2: the upload knows the version id its object will have; a v1 upload gets one from its id. */
export const uploadCodec = defineCodec<UploadRecord>({
  kind: 'upload',
  version: 2,
  migrations: { 1: (old) => ({ ...old, versionId: legacyVersionId(Number(old.initiated), String(old.uploadId)) }) },
})
/** Where the null version of a key is (the `n\0…` index): its internal version id. */
export interface NullVersionRef {
  versionId: string
}
export const nullRefCodec = defineCodec<NullVersionRef>({
  kind: 'null-version',
  version: 1,
  migrations: {},
  detachedVersion: true,
})
export const partCodec = defineCodec<UploadPartRecord>({
  kind: 'part',
  version: 1,
  migrations: {},
  detachedVersion: true,
})
export const uploadRefCodec = defineCodec<UploadRef>({
  kind: 'upload-ref',
  version: 1,
  migrations: {},
  detachedVersion: true,
})
