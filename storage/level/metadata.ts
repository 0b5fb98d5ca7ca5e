/**
 * @module MetadataStore on LevelDB (`level`). Every mutation is one synced batch (group-committed);
 * check-then-write sequences run under in-process locks held until the batch is durable.
 */
import { Level } from 'level'
import { bucketCodec, nullRefCodec, objectCodec, partCodec, uploadCodec, uploadRefCodec } from '../codec.js'
import { ConflictError, NotFoundError } from '../errors.js'
import {
  blobsOf,
  checkBucketExpectation,
  checkCompletedParts,
  planCommit,
  planDelete,
  type KeyPlan,
  type KeyState,
} from '../rules.js'
import { justAfter, parseUploadSortKey } from '../order.js'
import { listObjectEntries, listUploadEntries, listVersionEntries } from '../listing.js'
import { LockTable } from '../lock.js'
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
import { openLevelCursor, scanSpace, type ReadStats } from './cursor.js'
import {
  allPartsSpace,
  allUploadsSpace,
  allVersionsSpace,
  bucketKey,
  bucketSpace,
  nullVersionKey,
  partKey,
  partSpace,
  uploadKey,
  uploadRefKey,
  uploadSpace,
  versionKey,
  versionSpace,
  versionsOfKey,
} from './keys.js'
import { migrateLegacyObjects } from './migrate.js'
import { WriteQueue, type WriteOp } from './write-queue.js'

/** Lock names: one read/write lock per bucket, one mutex per object key (taken under the bucket's). */
const bucketLock = (bucket: string) => `b\0${bucket}`
/** Bound of the bucket-record cache (cleared whole when reached). */
const MAX_CACHED_BUCKETS = 10_000
const keyLock = (bucket: string, key: string) => `k\0${bucket}\0${key}`

/**
 * A version record as read from `bucket` at `at`: bucket, key and version id are those of the
 * storage key it was found under, never the ones the stored record names (a record moved on disk
 * is read as what its place says, and the encryption binding then fails).
 */
