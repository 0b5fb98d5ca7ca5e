/**
 * @module Semantics every MetadataStore shares, as pure functions: commit preconditions, which blobs
 * a commit leaves unreferenced, bucket compare-and-swap, how a commit or delete changes the versions
 * of a key, and part-list paging.
 */
import { ConflictError, NotFoundError } from './errors.js'
import type {
  BlobId,
  BucketRecord,
  CommitExpectation,
  DeleteMarkerRecord,
  DeleteOptions,
  ObjectRecord,
  UploadPartRecord,
  VersionRecord,
} from './types.js'
import { newVersionId } from './versions.js'
import { checkLockedReplace, checkRemovable } from './object-lock.js'

/**
 * Checks a conditional write against the current object.
 * If-None-Match: * (`absent`) fails with ConflictError('precondition') when an object exists;
 * If-Match (`etag`) fails with NotFoundError('object') when none exists (S3 answers 404 NoSuchKey,
 * not 412) and ConflictError('precondition') when the ETag differs.
 */
export function checkExpectation(
  key: string,
  current: VersionRecord | undefined,
  expect: CommitExpectation = {},
): void {
  if (current?.deleteMarker) current = undefined
  if (expect.absent && current) throw new ConflictError('precondition', key)
  if (expect.etag !== undefined) {
    if (!current) throw new NotFoundError('object', key)
    if (current.etag !== expect.etag) throw new ConflictError('precondition', key)
  }
  if (expect.record !== undefined) {
    if (!current) throw new NotFoundError('object', key)
    if (JSON.stringify(current) !== JSON.stringify(expect.record)) throw new ConflictError('precondition', key)
  }
}

/**
 * Precondition of completing an upload: every part of `rec` is, at the commit, the upload's part of
 * that number with the same blob (`current`: the upload's parts, read in the same atomic section).
 * A part re-uploaded since the caller read the part list fails with ConflictError('concurrent-change'):
 * committing would reference the blob the re-upload released, and drop the one that replaced it.
 */
export function checkCompletedParts(rec: ObjectRecord, uploadId: string, current: readonly UploadPartRecord[]): void {
  const blobs = new Map(current.map((p) => [p.partNumber, p.blobId]))
  for (const part of rec.parts) {
    if (blobs.get(part.partNumber) !== part.blobId) throw new ConflictError('concurrent-change', uploadId)
  }
}

/**
 * Compare-and-swap of a bucket record: NotFoundError('bucket') if the bucket is gone, and
 * ConflictError('concurrent-change') if `expected` is given and the stored record is no longer
 * equal to it (compared field by field, whatever the key order; an absent field equals undefined).
 */
export function checkBucketExpectation(
  name: string,
  current: BucketRecord | undefined,
  expected: BucketRecord | undefined,
): void {
  if (!current) throw new NotFoundError('bucket', name)
  if (expected !== undefined && canonicalJson(current) !== canonicalJson(expected))
    throw new ConflictError('concurrent-change', name)
}

/** JSON with object keys sorted at every level (undefined members dropped, as JSON does). */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  )
}

/**
 * Blobs a commit of `rec` leaves unreferenced: those of the replaced object and of the completed
 * upload's parts, minus any the new record still references (a metadata-only rewrite keeps its
 * blobs; a Complete keeps the parts it lists). Assumes a blob belongs to one record at a time.
 */
export function commitGarbage(rec: ObjectRecord, replaced: VersionRecord | undefined, uploadBlobs: BlobId[]): BlobId[] {
  const kept = new Set(rec.parts.map((p) => p.blobId))
  const garbage = new Set<BlobId>()
  for (const id of [...blobsOf(replaced), ...uploadBlobs]) {
    if (!kept.has(id)) garbage.add(id)
  }
  return [...garbage]
}

/** One page of an ascending part list: numbers greater than `after`, at most `limit`. */
export function partsAfter(
  all: UploadPartRecord[],
  q: { after?: number; limit: number },
): { parts: UploadPartRecord[]; isTruncated: boolean } {
  const rest = all.filter((p) => q.after === undefined || p.partNumber > q.after)
  const limit = Math.max(0, q.limit)
  return { parts: rest.slice(0, limit), isTruncated: limit > 0 && rest.length > limit }
}

/** The blobs of a version (none for a delete marker). */
export function blobsOf(rec: VersionRecord | undefined): BlobId[] {
  return rec && !rec.deleteMarker ? rec.parts.map((p) => p.blobId) : []
}

/** What a store knows about one key before a commit or delete (all read under the key's lock). */
export interface KeyState {
  /** The newest version (possibly a delete marker). */
  current?: VersionRecord
  /** The null version, wherever it sorts. */
  nullVersion?: VersionRecord
  /** The version a versionId addresses (in-place commit, delete of a version). */
  addressed?: VersionRecord
  /** Every version id of the key, newest first (read only for a delete with `unchanged`). */
  versions?: string[]
}

