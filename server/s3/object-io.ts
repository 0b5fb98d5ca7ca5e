/**
 * @module Where the crypto layer meets the storage layer for object data: creating and opening
 * object keys per mode, writing one encrypted part blob, and reading plaintext ranges back.
 * No HTTP here beyond the typed SseRequest; handlers call these.
 */
import { decryptPart, decryptPartRange, encryptPart } from '../../crypto/aead-stream.js'
import { derivePartKey, newPartSalt } from '../../crypto/keys.js'
import { randomBytes } from 'node:crypto'
import { CryptoError } from '../../crypto/errors.js'
import { openSseC, sealForSseC } from '../../crypto/modes/sse-c.js'
import { openSseKms, sealForSseKms } from '../../crypto/modes/sse-kms.js'
import { openSseS3, sealForSseS3 } from '../../crypto/modes/sse-s3.js'
import { chunkSpan, ciphertextSize, splitRange, type ChunkSpan } from '../../crypto/ranges.js'
import type { EncryptionRecord, ObjectKey } from '../../crypto/types.js'
import { IntegrityError, NotFoundError } from '../../storage/errors.js'
import { BlobReclaimer } from '../../storage/reclaim.js'
import type { BlobId, BlobStore, ObjectRecord, PartRecord, VersionRecord } from '../../storage/types.js'
import { FORMAT_V2 } from '../../crypto/format.js'
import { checkPlacement, placeRecord } from '../../crypto/manifest.js'
import { denialFields, failureOutcome, recordFields, type AuditEvent } from '../audit.js'
import type { S3Request, Services } from './context.js'
import { S3Error } from './errors.js'
import type { ObjectDataKeys } from './kms-keys.js'
import { kmsContext, type CustomerKey, type SseRequest } from './sse-headers.js'
import { kmsNeedsSigV4 } from './auth/sigv2.js'

function dataKeys(svc: Services) {
  if (!svc.dataKeys) throw new S3Error('ServiceUnavailable', { message: 'No KMS is configured for SSE-KMS.' })
  return svc.dataKeys
}

/**
 * What the audit log needs of the request a key operation serves (pass the S3Request; `auth`: SSE-KMS refuses SigV2).
 */
export type KeyOpContext = Pick<S3Request, 'requestId' | 'principal' | 'op'> & { auth?: S3Request['auth'] }

function audit(svc: Services, ctx: KeyOpContext | undefined, event: AuditEvent): void {
  if (!svc.audit) return
  svc.audit.audit({
    requestId: ctx?.requestId,
    operation: ctx?.op.kind,
    principal: ctx ? { accessKeyId: ctx.principal.accessKeyId, accountId: ctx.principal.accountId } : undefined,
    ...event,
  })
}

/**
 * Creates a fresh object key for a new object version or upload, sealed as the mode requires to
 * the version it will be (format SR2, crypto/README.md §11). SSE-KMS asks the KMS for a data key
 * (or reuses the bucket key). `ctx`: for the audit log.
 */
export async function newObjectKey(
  svc: Services,
  sse: SseRequest,
  bucket: string,
  key: string,
  ctx: KeyOpContext | undefined,
  versionId: string,
): Promise<{ oek: ObjectKey; encryption: EncryptionRecord }> {
  const out = await sealNew(svc, sse, { bucket, key, versionId }, ctx)
  audit(svc, ctx, { action: 'seal', outcome: 'ok', ...recordFields(out.encryption, { bucket, key }) })
  return out
}

async function sealNew(
  svc: Services,
  sse: SseRequest,
  target: { bucket: string; key: string; versionId: string },
  ctx: KeyOpContext | undefined,
): Promise<{ oek: ObjectKey; encryption: EncryptionRecord }> {
  const { bucket, key } = target
  switch (sse.mode) {
    case 'SSE-S3': {
      const { oek, record } = sealForSseS3(svc.keyring, target)
      return { oek, encryption: record }
    }
    case 'SSE-C': {
      const { oek, record } = sealForSseC(sse.customer.key, target)
      return { oek, encryption: record }
    }
    case 'SSE-KMS': {
      if (ctx?.auth?.signatureVersion === 2) throw kmsNeedsSigV4()
      const context = kmsContext(sse, bucket, key)
      let got: Awaited<ReturnType<ObjectDataKeys['forWrite']>>
      try {
        // The requester's account calls the KMS (keys per account, docs/s3-sse-rules.md §6.2).
        got = await dataKeys(svc).forWrite({ ...sse, context, bucket, caller: ctx?.principal })
      } catch (err) {
        audit(svc, ctx, {
          action: 'kms:GenerateDataKey',
          outcome: failureOutcome(err),
          bucket,
          key,
          mode: 'SSE-KMS',
          encryptionContext: context,
          ...denialFields(err),
        })
        throw err
      }
      const { dataKey, record: kms } = got
      if (!sse.bucketKey)
        audit(svc, ctx, {
          action: 'kms:GenerateDataKey',
          outcome: 'ok',
          bucket,
          key,
          mode: 'SSE-KMS',
          kmsKeyArn: kms.keyArn,
          encryptionContext: context,
        })
      try {
        const { oek, record } = sealForSseKms(dataKey, kms, svc.keyring, target)
        return { oek, encryption: record }
      } finally {
        dataKey.fill(0)
      }
    }
  }
}

