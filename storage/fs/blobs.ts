/**
 * @module BlobStore on the local filesystem: one file per blob under `blobs/<2 hex>/<id>`, written
 * to `tmp/<id>`, fsynced, renamed into place, and made durable by fsyncing the shard directory.
 */
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { fsyncDir } from '../../lib/durable-fs.js'
import { assertBlobId, assertRange, BLOB_ID, newBlobId } from '../blob-id.js'
import { IntegrityError, NotFoundError } from '../errors.js'
import type { BlobId, BlobStore } from '../types.js'

/** Writes are coalesced into, and reads are made in, pieces of this size. */
const IO_SIZE = 256 * 1024
const SHARD = /^[0-9a-f]{2}$/

const isNotFound = (err: unknown) => (err as NodeJS.ErrnoException)?.code === 'ENOENT'

/** Writes every byte of `buf` at the current file position (loops on short writes). */
async function writeAll(fh: FileHandle, buf: Uint8Array): Promise<void> {
  let done = 0
  while (done < buf.length) done += (await fh.write(buf, done, buf.length - done)).bytesWritten
}

/**
 * BlobStore on the local filesystem (docs/architecture.md#storage-on-disk): `<dataDir>/blobs/<xx>/<id>` and
 * `<dataDir>/tmp/`.
 */
export class FsBlobStore implements BlobStore {
  private readonly blobsDir: string
  private readonly tmpDir: string
  /** Shard directories known to exist (created and made durable once per process). */
  private readonly shards = new Map<string, Promise<void>>()

  private constructor(dataDir: string) {
    this.blobsDir = join(dataDir, 'blobs')
    this.tmpDir = join(dataDir, 'tmp')
  }

  /** Opens the store in `dataDir`, creating `blobs/` and `tmp/` if needed. */
  static async open(dataDir: string): Promise<FsBlobStore> {
    const store = new FsBlobStore(dataDir)
    await mkdir(store.blobsDir, { recursive: true })
    await mkdir(store.tmpDir, { recursive: true })
    await fsyncDir(dataDir)
    return store
  }

  newId(): BlobId {
    return newBlobId()
  }

  /**
   * Streams `body` to `tmp/<id>`, fsyncs it and renames it into `blobs/<xx>/<id>`, then fsyncs the
   * shard directory, so the blob is durable when this resolves. If the body (or the disk) throws,
   * the temp file is removed and the original error is rethrown.
   */
  async write(id: BlobId, body: AsyncIterable<Uint8Array>): Promise<{ size: number }> {
    assertBlobId(id)
    const tmp = join(this.tmpDir, id)
    const fh = await open(tmp, 'wx')
    let closed = false
    try {
      const size = await this.copyBody(fh, body)
      await fh.sync()
      await fh.close()
      closed = true
      const shard = id.slice(0, 2)
      await this.ensureShard(shard)
      await rename(tmp, join(this.blobsDir, shard, id))
      await fsyncDir(join(this.blobsDir, shard))
      return { size }
    } catch (err) {
      if (!closed) await fh.close().catch(() => {})
      await unlink(tmp).catch(() => {})
      throw err
    }
  }

  /**
   * Yields the bytes [start, end) of a blob (the whole blob without a range; `end` past the end
   * of the blob reads to its end) in pieces of about 256 KiB. NotFoundError('blob') if missing,
   * raised on the first read. With `size`, the opened file must be exactly that long (one fstat,
   * before any byte is read): IntegrityError('blob-size') otherwise. The file is open from the
   * first read until the iteration ends, completed or abandoned (`return`).
   */
  async *read(id: BlobId, range?: { start: number; end: number }, opts: { size?: number } = {}): AsyncIterable<Buffer> {
    assertBlobId(id)
    assertRange(range)
    let fh: FileHandle
    try {
      fh = await open(this.pathOf(id), 'r')
    } catch (err) {
      throw isNotFound(err) ? new NotFoundError('blob', id) : err
    }
    try {
      const actual = opts.size !== undefined || !range ? (await fh.stat()).size : undefined
      if (opts.size !== undefined && actual !== opts.size) {
        throw new IntegrityError('blob-size', id, `blob ${id} is ${actual} bytes, its record says ${opts.size}`)
      }
      let position = range?.start ?? 0
      const end = range ? range.end : actual!
      while (position < end) {
        const length = Math.min(IO_SIZE, end - position)
        const buf = Buffer.allocUnsafe(length)
        const { bytesRead } = await fh.read(buf, 0, length, position)
        if (bytesRead === 0) return
        position += bytesRead
        yield bytesRead < length ? buf.subarray(0, bytesRead) : buf
      }
    } finally {
      await fh.close()
    }
  }

