/**
 * @module MetadataStore on LevelDB (`level`). Every mutation is one synced batch (group-committed);
 * check-then-write sequences run under in-process locks held until the batch is durable.
 */
import { Level } from 'level'
import { bucketCodec, objectCodec, partCodec, uploadCodec, uploadRefCodec } from '../codec.js'
import { ConflictError, NotFoundError } from '../errors.js'
import { checkBucketExpectation, checkCompletedParts, checkExpectation, commitGarbage } from '../rules.js'
import { justAfter } from '../order.js'
import { listObjectEntries, listUploadEntries } from '../listing.js'
import { LockTable } from '../lock.js'
import type {
  BlobId, BucketRecord, CommitExpectation, CommitResult, ListQuery, ListResult, MetadataStore,
  ObjectRecord, UploadListQuery, UploadListResult, UploadPartRecord, UploadRecord,
} from '../types.js'
import { openLevelCursor, scanSpace, type ReadStats } from './cursor.js'
import {
  allObjectsSpace, allPartsSpace, allUploadsSpace, bucketKey, bucketSpace, objectKey, objectSpace, partKey, partSpace,
  uploadKey, uploadRefKey, uploadSpace,
} from './keys.js'
import { WriteQueue, type WriteOp } from './write-queue.js'

/** Lock names: one read/write lock per bucket, one mutex per object key (taken under the bucket's). */
const bucketLock = (bucket: string) => `b\0${bucket}`
/** Bound of the bucket-record cache (cleared whole when reached). */
const MAX_CACHED_BUCKETS = 10_000
const keyLock = (bucket: string, key: string) => `k\0${bucket}\0${key}`

/**
 * MetadataStore on LevelDB. Locking: object writes hold their bucket's lock shared and their key's
 * lock exclusively; bucket writes (create, put, delete) hold the bucket's lock exclusively, so
 * deleteBucket never races a commit into the bucket. Reads take no locks.
 */
export class LevelMetadataStore implements MetadataStore {
  private readonly locks = new LockTable()
  private readonly queue: WriteQueue
  private readonly reads: ReadStats = { entriesRead: 0 }

  private constructor(private readonly db: Level<Buffer, string>) {
    this.queue = new WriteQueue({ batch: (ops, options) => db.batch(ops, options) })
  }

  /** Opens (creating if needed) the LevelDB database in `dir`. */
  static async open(dir: string): Promise<LevelMetadataStore> {
    const db = new Level<Buffer, string>(dir, { keyEncoding: 'buffer', valueEncoding: 'utf8' })
    await db.open()
    return new LevelMetadataStore(db)
  }

  /** Entries read by listing scans and db.batch calls made, for tests and measurements. */
  get stats(): { entriesRead: number; batches: number } {
    return { entriesRead: this.reads.entriesRead, batches: this.queue.batches }
  }