/**
 * Opens the object key of a stored object or upload record found under `at` (its bucket and key:
 * a record moved elsewhere fails to open). SSE-C needs the customer key the request presented;
 * SSE-KMS calls KMS Decrypt. Throws CryptoError (wrong key, tampered) or the KMS's error.
 * Every attempt, and its outcome, goes to the audit log (`ctx`: the request).
 */
export async function openObjectKey(
  svc: Services,
  enc: EncryptionRecord,
  at: { bucket: string; key: string },
  customer?: CustomerKey,
  ctx?: KeyOpContext,
): Promise<ObjectKey> {
  const fields = svc.audit ? recordFields(enc, at) : {}
  try {
    const oek = await unseal(svc, enc, at, customer, ctx, fields)
    audit(svc, ctx, { action: 'unseal', outcome: 'ok', ...fields })
    return oek
  } catch (err) {
    audit(svc, ctx, { action: 'unseal', outcome: failureOutcome(err), ...fields })
    throw err
  }
}

async function unseal(
  svc: Services,
  enc: EncryptionRecord,
  at: { bucket: string; key: string },
  customer: CustomerKey | undefined,
  ctx: KeyOpContext | undefined,
  fields: Partial<AuditEvent>,
): Promise<ObjectKey> {
  switch (enc.mode) {
    case 'SSE-S3':
      return openSseS3(svc.keyring, enc, at)
    case 'SSE-C':
      // A key of the wrong length is simply not the key (docs/s3-sse-rules.md §4.8, SSEC-14): 403.
      if (!customer || customer.key.length !== 32) throw new CryptoError('wrong-key')
      return openSseC(customer.key, enc, at)
    case 'SSE-KMS': {
      if (ctx?.auth?.signatureVersion === 2) throw kmsNeedsSigV4()
      if (!enc.kms) throw new CryptoError('tampered', 'SSE-KMS record without KMS details')
      let dataKey: Buffer
      try {
        dataKey = await dataKeys(svc).forRead(enc.kms, ctx?.principal)
      } catch (err) {
        audit(svc, ctx, { action: 'kms:Decrypt', outcome: failureOutcome(err), ...fields, ...denialFields(err) })
        throw err
      }
      audit(svc, ctx, { action: 'kms:Decrypt', outcome: 'ok', ...fields })
      try {
        return openSseKms(dataKey, enc, svc.keyring, at)
      } finally {
        dataKey.fill(0)
      }
    }
  }
}

/**
 * An object record about to be committed, with its SR2 placement tag over its bucket, key,
 * version id and parts (crypto/README.md §11); SR1 records (upgraded only by rewrap) are unchanged.
 */
export function placeObject(svc: Services, rec: ObjectRecord): ObjectRecord {
  if (rec.encryption.format !== FORMAT_V2) return rec
  return { ...rec, encryption: placeRecord(svc.keyring, rec.encryption, rec, rec.parts) }
}

/**
 * Checks an object record as read (its bucket, key and version id are those of its storage key)
 * against its placement tag before any of its bytes or metadata is answered; a failure is
 * CryptoError('tampered') (500, integrity metric) and an audit line.
 */
export function checkObjectPlacement(svc: Services, rec: ObjectRecord, ctx?: KeyOpContext): void {
  try {
    checkPlacement(svc.keyring, rec.encryption, rec, rec.parts)
  } catch (err) {
    audit(svc, ctx, {
      action: 'unseal',
      outcome: failureOutcome(err),
      reason: 'placement tag',
      ...recordFields(rec.encryption, rec),
    })
    throw err
  }
}

/**
 * The ETag of a single-part write (docs/s3-sse-rules.md §3.17): the plaintext MD5 for SSE-S3; for SSE-KMS and
 * SSE-C 16 random bytes, so the ETag reveals nothing of the plaintext and differs between writes.
 */
export function etagFor(enc: EncryptionRecord, md5: Buffer | string): string {
  if (enc.mode === 'SSE-S3') return typeof md5 === 'string' ? md5 : md5.toString('hex')
  return randomBytes(16).toString('hex')
}

export interface WrittenPart {
  blobId: BlobId
  salt: string
}

/**
 * Encrypts one part's plaintext under a fresh part salt and writes it as one durable blob. If the
 * body throws (a digest or signature fails at its end), no blob remains and the error propagates.
 */
export async function writePart(
  svc: Services,
  oek: ObjectKey,
  partNumber: number,
  body: AsyncIterable<Uint8Array>,
): Promise<WrittenPart> {
  const salt = newPartSalt()
  const pk = derivePartKey(oek, partNumber, salt)
  const blobId = svc.blobs.newId()
  await svc.blobs.write(blobId, encryptPart(pk)(body))
  return { blobId, salt: salt.toString('base64') }
}

function partKeyOf(oek: ObjectKey, part: PartRecord) {
  return derivePartKey(oek, part.partNumber, Buffer.from(part.salt, 'base64'))
}