  async size(id: BlobId): Promise<number | undefined> {
    assertBlobId(id)
    try {
      return (await stat(this.pathOf(id))).size
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw err
    }
  }

  /** Removes a blob; a missing blob is not an error. */
  async delete(id: BlobId): Promise<void> {
    assertBlobId(id)
    await unlink(this.pathOf(id)).catch((err) => {
      if (!isNotFound(err)) throw err
    })
  }

  /** Every blob id on disk, shard by shard. */
  async *list(): AsyncIterable<BlobId> {
    for (const shard of (await readdir(this.blobsDir)).sort()) {
      if (!SHARD.test(shard)) continue
      let names: string[]
      try {
        names = await readdir(join(this.blobsDir, shard))
      } catch (err) {
        if (isNotFound(err)) continue
        throw err
      }
      for (const name of names.sort()) if (BLOB_ID.test(name) && name.startsWith(shard)) yield name
    }
  }

  /** Removes everything in `tmp/` (leftovers of interrupted writes); returns how many entries. */
  async sweepTmp(): Promise<number> {
    const names = await readdir(this.tmpDir)
    await Promise.all(names.map((name) => rm(join(this.tmpDir, name), { recursive: true, force: true })))
    return names.length
  }

  private pathOf(id: BlobId): string {
    return join(this.blobsDir, id.slice(0, 2), id)
  }

  /** Creates a shard directory once and makes its entry in `blobs/` durable. */
  private ensureShard(shard: string): Promise<void> {
    let ready = this.shards.get(shard)
    if (!ready) {
      ready = mkdir(join(this.blobsDir, shard), { recursive: true }).then(() => fsyncDir(this.blobsDir))
      ready.catch(() => this.shards.delete(shard))
      this.shards.set(shard, ready)
    }
    return ready
  }

  /**
   * Copies the body to the file through two 256 KiB stages: while one stage is being written,
   * the next is filled from the body, so disk writes overlap the producer's work (encryption)
   * with at most one write in flight. A large piece with an empty stage is written directly.
   */
  private async copyBody(fh: FileHandle, body: AsyncIterable<Uint8Array>): Promise<number> {
    const stages = [takeStage(), takeStage()]
    let current = 0
    let staged = 0
    let size = 0
    let inFlight: Promise<void> | undefined
    const submit = async (buf: Uint8Array): Promise<void> => {
      if (inFlight) await inFlight
      inFlight = writeAll(fh, buf)
      // The error is observed by the next await of inFlight; never leave it unhandled meanwhile.
      inFlight.catch(() => {})
    }
    try {
      for await (const piece of body) {
        size += piece.length
        if (staged === 0 && piece.length >= IO_SIZE) {
          // The piece belongs to the producer, which may reuse it once we pull again: wait.
          await submit(piece)
          await inFlight
          continue
        }
        let offset = 0
        while (offset < piece.length) {
          const stage = stages[current]
          const n = Math.min(IO_SIZE - staged, piece.length - offset)
          stage.set(piece.subarray(offset, offset + n), staged)
          staged += n
          offset += n
          if (staged === IO_SIZE) {
            await submit(stage)
            current ^= 1
            staged = 0
          }
        }
      }
      if (staged > 0) await submit(stages[current].subarray(0, staged))
      if (inFlight) await inFlight
      return size
    } finally {
      // A stage may still be in a write that failed; only return stages once nothing is in flight.
      if (inFlight) await inFlight.catch(() => {})
      for (const stage of stages) giveStage(stage)
    }
  }
}

/** A small pool of write stages, so small blobs do not allocate 256 KiB each. */
const STAGE_POOL: Buffer[] = []
const MAX_POOLED_STAGES = 32

function takeStage(): Buffer {
  return STAGE_POOL.pop() ?? Buffer.allocUnsafe(IO_SIZE)
}

function giveStage(stage: Buffer): void {
  if (STAGE_POOL.length < MAX_POOLED_STAGES) STAGE_POOL.push(stage)
}