  /**
   * Bucket records, read on every request, cached (this process is the database's only writer,
   * LevelDB's lock guarantees it; every bucket write below updates the cache after it is durable).
   * Records are treated as immutable values. Misses are not cached.
   */
  private readonly bucketCache = new Map<string, BucketRecord>()
  /** Counts bucket writes, so a read that raced with a write never caches the value it replaced. */
  private bucketWrites = 0

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    const cached = this.bucketCache.get(name)
    if (cached) return cached
    const before = this.bucketWrites
    const text = await this.db.get(bucketKey(name))
    if (text === undefined) return undefined
    const rec = bucketCodec.decode(text)
    if (before === this.bucketWrites) {
      if (this.bucketCache.size >= MAX_CACHED_BUCKETS) this.bucketCache.clear()
      this.bucketCache.set(name, rec)
    }
    return rec
  }

  private bucketWritten(name: string): void {
    this.bucketWrites++
    this.bucketCache.delete(name)
  }

  async createBucket(rec: BucketRecord): Promise<{ created: true } | { created: false; existing: BucketRecord }> {
    return this.locks.with(bucketLock(rec.name), 'exclusive', async () => {
      const existing = await this.getBucket(rec.name)
      if (existing) return { created: false, existing }
      await this.queue.write([{ type: 'put', key: bucketKey(rec.name), value: bucketCodec.encode(rec) }])
      this.bucketWritten(rec.name)
      return { created: true }
    })
  }

  /**
   * Replaces the record of an existing bucket; NotFoundError('bucket') if it does not exist,
   * ConflictError('concurrent-change') if `expect` is no longer the stored record. The check reads
   * through the cache, which is exact here: every bucket write holds this exclusive lock and
   * updates the cache before releasing it.
   */
  async putBucket(rec: BucketRecord, opts: { expect?: BucketRecord } = {}): Promise<void> {
    await this.locks.with(bucketLock(rec.name), 'exclusive', async () => {
      checkBucketExpectation(rec.name, await this.getBucket(rec.name), opts.expect)
      await this.queue.write([{ type: 'put', key: bucketKey(rec.name), value: bucketCodec.encode(rec) }])
      this.bucketWritten(rec.name)
    })
  }

  /**
   * Deletes an empty bucket with its uploads and parts. NotFoundError('bucket') if missing,
   * ConflictError('bucket-not-empty') if any object exists. Returns the discarded parts' blobs.
   */
  async deleteBucket(name: string): Promise<{ garbage: BlobId[] }> {
    return this.locks.with(bucketLock(name), 'exclusive', async () => {
      if (!(await this.getBucket(name))) throw new NotFoundError('bucket', name)
      const objects = openLevelCursor(this.db, objectSpace(name), { gte: Buffer.alloc(0) }, this.reads)
      const anyObject = await objects.next(1).finally(() => objects.close())
      if (anyObject) throw new ConflictError('bucket-not-empty', name)
      const ops: WriteOp[] = [{ type: 'del', key: bucketKey(name) }]
      const garbage: BlobId[] = []
      for await (const [, text] of scanSpace(this.db, uploadSpace(name), this.reads)) {
        const upload = uploadCodec.decode(text)
        garbage.push(...this.dropUploadOps(upload, await this.readParts(upload.uploadId), ops))
      }
      await this.queue.write(ops)
      this.bucketWritten(name)
      return { garbage }
    })
  }

  async listBuckets(): Promise<BucketRecord[]> {
    const out: BucketRecord[] = []
    for await (const [, text] of scanSpace(this.db, bucketSpace, this.reads)) out.push(bucketCodec.decode(text))
    return out
  }

  async getObject(bucket: string, key: string): Promise<ObjectRecord | undefined> {
    const text = await this.db.get(objectKey(bucket, key))
    return text === undefined ? undefined : objectCodec.decode(text)
  }

  /**
   * Makes `rec` visible in one durable batch. NotFoundError('bucket') if the bucket is gone,
   * NotFoundError('upload') if `completeUpload` is not an upload of this bucket and key,
   * NotFoundError('object') for If-Match on a missing key, ConflictError('precondition') if an
   * expectation fails, ConflictError('concurrent-change') if a part of `rec` is no longer the
   * upload's (putPart takes the same key lock, so no part can change between check and write).
   * Garbage: blobs of the replaced object and of omitted upload parts.
   */
  async commitObject(rec: ObjectRecord, opts: { expect?: CommitExpectation; completeUpload?: string } = {}): Promise<CommitResult> {
    return this.withKey(rec.bucket, rec.key, async () => {
      if (!(await this.getBucket(rec.bucket))) throw new NotFoundError('bucket', rec.bucket)
      const ops: WriteOp[] = [{ type: 'put', key: objectKey(rec.bucket, rec.key), value: objectCodec.encode(rec) }]
      let uploadBlobs: BlobId[] = []
      if (opts.completeUpload !== undefined) {
        const upload = await this.getUpload(rec.bucket, rec.key, opts.completeUpload)
        if (!upload) throw new NotFoundError('upload', opts.completeUpload)
        const parts = await this.readParts(upload.uploadId)
        checkCompletedParts(rec, upload.uploadId, parts)
        uploadBlobs = this.dropUploadOps(upload, parts, ops)
      }
      const replaced = await this.getObject(rec.bucket, rec.key)
      checkExpectation(rec.key, replaced, opts.expect)
      await this.queue.write(ops)
      return { replaced, garbage: commitGarbage(rec, replaced, uploadBlobs) }
    })
  }

  async deleteObject(bucket: string, key: string, expect: { etag?: string } = {}): Promise<CommitResult> {
    return this.withKey(bucket, key, async () => {
      const current = await this.getObject(bucket, key)
      checkExpectation(key, current, expect)
      if (!current) return { garbage: [] }
      await this.queue.write([{ type: 'del', key: objectKey(bucket, key) }])
      return { replaced: current, garbage: current.parts.map((p) => p.blobId) }
    })
  }

  listObjects(bucket: string, q: ListQuery): Promise<ListResult> {
    const space = objectSpace(bucket)
    return listObjectEntries((range) => openLevelCursor(this.db, space, range, this.reads), objectCodec.decode, q)
  }

  /** NotFoundError('bucket') if the bucket is gone; throws if the upload id is already in use. */
  async createUpload(rec: UploadRecord): Promise<void> {
    await this.withKey(rec.bucket, rec.key, async () => {
      if (!(await this.getBucket(rec.bucket))) throw new NotFoundError('bucket', rec.bucket)
      if ((await this.db.get(uploadRefKey(rec.uploadId))) !== undefined) throw new Error(`upload id ${rec.uploadId} is already in use`)
      await this.queue.write([
        { type: 'put', key: uploadKey(rec.bucket, rec.key, rec.uploadId), value: uploadCodec.encode(rec) },
        { type: 'put', key: uploadRefKey(rec.uploadId), value: uploadRefCodec.encode({ bucket: rec.bucket, key: rec.key }) },
      ])
    })
  }

  async getUpload(bucket: string, key: string, uploadId: string): Promise<UploadRecord | undefined> {
    const text = await this.db.get(uploadKey(bucket, key, uploadId))
    return text === undefined ? undefined : uploadCodec.decode(text)
  }

  /** NotFoundError('upload') if the upload does not exist (or was completed or aborted meanwhile). */
  async putPart(part: UploadPartRecord): Promise<{ garbage: BlobId[] }> {
    const ref = await this.uploadRef(part.uploadId)
    return this.withKey(ref.bucket, ref.key, async () => {
      if (!(await this.getUpload(ref.bucket, ref.key, part.uploadId))) throw new NotFoundError('upload', part.uploadId)
      const key = partKey(part.uploadId, part.partNumber)
      const oldText = await this.db.get(key)
      await this.queue.write([{ type: 'put', key, value: partCodec.encode(part) }])
      const old = oldText === undefined ? undefined : partCodec.decode(oldText)
      return { garbage: old && old.blobId !== part.blobId ? [old.blobId] : [] }
    })
  }

  /** Parts with a number greater than `after`, ascending. NotFoundError('upload') if unknown. */
  async listParts(uploadId: string, q: { after?: number; limit: number }): Promise<{ parts: UploadPartRecord[]; isTruncated: boolean }> {
    await this.uploadRef(uploadId)
    if (q.limit <= 0) return { parts: [], isTruncated: false }
    const after = q.after !== undefined && q.after >= 1 ? Math.floor(q.after) : 0
    const gte = after === 0 ? Buffer.alloc(0) : justAfter(Buffer.from(String(after).padStart(5, '0'), 'latin1'))
    const cursor = openLevelCursor(this.db, partSpace(uploadId), { gte }, this.reads)
    try {
      const parts: UploadPartRecord[] = []
      for (let e = await cursor.next(q.limit + 1); e; e = await cursor.next(q.limit - parts.length + 1)) {
        if (parts.length === q.limit) return { parts, isTruncated: true }
        parts.push(partCodec.decode(e[1]))
      }
      return { parts, isTruncated: false }
    } finally {
      await cursor.close()
    }
  }

  /** All parts of an upload, ascending. NotFoundError('upload') if unknown. */
  async getParts(uploadId: string): Promise<UploadPartRecord[]> {
    await this.uploadRef(uploadId)
    return this.readParts(uploadId)
  }

  /** NotFoundError('upload') if there is no such upload of this bucket and key. */
  async abortUpload(bucket: string, key: string, uploadId: string): Promise<{ garbage: BlobId[] }> {
    return this.withKey(bucket, key, async () => {
      const upload = await this.getUpload(bucket, key, uploadId)
      if (!upload) throw new NotFoundError('upload', uploadId)
      const ops: WriteOp[] = []
      const garbage = this.dropUploadOps(upload, await this.readParts(upload.uploadId), ops)
      await this.queue.write(ops)
      return { garbage }
    })
  }

  listUploads(bucket: string, q: UploadListQuery): Promise<UploadListResult> {
    const space = uploadSpace(bucket)
    return listUploadEntries((range) => openLevelCursor(this.db, space, range, this.reads), uploadCodec.decode, q)
  }

  async *referencedBlobs(): AsyncIterable<BlobId> {
    for await (const [, text] of scanSpace(this.db, allObjectsSpace, this.reads)) {
      for (const part of objectCodec.decode(text).parts) yield part.blobId
    }
    for await (const [, text] of scanSpace(this.db, allPartsSpace, this.reads)) yield partCodec.decode(text).blobId
  }

  async *allObjects(): AsyncIterable<ObjectRecord> {
    for await (const [, text] of scanSpace(this.db, allObjectsSpace, this.reads)) yield objectCodec.decode(text)
  }

  async *allUploads(): AsyncIterable<UploadRecord> {
    for await (const [, text] of scanSpace(this.db, allUploadsSpace, this.reads)) yield uploadCodec.decode(text)
  }

  async replaceUploadEncryption(rec: UploadRecord, expected: UploadRecord['encryption']): Promise<boolean> {
    return this.withKey(rec.bucket, rec.key, async () => {
      const current = await this.getUpload(rec.bucket, rec.key, rec.uploadId)
      if (!current || JSON.stringify(current.encryption) !== JSON.stringify(expected)) return false
      await this.queue.write([{ type: 'put', key: uploadKey(rec.bucket, rec.key, rec.uploadId), value: uploadCodec.encode({ ...current, encryption: rec.encryption }) }])
      return true
    })
  }

  /** Waits for queued writes, then closes the database. */
  async close(): Promise<void> {
    await this.queue.idle()
    await this.db.close()
  }

  /** Runs `fn` holding the bucket shared (so deleteBucket waits) and the key exclusively. */
  private async withKey<T>(bucket: string, key: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.with(bucketLock(bucket), 'shared', () => this.locks.with(keyLock(bucket, key), 'exclusive', fn))
  }

  private async uploadRef(uploadId: string): Promise<{ bucket: string; key: string }> {
    const text = await this.db.get(uploadRefKey(uploadId))
    if (text === undefined) throw new NotFoundError('upload', uploadId)
    return uploadRefCodec.decode(text)
  }

  private async readParts(uploadId: string): Promise<UploadPartRecord[]> {
    const parts: UploadPartRecord[] = []
    for await (const [, text] of scanSpace(this.db, partSpace(uploadId), this.reads)) parts.push(partCodec.decode(text))
    return parts
  }

  /**
   * Appends the deletes of an upload, its id index entry and its `parts` (all of them, read under
   * the upload's key lock); returns the parts' blobs.
   */
  private dropUploadOps(upload: UploadRecord, parts: readonly UploadPartRecord[], ops: WriteOp[]): BlobId[] {
    ops.push({ type: 'del', key: uploadKey(upload.bucket, upload.key, upload.uploadId) })
    ops.push({ type: 'del', key: uploadRefKey(upload.uploadId) })
    for (const part of parts) ops.push({ type: 'del', key: partKey(upload.uploadId, part.partNumber) })
    return parts.map((p) => p.blobId)
  }
}