/**
 * Reads the record of `bucket`/`key` (the current version, or `versionId`: "null" or an internal
 * id; possibly a delete marker) for a request that will read the object's data, and holds
 * the record's blobs until the request's answer is written or abandoned (`req.defer`): an
 * overwrite or delete committed meanwhile defers their deletion, so a GET returns the whole
 * version it found, as S3 does. Undefined if there is no such object.
 */
export async function getObjectForRead(
  svc: Services,
  req: Pick<S3Request, 'defer'>,
  bucket: string,
  key: string,
  versionId?: string,
): Promise<VersionRecord | undefined> {
  const got = await reclaimerOf(svc).readHeld(
    () => svc.meta.getVersion(bucket, key, versionId),
    (rec) => (rec.deleteMarker ? [] : rec.parts.map((p) => p.blobId)),
  )
  if (!got) return undefined
  req.defer(got.hold.release)
  return got.value
}

/**
 * Plaintext bytes start..endInclusive of an object made of `parts` (or all of it when `range` is
 * omitted); the caller holds the blobs (getObjectForRead). Only the stored chunks that cover the
 * range are read and decrypted; every chunk is authenticated before any of its bytes is yielded.
 * Before the first byte, every blob the range touches is checked to exist and to be the size its
 * part implies (fstat on the opened file, stat for the parts after it): a missing, truncated or
 * extended blob fails with IntegrityError before a status line can go out, never as a short body.
 */
export async function* readPlaintext(
  svc: Services,
  oek: ObjectKey,
  parts: readonly PartRecord[],
  range?: { start: number; end: number },
): AsyncGenerator<Buffer> {
  const reads = planReads(parts, range)
  await checkBlobSizes(
    svc,
    reads.slice(1).map((r) => r.part),
  )
  for (const { part, span } of reads) {
    const pk = partKeyOf(oek, part)
    if (!span) {
      yield* decryptPart(pk, { plainSize: part.size })(
        readBlob(svc, part, { start: 0, end: ciphertextSize(part.size) }),
      )
    } else {
      yield* decryptPartRange(
        pk,
        part.size,
        span,
      )(readBlob(svc, part, { start: span.cipherStart, end: span.cipherEnd }))
    }
  }
}

/** The parts a read touches, each with the chunks that cover the range (all of it without one). */
function planReads(
  parts: readonly PartRecord[],
  range?: { start: number; end: number },
): Array<{ part: PartRecord; span?: ChunkSpan }> {
  if (!range) return parts.map((part) => ({ part }))
  return splitRange(
    parts.map((p) => p.size),
    range.start,
    range.end,
  ).map((piece) => {
    const part = parts[piece.partIndex]
    return { part, span: chunkSpan(part.size, piece.start, piece.end) }
  })
}

const missingBlob = (id: BlobId) =>
  new IntegrityError('blob-missing', id, `blob ${id} is missing, yet a committed record references it`)

/** Stored bytes [start, end) of one part's blob, which must be the size the part implies. */
async function* readBlob(
  svc: Services,
  part: PartRecord,
  range: { start: number; end: number },
): AsyncGenerator<Buffer> {
  try {
    yield* svc.blobs.read(part.blobId, range, { size: ciphertextSize(part.size) })
  } catch (err) {
    throw err instanceof NotFoundError && err.kind === 'blob' ? missingBlob(part.blobId) : err
  }
}

/** Stats taken at once when a read spans many parts. */
const SIZE_CHECKS_IN_FLIGHT = 16

/** IntegrityError unless each part's blob exists with the size its part implies. */
async function checkBlobSizes(svc: Services, parts: readonly PartRecord[]): Promise<void> {
  for (let i = 0; i < parts.length; i += SIZE_CHECKS_IN_FLIGHT) {
    await Promise.all(
      parts.slice(i, i + SIZE_CHECKS_IN_FLIGHT).map(async (part) => {
        const actual = await svc.blobs.size(part.blobId)
        const expected = ciphertextSize(part.size)
        if (actual === undefined) throw missingBlob(part.blobId)
        if (actual !== expected)
          throw new IntegrityError(
            'blob-size',
            part.blobId,
            `blob ${part.blobId} is ${actual} bytes, its record says ${expected}`,
          )
      }),
    )
  }
}

/**
 * Deletes blobs no record references any more, after the commit that released them: at once, or
 * when the last reader holding one is done (storage/reclaim.ts).
 */
export function deleteGarbage(svc: Services, ids: readonly BlobId[]): void {
  reclaimerOf(svc).reclaim(ids)
}

/** The reclaimer of each blob store (one per store: one per server in this process). */
const reclaimers = new WeakMap<BlobStore, BlobReclaimer>()

function reclaimerOf(svc: Services): BlobReclaimer {
  let r = reclaimers.get(svc.blobs)
  if (!r) {
    const { blobs, log } = svc
    r = new BlobReclaimer((id) => {
      blobs.delete(id).catch((err: unknown) => log.warn('could not delete an unreferenced blob', { blobId: id, err }))
    })
    reclaimers.set(blobs, r)
  }
  return r
}
