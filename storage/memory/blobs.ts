/** @module In-memory BlobStore for tests only: same id rules and range semantics as FsBlobStore. */
import { IntegrityError, NotFoundError } from '../errors.js'
import { assertBlobId, assertRange, newBlobId } from '../blob-id.js'
import type { BlobId, BlobStore } from '../types.js'

/** Blobs in a Map of Buffers. */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<BlobId, Buffer>()

  newId(): BlobId {
    return newBlobId()
  }

  /** Collects the body; nothing is stored if it throws. */
  async write(id: BlobId, body: AsyncIterable<Uint8Array>): Promise<{ size: number }> {
    assertBlobId(id)
    const pieces: Buffer[] = []
    for await (const piece of body) pieces.push(Buffer.from(piece))
    const blob = Buffer.concat(pieces)
    this.blobs.set(id, blob)
    return { size: blob.length }
  }

  async *read(id: BlobId, range?: { start: number; end: number }, opts: { size?: number } = {}): AsyncIterable<Buffer> {
    assertBlobId(id)
    assertRange(range)
    const blob = this.blobs.get(id)
    if (!blob) throw new NotFoundError('blob', id)
    if (opts.size !== undefined && blob.length !== opts.size) throw new IntegrityError('blob-size', id)
    const slice = range ? blob.subarray(range.start, range.end) : blob
    if (slice.length > 0) yield Buffer.from(slice)
  }

  async size(id: BlobId): Promise<number | undefined> {
    assertBlobId(id)
    return this.blobs.get(id)?.length
  }

  async delete(id: BlobId): Promise<void> {
    assertBlobId(id)
    this.blobs.delete(id)
  }

  async *list(): AsyncIterable<BlobId> {
    yield* [...this.blobs.keys()].sort()
  }

  async sweepTmp(): Promise<number> {
    return 0
  }
}
