/** @module Record builders for the storage contract suites: valid records with only what a test varies. */
import { randomBytes } from 'node:crypto'
import type { EncryptionRecord } from '../../crypto/types.js'
import type { BucketRecord, ObjectRecord, PartRecord, UploadPartRecord, UploadRecord } from '../../storage/types.js'
import { newVersionId } from '../../storage/versions.js'

export function blobId(): string {
  return randomBytes(16).toString('hex')
}

function encryption(bucket: string, key: string): EncryptionRecord {
  return {
    format: 'SR1',
    mode: 'SSE-S3',
    binding: { mode: 'SSE-S3', bucket, key, generation: 'gen' },
    sealed: { sealIV: 'AAAA', nonce: 'AAAA', ciphertext: 'AAAA' },
    rootKeyVersion: 1,
  }
}

export function bucketRecord(name: string, over: Partial<BucketRecord> = {}): BucketRecord {
  return {
    v: 1,
    name,
    region: 'us-east-1',
    ownerAccountId: '111122223333',
    createdAt: 1_700_000_000_000,
    blockedEncryptionTypes: [],
    ...over,
  }
}

export function partRecord(partNumber: number, blob = blobId(), size = 10): PartRecord {
  return {
    partNumber,
    blobId: blob,
    size,
    etag: `etag-${partNumber}-${blob.slice(0, 6)}`,
    salt: Buffer.alloc(32, partNumber).toString('base64'),
    lastModified: 1_700_000_000_000,
  }
}

/** An object with one part per blob given (one fresh blob by default). */
export function objectRecord(
  bucket: string,
  key: string,
  over: Partial<ObjectRecord> & { blobs?: string[] } = {},
): ObjectRecord {
  const { blobs = [blobId()], ...rest } = over
  const parts = blobs.map((b, i) => partRecord(i + 1, b))
  return {
    v: 2,
    bucket,
    key,
    versionId: newVersionId(),
    nullVersion: true,
    size: parts.reduce((n, p) => n + p.size, 0),
    etag: `etag-${blobs[0]?.slice(0, 8) ?? 'empty'}`,
    lastModified: 1_700_000_000_000,
    ownerAccountId: '111122223333',
    encryption: encryption(bucket, key),
    parts,
    contentType: 'binary/octet-stream',
    headers: {},
    userMeta: {},
    storageClass: 'STANDARD',
    ...rest,
  }
}

/**
 * The object a Complete of `parts` (as read from the store) commits: their numbers and blobs, as the handler builds it.
 */
export function completedObject(bucket: string, key: string, parts: UploadPartRecord[]): ObjectRecord {
  return {
    ...objectRecord(bucket, key, { blobs: [] }),
    size: parts.reduce((n, p) => n + p.size, 0),
    multipartCount: parts.length,
    parts: parts.map(({ uploadId: _u, ...part }) => part),
  }
}

export function uploadRecord(
  bucket: string,
  key: string,
  uploadId: string,
  over: Partial<UploadRecord> = {},
): UploadRecord {
  return {
    v: 2,
    uploadId,
    bucket,
    key,
    versionId: newVersionId(),
    initiated: 1_700_000_000_000,
    ownerAccountId: '111122223333',
    encryption: encryption(bucket, key),
    contentType: 'binary/octet-stream',
    headers: {},
    userMeta: {},
    storageClass: 'STANDARD',
    ...over,
  }
}

export function uploadPart(uploadId: string, partNumber: number, blob = blobId()): UploadPartRecord {
  return { ...partRecord(partNumber, blob), uploadId }
}

/** Compares names in UTF-8 byte order, independently of the code under test. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/** An async iterable of the given pieces. */
export async function* pieces(...parts: Array<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p
}

/** Collects an async iterable of buffers. */
export async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = []
  for await (const b of body) out.push(Buffer.from(b))
  return Buffer.concat(out)
}
