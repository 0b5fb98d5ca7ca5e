/**
 * @module Semantics every MetadataStore shares, as pure functions: commit preconditions, which blobs
 * a commit leaves unreferenced, bucket compare-and-swap, and part-list paging.
 */
import { ConflictError, NotFoundError } from './errors.js'
import type { BlobId, BucketRecord, CommitExpectation, ObjectRecord, UploadPartRecord } from './types.js'

/**
 * Checks a conditional write against the current object.
 * If-None-Match: * (`absent`) fails with ConflictError('precondition') when an object exists;
 * If-Match (`etag`) fails with NotFoundError('object') when none exists (S3 answers 404 NoSuchKey,
 * not 412) and ConflictError('precondition') when the ETag differs.
 */
export function checkExpectation(key: string, current: ObjectRecord | undefined, expect: CommitExpectation = {}): void {
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
export function checkBucketExpectation(name: string, current: BucketRecord | undefined, expected: BucketRecord | undefined): void {
  if (!current) throw new NotFoundError('bucket', name)
  if (expected !== undefined && canonicalJson(current) !== canonicalJson(expected)) throw new ConflictError('concurrent-change', name)
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
export function commitGarbage(rec: ObjectRecord, replaced: ObjectRecord | undefined, uploadBlobs: BlobId[]): BlobId[] {
  const kept = new Set(rec.parts.map((p) => p.blobId))
  const garbage = new Set<BlobId>()
  for (const id of [...(replaced?.parts.map((p) => p.blobId) ?? []), ...uploadBlobs]) {
    if (!kept.has(id)) garbage.add(id)
  }
  return [...garbage]
}

/** One page of an ascending part list: numbers greater than `after`, at most `limit`. */
export function partsAfter(all: UploadPartRecord[], q: { after?: number; limit: number }): { parts: UploadPartRecord[]; isTruncated: boolean } {
  const rest = all.filter((p) => q.after === undefined || p.partNumber > q.after)
  const limit = Math.max(0, q.limit)
  return { parts: rest.slice(0, limit), isTruncated: limit > 0 && rest.length > limit }
}
