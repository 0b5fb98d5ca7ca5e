/**
 * @module In-memory MetadataStore for tests only: same semantics as the LevelDB store. Every method
 * checks and mutates synchronously, so each operation is atomic without locks.
 */
import { ConflictError, NotFoundError } from '../errors.js'
import { listObjectEntries, listUploadEntries, listVersionEntries } from '../listing.js'
import {
  assertBucketName,
  assertPartNumber,
  assertUploadId,
  compareUtf8,
  uploadSortKey,
  uploadsOfKey,
} from '../order.js'
import {
  blobsOf,
  checkBucketExpectation,
  checkCompletedParts,
  partsAfter,
  planCommit,
  planDelete,
  type KeyPlan,
  type KeyState,
} from '../rules.js'
import type {
  BlobId,
  BucketRecord,
  CommitExpectation,
  CommitResult,
  DeleteOptions,
  DeleteResult,
  ListQuery,
  ListResult,
  MetadataStore,
  ObjectRecord,
  UploadListQuery,
  UploadListResult,
  UploadPartRecord,
  UploadRecord,
  VersionListQuery,
  VersionListResult,
  VersionRecord,
} from '../types.js'
import { NULL_VERSION, isVersionId } from '../versions.js'
import { SortedMap } from './sorted-map.js'

/** Records are copied in and out, so callers cannot change stored state by mutating them. */
const copy = <T>(value: T): T => structuredClone(value)

/** MetadataStore in Maps and sorted arrays; listing shares storage/listing.ts with the LevelDB store. */
export class MemoryMetadataStore implements MetadataStore {
  private readonly buckets = new Map<string, BucketRecord>()
  /** Per bucket: every version, keyed uploadSortKey(key, versionId) as in the LevelDB store. */
  private readonly objects = new Map<string, SortedMap<VersionRecord>>()
  /** Per bucket: key → version id of its null version. */
  private readonly nulls = new Map<string, Map<string, string>>()
  private readonly uploads = new Map<string, SortedMap<UploadRecord>>()
  private readonly uploadRefs = new Map<string, { bucket: string; key: string }>()
  private readonly parts = new Map<string, Map<number, UploadPartRecord>>()
  private readonly reads = { entriesRead: 0 }

  /** Entries read by listing scans (the skip-ahead test asserts on it). */
  get stats(): { entriesRead: number } {
    return { entriesRead: this.reads.entriesRead }
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    assertBucketName(name)
    return copy(this.buckets.get(name))
  }

  async createBucket(rec: BucketRecord): Promise<{ created: true } | { created: false; existing: BucketRecord }> {
    assertBucketName(rec.name)
    const existing = this.buckets.get(rec.name)
    if (existing) return { created: false, existing: copy(existing) }
    this.buckets.set(rec.name, copy(rec))
    return { created: true }
  }

  async putBucket(rec: BucketRecord, opts: { expect?: BucketRecord } = {}): Promise<void> {
    checkBucketExpectation(rec.name, this.buckets.get(rec.name), opts.expect)
    this.buckets.set(rec.name, copy(rec))
  }

  async deleteBucket(name: string): Promise<{ garbage: BlobId[] }> {
    if (!this.buckets.has(name)) throw new NotFoundError('bucket', name)
    if ((this.objects.get(name)?.size ?? 0) > 0) throw new ConflictError('bucket-not-empty', name)
    const garbage: BlobId[] = []
    for (const [, upload] of this.uploads.get(name)?.range(Buffer.alloc(0)) ?? [])
      garbage.push(...this.dropUpload(upload))
    this.buckets.delete(name)
    this.objects.delete(name)
    this.nulls.delete(name)
    this.uploads.delete(name)
    return { garbage }
  }

  async listBuckets(): Promise<BucketRecord[]> {
    return [...this.buckets.values()].sort((a, b) => compareUtf8(a.name, b.name)).map(copy)
  }

  async getObject(bucket: string, key: string): Promise<ObjectRecord | undefined> {
    const rec = this.current(bucket, key)
    return rec?.deleteMarker ? undefined : copy(rec)
  }

  async getVersion(bucket: string, key: string, versionId?: string): Promise<VersionRecord | undefined> {
    return copy(this.version(bucket, key, versionId))
  }