/** The writes a commit or delete makes to one key's versions. */
export interface KeyPlan {
  /** A version that goes away (its storage entry is deleted). */
  remove?: VersionRecord
  /** The version written (new, in place, or a delete marker). */
  put?: VersionRecord
  /** The null-version index afterwards: a version id, `null` to delete it, undefined = unchanged. */
  nullIndex?: string | null
  garbage: BlobId[]
}

function nullIndexAfter(put: VersionRecord | undefined, remove: VersionRecord | undefined): string | null | undefined {
  if (put?.nullVersion) return put.versionId
  if (remove?.nullVersion) return null
  return undefined
}

/**
 * A commit of `rec`: in place over the version `expect.record` names, else a new version (the
 * null version unless versioning is Enabled, replacing the previous null version).
 */
export function planCommit(
  bucket: BucketRecord,
  rec: ObjectRecord,
  state: KeyState,
  expect: CommitExpectation = {},
  uploadBlobs: BlobId[] = [],
): KeyPlan & { put: ObjectRecord } {
  if (expect.record !== undefined) {
    checkExpectation(rec.key, state.addressed, expect)
    checkLockedReplace(state.addressed, rec, Date.now(), { bypassGovernance: expect.bypassGovernance })
    const stored: ObjectRecord = { ...rec, nullVersion: state.addressed!.nullVersion }
    if (!stored.nullVersion) delete stored.nullVersion
    return { put: stored, remove: undefined, garbage: commitGarbage(stored, state.addressed, uploadBlobs) }
  }
  checkExpectation(rec.key, state.current, expect)
  const stored: ObjectRecord = { ...rec }
  delete stored.nullVersion
  if (bucket.versioning !== 'Enabled') stored.nullVersion = true
  const remove = stored.nullVersion ? state.nullVersion : undefined
  checkRemovable(remove, Date.now())
  return {
    put: stored,
    remove,
    nullIndex: nullIndexAfter(stored, remove),
    garbage: commitGarbage(stored, remove, uploadBlobs),
  }
}

/**
 * A delete: of the version `opts.versionId` addresses (for good), else of the current object
 * (unversioned buckets) or by a new delete marker (versioned; Suspended: the null marker).
 * If-Match (`opts.etag`) is checked against the addressed version, else the current object.
 */
export function planDelete(
  bucket: BucketRecord,
  key: string,
  state: KeyState,
  opts: DeleteOptions = {},
): KeyPlan & { marker?: DeleteMarkerRecord } {
  const u = opts.unchanged
  if (u) {
    const target = opts.versionId !== undefined ? state.addressed : state.current
    const same =
      state.versions !== undefined &&
      state.versions.length === u.versions.length &&
      state.versions.every((id, i) => id === u.versions[i])
    if (!same || JSON.stringify(target) !== JSON.stringify(u.record)) throw new ConflictError('precondition', key)
  }
  // A version Object Lock holds is refused here for every delete, the sweeper's included (ObjectLockedError).
  return planPlainDelete(bucket, key, state, opts)
}

function planPlainDelete(
  bucket: BucketRecord,
  key: string,
  state: KeyState,
  opts: DeleteOptions,
): KeyPlan & { marker?: DeleteMarkerRecord } {
  if (opts.versionId !== undefined) {
    checkExpectation(key, state.addressed, { etag: opts.etag })
    const remove = state.addressed
    checkRemovable(remove, Date.now(), { bypassGovernance: opts.bypassGovernance })
    return { remove, nullIndex: nullIndexAfter(undefined, remove), garbage: blobsOf(remove) }
  }
  checkExpectation(key, state.current, { etag: opts.etag })
  if (bucket.versioning === undefined) {
    const remove = state.nullVersion
    checkRemovable(remove, Date.now(), { bypassGovernance: opts.bypassGovernance })
    return { remove, nullIndex: nullIndexAfter(undefined, remove), garbage: blobsOf(remove) }
  }
  const marker: DeleteMarkerRecord = {
    v: 2,
    bucket: bucket.name,
    key,
    versionId: newVersionId(),
    deleteMarker: true,
    lastModified: Date.now(),
    ownerAccountId: bucket.ownerAccountId,
  }
  if (bucket.versioning === 'Suspended') marker.nullVersion = true
  const remove = marker.nullVersion ? state.nullVersion : undefined
  checkRemovable(remove, Date.now(), { bypassGovernance: opts.bypassGovernance })
  return { put: marker, marker, remove, nullIndex: nullIndexAfter(marker, remove), garbage: blobsOf(remove) }
}
