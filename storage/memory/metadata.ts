/**
 * @module In-memory MetadataStore for tests only: same semantics as the LevelDB store. Every method
 * checks and mutates synchronously, so each operation is atomic without locks.
 */
import { ConflictError, NotFoundError } from '../errors.js'
import { listObjectEntries, listUploadEntries } from '../listing.js'
import { assertBucketName, assertPartNumber, assertUploadId, compareUtf8, uploadSortKey, utf8 } from '../order.js'
import { checkBucketExpectation, checkCompletedParts, checkExpectation, commitGarbage, partsAfter } from '../rules.js'
import type {
  BlobId, BucketRecord, CommitExpectation, CommitResult, ListQuery, ListResult, MetadataStore,
  ObjectRecord, UploadListQuery, UploadListResult, UploadPartRecord, UploadRecord,
} from '../types.js'
import { SortedMap } from './sorted-map.js'

/** Records are copied in and out, so callers cannot change stored state by mutating them. */
const copy = <T>(value: T): T => structuredClone(value)

/** MetadataStore in Maps and sorted arrays; listing shares storage/listing.ts with the LevelDB store. */
export class MemoryMetadataStore implements MetadataStore {
  private readonly buckets = new Map<string, BucketRecord>()
  private readonly objects = new Map<string, SortedMap<ObjectRecord>>()
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
    for (const [, upload] of this.uploads.get(name)?.range(Buffer.alloc(0)) ?? []) garbage.push(...this.dropUpload(upload))
    this.buckets.delete(name)
    this.objects.delete(name)
    this.uploads.delete(name)
    return { garbage }
  }

  async listBuckets(): Promise<BucketRecord[]> {
    return [...this.buckets.values()].sort((a, b) => compareUtf8(a.name, b.name)).map(copy)
  }

  async getObject(bucket: string, key: string): Promise<ObjectRecord | undefined> {
    return copy(this.objects.get(bucket)?.get(utf8(key)))
  }

  async commitObject(rec: ObjectRecord, opts: { expect?: CommitExpectation; completeUpload?: string } = {}): Promise<CommitResult> {
    if (!this.buckets.has(rec.bucket)) throw new NotFoundError('bucket', rec.bucket)
    const k = utf8(rec.key)
    let upload: UploadRecord | undefined
    if (opts.completeUpload !== undefined) {
      assertUploadId(opts.completeUpload)
      upload = this.uploads.get(rec.bucket)?.get(uploadSortKey(rec.key, opts.completeUpload))
      if (!upload) throw new NotFoundError('upload', opts.completeUpload)
    }
    if (upload) checkCompletedParts(rec, upload.uploadId, [...(this.parts.get(upload.uploadId)?.values() ?? [])])
    const objects = this.objects.get(rec.bucket) ?? new SortedMap<ObjectRecord>()
    const replaced = objects.get(k)
    checkExpectation(rec.key, replaced, opts.expect)
    const uploadBlobs = upload ? this.dropUpload(upload) : []
    objects.set(k, copy(rec))
    this.objects.set(rec.bucket, objects)
    return { replaced: copy(replaced), garbage: commitGarbage(rec, replaced, uploadBlobs) }
  }

  async deleteObject(bucket: string, key: string, expect: { etag?: string } = {}): Promise<CommitResult> {
    const objects = this.objects.get(bucket)
    const current = objects?.get(utf8(key))
    checkExpectation(key, current, expect)
    if (!objects || !current) return { garbage: [] }
    objects.delete(utf8(key))
    return { replaced: copy(current), garbage: current.parts.map((p) => p.blobId) }
  }

  listObjects(bucket: string, q: ListQuery): Promise<ListResult> {
    const objects = this.objects.get(bucket) ?? new SortedMap<ObjectRecord>()
    return listObjectEntries((range) => objects.cursor(range, this.countRead), copy, q)
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

  async listParts(uploadId: string, q: { after?: number; limit: number }): Promise<{ parts: UploadPartRecord[]; isTruncated: boolean }> {
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
      for (const [, rec] of this.objects.get(name)!.range(Buffer.alloc(0))) out.push(copy(rec))
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
      for (const [, rec] of objects.range(Buffer.alloc(0))) ids.push(...rec.parts.map((p) => p.blobId))
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