  async commitObject(
    rec: ObjectRecord,
    opts: { expect?: CommitExpectation; completeUpload?: string } = {},
  ): Promise<CommitResult> {
    const bucket = this.buckets.get(rec.bucket)
    if (!bucket) throw new NotFoundError('bucket', rec.bucket)
    let upload: UploadRecord | undefined
    if (opts.completeUpload !== undefined) {
      assertUploadId(opts.completeUpload)
      upload = this.uploads.get(rec.bucket)?.get(uploadSortKey(rec.key, opts.completeUpload))
      if (!upload) throw new NotFoundError('upload', opts.completeUpload)
    }
    if (upload) checkCompletedParts(rec, upload.uploadId, [...(this.parts.get(upload.uploadId)?.values() ?? [])])
    const inPlace = opts.expect?.record !== undefined
    const state = this.keyState(rec.bucket, rec.key, inPlace ? rec.versionId : undefined)
    const uploadBlobs = upload ? [...(this.parts.get(upload.uploadId)?.values() ?? [])].map((p) => p.blobId) : []
    const plan = planCommit(bucket, rec, state, opts.expect, uploadBlobs)
    if (upload) this.dropUpload(upload)
    this.apply(rec.bucket, rec.key, plan)
    return { replaced: copy(inPlace ? state.addressed : plan.remove), garbage: plan.garbage, version: copy(plan.put) }
  }

  async deleteObject(bucket: string, key: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    const rec = this.buckets.get(bucket)
    if (!rec) throw new NotFoundError('bucket', bucket)
    const state = this.keyState(bucket, key, opts.versionId)
    if (opts.unchanged) state.versions = this.versionIds(bucket, key)
    const plan = planDelete(rec, key, state, opts)
    this.apply(bucket, key, plan)
    return { removed: copy(plan.remove), marker: copy(plan.marker), garbage: plan.garbage }
  }

  listObjects(bucket: string, q: ListQuery): Promise<ListResult> {
    const objects = this.objects.get(bucket) ?? new SortedMap<VersionRecord>()
    return listObjectEntries((range) => objects.cursor(range, this.countRead), copy, q)
  }

  listObjectVersions(bucket: string, q: VersionListQuery): Promise<VersionListResult> {
    let versionIdMarker = q.keyMarker === undefined ? undefined : q.versionIdMarker
    if (versionIdMarker === NULL_VERSION) versionIdMarker = this.nulls.get(bucket)?.get(q.keyMarker!)
    else if (versionIdMarker !== undefined && !isVersionId(versionIdMarker)) versionIdMarker = undefined
    const objects = this.objects.get(bucket) ?? new SortedMap<VersionRecord>()
    return listVersionEntries((range) => objects.cursor(range, this.countRead), copy, { ...q, versionIdMarker })
  }

  private current(bucket: string, key: string): VersionRecord | undefined {
    const r = uploadsOfKey(key)
    return this.objects.get(bucket)?.range(r.start, r.end)[0]?.[1]
  }

  private version(bucket: string, key: string, versionId: string | undefined): VersionRecord | undefined {
    if (versionId === undefined) return this.current(bucket, key)
    const id =
      versionId === NULL_VERSION ? this.nulls.get(bucket)?.get(key) : isVersionId(versionId) ? versionId : undefined
    return id === undefined ? undefined : this.objects.get(bucket)?.get(uploadSortKey(key, id))
  }

  private versionIds(bucket: string, key: string): string[] {
    const r = uploadsOfKey(key)
    return (this.objects.get(bucket)?.range(r.start, r.end) ?? []).map(([, v]) => v.versionId)
  }

  private keyState(bucket: string, key: string, versionId: string | undefined): KeyState {
    return {
      current: this.current(bucket, key),
      nullVersion: this.version(bucket, key, NULL_VERSION),
      addressed: versionId === undefined ? undefined : this.version(bucket, key, versionId),
    }
  }

  private apply(bucket: string, key: string, plan: KeyPlan): void {
    const objects = this.objects.get(bucket) ?? new SortedMap<VersionRecord>()
    this.objects.set(bucket, objects)
    if (plan.remove) objects.delete(uploadSortKey(key, plan.remove.versionId))
    if (plan.put) objects.set(uploadSortKey(key, plan.put.versionId), copy(plan.put))
    const nulls = this.nulls.get(bucket) ?? new Map<string, string>()
    this.nulls.set(bucket, nulls)
    if (plan.nullIndex === null) nulls.delete(key)
    else if (plan.nullIndex !== undefined) nulls.set(key, plan.nullIndex)
  }