function decodeAt(
  text: string,
  bucket: string,
  at: { key: string; versionId?: string; uploadId?: string },
): VersionRecord {
  return { ...objectCodec.decode(text), bucket, key: at.key, versionId: at.versionId ?? at.uploadId! }
}

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
    await migrateLegacyObjects(db)
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
   * ConflictError('bucket-not-empty') if any version or delete marker exists. Returns the discarded
   * parts' blobs.
   */
  async deleteBucket(name: string): Promise<{ garbage: BlobId[] }> {
    return this.locks.with(bucketLock(name), 'exclusive', async () => {
      if (!(await this.getBucket(name))) throw new NotFoundError('bucket', name)
      const objects = openLevelCursor(this.db, versionSpace(name), { gte: Buffer.alloc(0) }, this.reads)
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
    const rec = await this.currentVersion(bucket, key)
    return rec?.deleteMarker ? undefined : rec
  }

  async getVersion(bucket: string, key: string, versionId?: string): Promise<VersionRecord | undefined> {
    if (versionId === undefined) return this.currentVersion(bucket, key)
    if (versionId === NULL_VERSION) return this.nullVersion(bucket, key)
    if (!isVersionId(versionId)) return undefined
    const text = await this.db.get(versionKey(bucket, key, versionId))
    return text === undefined ? undefined : decodeAt(text, bucket, { key, versionId })
  }

  /**
   * Makes `rec` visible in one durable batch (storage/rules.ts planCommit decides where).
   * NotFoundError('bucket') if the bucket is gone, NotFoundError('upload') if `completeUpload` is
   * not an upload of this bucket and key, NotFoundError('object') for If-Match on a missing key,
   * ConflictError('precondition') if an expectation fails, ConflictError('concurrent-change') if a
   * part of `rec` is no longer the upload's (putPart takes the same key lock, so no part can change
   * between check and write). Garbage: blobs of the replaced version and of omitted upload parts.
   */
  async commitObject(
    rec: ObjectRecord,
    opts: { expect?: CommitExpectation; completeUpload?: string } = {},
  ): Promise<CommitResult> {
    return this.withKey(rec.bucket, rec.key, async () => {
      const bucket = await this.getBucket(rec.bucket)
      if (!bucket) throw new NotFoundError('bucket', rec.bucket)
      const ops: WriteOp[] = []
      let uploadBlobs: BlobId[] = []
      if (opts.completeUpload !== undefined) {
        const upload = await this.getUpload(rec.bucket, rec.key, opts.completeUpload)
        if (!upload) throw new NotFoundError('upload', opts.completeUpload)
        const parts = await this.readParts(upload.uploadId)
        checkCompletedParts(rec, upload.uploadId, parts)
        uploadBlobs = this.dropUploadOps(upload, parts, ops)
      }
      const inPlace = opts.expect?.record !== undefined
      const state = await this.keyState(rec.bucket, rec.key, inPlace ? rec.versionId : undefined)
      const plan = planCommit(bucket, rec, state, opts.expect, uploadBlobs)
      await this.queue.write([...ops, ...this.planOps(rec.bucket, rec.key, plan)])
      return { replaced: inPlace ? state.addressed : plan.remove, garbage: plan.garbage, version: plan.put }
    })
  }

  async deleteObject(bucket: string, key: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    return this.withKey(bucket, key, async () => {
      const rec = await this.getBucket(bucket)
      if (!rec) throw new NotFoundError('bucket', bucket)
      const state = await this.keyState(bucket, key, opts.versionId)
      if (opts.unchanged) state.versions = await this.versionIds(bucket, key)
      const plan = planDelete(rec, key, state, opts)
      const ops = this.planOps(bucket, key, plan)
      if (ops.length > 0) await this.queue.write(ops)
      return { removed: plan.remove, marker: plan.marker, garbage: plan.garbage }
    })
  }

  listObjects(bucket: string, q: ListQuery): Promise<ListResult> {
    const space = versionSpace(bucket)
    return listObjectEntries(
      (range) => openLevelCursor(this.db, space, range, this.reads),
      (text, at) => decodeAt(text, bucket, at),
      q,
    )
  }

  async listObjectVersions(bucket: string, q: VersionListQuery): Promise<VersionListResult> {
    let versionIdMarker = q.keyMarker === undefined ? undefined : q.versionIdMarker
    if (versionIdMarker === NULL_VERSION) versionIdMarker = (await this.nullVersion(bucket, q.keyMarker!))?.versionId
    else if (versionIdMarker !== undefined && !isVersionId(versionIdMarker)) versionIdMarker = undefined
    const space = versionSpace(bucket)
    return listVersionEntries(
      (range) => openLevelCursor(this.db, space, range, this.reads),
      (text, at) => decodeAt(text, bucket, at),
      { ...q, versionIdMarker },
    )
  }

  /** The newest version of a key (one short range read). */
  private async currentVersion(bucket: string, key: string): Promise<VersionRecord | undefined> {
    const [first] = await this.db.iterator({ ...versionsOfKey(bucket, key), limit: 1 }).all()
    if (first === undefined) return undefined
    return decodeAt(first[1], bucket, parseUploadSortKey(first[0].subarray(versionSpace(bucket).prefix.length)))
  }

  /** Every version id of a key, newest first (a range read of its keys only). */
  private async versionIds(bucket: string, key: string): Promise<string[]> {
    const prefix = versionSpace(bucket).prefix.length
    const keys = await this.db.keys(versionsOfKey(bucket, key)).all()
    return keys.map((k) => parseUploadSortKey(k.subarray(prefix)).uploadId)
  }

  private async nullVersion(bucket: string, key: string): Promise<VersionRecord | undefined> {
    const ref = await this.db.get(nullVersionKey(bucket, key))
    if (ref === undefined) return undefined
    const versionId = nullRefCodec.decode(ref).versionId
    const text = await this.db.get(versionKey(bucket, key, versionId))
    return text === undefined ? undefined : decodeAt(text, bucket, { key, versionId })
  }

  private async keyState(bucket: string, key: string, versionId: string | undefined): Promise<KeyState> {
    const [current, nullVersion, addressed] = await Promise.all([
      this.currentVersion(bucket, key),
      this.nullVersion(bucket, key),
      versionId === undefined ? undefined : this.getVersion(bucket, key, versionId),
    ])
    return { current, nullVersion, addressed }
  }

  /** The batch ops of a plan: the removal, the write and the null-version index. */
  private planOps(bucket: string, key: string, plan: KeyPlan): WriteOp[] {
    const ops: WriteOp[] = []
    if (plan.remove && plan.remove.versionId !== plan.put?.versionId)
      ops.push({ type: 'del', key: versionKey(bucket, key, plan.remove.versionId) })
    if (plan.put)
      ops.push({ type: 'put', key: versionKey(bucket, key, plan.put.versionId), value: objectCodec.encode(plan.put) })
    if (plan.nullIndex === null) ops.push({ type: 'del', key: nullVersionKey(bucket, key) })
    else if (plan.nullIndex !== undefined)
      ops.push({
        type: 'put',
        key: nullVersionKey(bucket, key),
        value: nullRefCodec.encode({ versionId: plan.nullIndex }),
      })
    return ops
  }

  /** NotFoundError('bucket') if the bucket is gone; throws if the upload id is already in use. */
  async createUpload(rec: UploadRecord): Promise<void> {
    await this.withKey(rec.bucket, rec.key, async () => {
      if (!(await this.getBucket(rec.bucket))) throw new NotFoundError('bucket', rec.bucket)
      if ((await this.db.get(uploadRefKey(rec.uploadId))) !== undefined)
        throw new Error(`upload id ${rec.uploadId} is already in use`)
      await this.queue.write([
        { type: 'put', key: uploadKey(rec.bucket, rec.key, rec.uploadId), value: uploadCodec.encode(rec) },
        {
          type: 'put',
          key: uploadRefKey(rec.uploadId),
          value: uploadRefCodec.encode({ bucket: rec.bucket, key: rec.key }),
        },
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
  async listParts(
    uploadId: string,
    q: { after?: number; limit: number },
  ): Promise<{ parts: UploadPartRecord[]; isTruncated: boolean }> {
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
    for await (const [, text] of scanSpace(this.db, allVersionsSpace, this.reads))
      yield* blobsOf(objectCodec.decode(text))
    for await (const [, text] of scanSpace(this.db, allPartsSpace, this.reads)) yield partCodec.decode(text).blobId
  }

  async *allObjects(): AsyncIterable<ObjectRecord> {
    for await (const [rel, text] of scanSpace(this.db, allVersionsSpace, this.reads)) {
      const nul = rel.indexOf(0)
      const rec = decodeAt(text, rel.subarray(0, nul).toString('utf8'), parseUploadSortKey(rel.subarray(nul + 1)))
      if (!rec.deleteMarker) yield rec
    }
  }

  async *allUploads(): AsyncIterable<UploadRecord> {
    for await (const [, text] of scanSpace(this.db, allUploadsSpace, this.reads)) yield uploadCodec.decode(text)
  }

  async replaceUploadEncryption(rec: UploadRecord, expected: UploadRecord['encryption']): Promise<boolean> {
    return this.withKey(rec.bucket, rec.key, async () => {
      const current = await this.getUpload(rec.bucket, rec.key, rec.uploadId)
      if (!current || JSON.stringify(current.encryption) !== JSON.stringify(expected)) return false
      await this.queue.write([
        {
          type: 'put',
          key: uploadKey(rec.bucket, rec.key, rec.uploadId),
          value: uploadCodec.encode({ ...current, encryption: rec.encryption }),
        },
      ])
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