  async createUpload(rec: UploadRecord): Promise<void> {
    assertUploadId(rec.uploadId)
    if (!this.buckets.has(rec.bucket)) throw new NotFoundError('bucket', rec.bucket)
    if (this.uploadRefs.has(rec.uploadId)) throw new Error(`upload id ${rec.uploadId} is already in use`)
    const uploads = this.uploads.get(rec.bucket) ?? new SortedMap<UploadRecord>()
    uploads.set(uploadSortKey(rec.key, rec.uploadId), copy(rec))
    this.uploads.set(rec.bucket, uploads)
    this.uploadRefs.set(rec.uploadId, { bucket: rec.bucket, key: rec.key })
    this.parts.set(rec.uploadId, new Map())
  }

  async getUpload(bucket: string, key: string, uploadId: string): Promise<UploadRecord | undefined> {
    assertUploadId(uploadId)
    return copy(this.uploads.get(bucket)?.get(uploadSortKey(key, uploadId)))
  }

  async putPart(part: UploadPartRecord): Promise<{ garbage: BlobId[] }> {
    assertPartNumber(part.partNumber)
    const parts = this.parts.get(part.uploadId)
    if (!parts) throw new NotFoundError('upload', part.uploadId)
    const old = parts.get(part.partNumber)
    parts.set(part.partNumber, copy(part))
    return { garbage: old && old.blobId !== part.blobId ? [old.blobId] : [] }
  }

  async listParts(
    uploadId: string,
    q: { after?: number; limit: number },
  ): Promise<{ parts: UploadPartRecord[]; isTruncated: boolean }> {
    return partsAfter(await this.getParts(uploadId), q)
  }

  async getParts(uploadId: string): Promise<UploadPartRecord[]> {
    const parts = this.parts.get(uploadId)
    if (!parts) throw new NotFoundError('upload', uploadId)
    return [...parts.values()].sort((a, b) => a.partNumber - b.partNumber).map(copy)
  }

  async abortUpload(bucket: string, key: string, uploadId: string): Promise<{ garbage: BlobId[] }> {
    assertUploadId(uploadId)
    const upload = this.uploads.get(bucket)?.get(uploadSortKey(key, uploadId))
    if (!upload) throw new NotFoundError('upload', uploadId)
    return { garbage: this.dropUpload(upload) }
  }

  listUploads(bucket: string, q: UploadListQuery): Promise<UploadListResult> {
    const uploads = this.uploads.get(bucket) ?? new SortedMap<UploadRecord>()
    return listUploadEntries((range) => uploads.cursor(range, this.countRead), copy, q)
  }

  async *allObjects(): AsyncIterable<ObjectRecord> {
    const out: ObjectRecord[] = []
    for (const name of [...this.objects.keys()].sort((a, b) => compareUtf8(a, b))) {
      for (const [, rec] of this.objects.get(name)!.range(Buffer.alloc(0))) if (!rec.deleteMarker) out.push(copy(rec))
    }
    yield* out
  }

  async *allUploads(): AsyncIterable<UploadRecord> {
    const out: UploadRecord[] = []
    for (const name of [...this.uploads.keys()].sort((a, b) => compareUtf8(a, b))) {
      for (const [, rec] of this.uploads.get(name)!.range(Buffer.alloc(0))) out.push(copy(rec))
    }
    yield* out
  }

  async replaceUploadEncryption(rec: UploadRecord, expected: UploadRecord['encryption']): Promise<boolean> {
    const map = this.uploads.get(rec.bucket)
    const sortKey = uploadSortKey(rec.key, rec.uploadId)
    const current = map?.get(sortKey)
    if (!map || !current || JSON.stringify(current.encryption) !== JSON.stringify(expected)) return false
    map.set(sortKey, { ...current, encryption: copy(rec.encryption) })
    return true
  }

  async *referencedBlobs(): AsyncIterable<BlobId> {
    const ids: BlobId[] = []
    for (const objects of this.objects.values()) {
      for (const [, rec] of objects.range(Buffer.alloc(0))) ids.push(...blobsOf(rec))
    }
    for (const parts of this.parts.values()) ids.push(...[...parts.values()].map((p) => p.blobId))
    yield* ids
  }

  async close(): Promise<void> {}

  private readonly countRead = () => {
    this.reads.entriesRead++
  }

  /** Removes an upload, its id entry and its parts; returns the parts' blobs. */
  private dropUpload(upload: UploadRecord): BlobId[] {
    this.uploads.get(upload.bucket)?.delete(uploadSortKey(upload.key, upload.uploadId))
    this.uploadRefs.delete(upload.uploadId)
    const blobs = [...(this.parts.get(upload.uploadId)?.values() ?? [])].map((p) => p.blobId)
    this.parts.delete(upload.uploadId)
    return blobs
  }
}
