/**
 * @module `strongroom verify [--bucket B]`: offline, read-only. For every object (and multipart
 * upload) it opens the sealed object key where the store can (SSE-S3 with the root keyring,
 * SSE-KMS/DSSE-KMS with the embedded KMS), then reads every chunk of every part and checks its
 * tag (decrypting and discarding), so damaged records and blobs are found. SSE-C object keys
 * need the customer's key, which the store never holds: those are reported as not verifiable
 * (their blobs are still read and their sizes checked). Exit 1 on any failure.
 */
import { decryptPart } from '../../crypto/aead-stream.js'
import { derivePartKey } from '../../crypto/keys.js'
import { openSseKms } from '../../crypto/modes/sse-kms.js'
import { openSseS3 } from '../../crypto/modes/sse-s3.js'
import { ciphertextSize } from '../../crypto/ranges.js'
import type { EncryptionRecord, ObjectKey } from '../../crypto/types.js'
import type { PartRecord } from '../../storage/types.js'
import { COMMON_USAGE, commonArgs, parseCommand } from './args.js'
import { openAdminStore, type AdminStore } from './store.js'
import { checkPlacement } from '../../crypto/manifest.js'
import type { ObjectRecord } from '../../storage/types.js'

export const VERIFY_USAGE = `Usage: strongroom verify [--bucket B] [--quiet] [options]

Reads every object record and every stored chunk and authenticates them: each sealed object key
the store can open (SSE-S3; SSE-KMS and DSSE-KMS through the embedded KMS) and each chunk's
AES-GCM tag. SSE-C object keys need the customer's key, which the store never keeps: such objects
are reported as NOT VERIFIABLE (their blobs are still read and their sizes checked). Multipart
uploads in progress are checked the same way. Prints one line per object and totals; exits 1 if
anything failed, 0 otherwise. Never changes any data. NEEDS THE SERVER STOPPED.

  --bucket B       only this bucket
  --quiet          print only failures and the totals

${COMMON_USAGE}`

type Outcome = { status: 'ok' | 'failed' | 'unverifiable'; detail: string; bytes: number }

export async function verifyCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, { bucket: { type: 'string' }, quiet: { type: 'boolean' } })
  if (values.help) {
    process.stdout.write(VERIFY_USAGE)
    return 0
  }
  const common = commonArgs(values)
  const bucket = values.bucket as string | undefined
  const store = await openAdminStore(common.dataDir, common.region)
  const totals = { ok: 0, failed: 0, unverifiable: 0, bytes: 0, records: 0 }
  const report = (what: string, o: Outcome) => {
    totals[o.status]++
    totals.records++
    totals.bytes += o.bytes
    const label = o.status === 'ok' ? 'OK' : o.status === 'failed' ? 'FAILED' : 'NOT-VERIFIABLE'
    if (o.status !== 'ok' || !values.quiet) process.stdout.write(`${label.padEnd(14)} ${what}  ${o.detail}\n`)
  }
  try {
    if (bucket !== undefined && !(await store.meta.getBucket(bucket))) {
      process.stdout.write(`FAILED         bucket ${bucket} does not exist\n`)
      return 1
    }
    for await (const rec of store.meta.allObjects()) {
      if (bucket !== undefined && rec.bucket !== bucket) continue
      const partBytes = rec.parts.reduce((n, p) => n + p.size, 0)
      // A record whose size disagrees with its parts would make GET send a wrong Content-Length.
      const outcome: Outcome = partBytes !== rec.size
        ? { status: 'failed', detail: `record size ${rec.size} differs from the ${partBytes} bytes of its parts`, bytes: partBytes }
        : await verifyObject(store, rec)
      report(`${rec.bucket}/${rec.key}${rec.nullVersion ? "" : ` (version ${rec.versionId})`}`, outcome)
    }
    for await (const up of store.meta.allUploads()) {
      if (bucket !== undefined && up.bucket !== bucket) continue
      const parts = await store.meta.getParts(up.uploadId)
      report(`${up.bucket}/${up.key} (upload ${up.uploadId})`, await verifyRecord(store, up.encryption, up, parts))
    }
  } finally {
    await store.close()
  }
  process.stdout.write(
    `verified ${totals.records} records (${totals.bytes} plaintext bytes): ${totals.ok} OK, ${totals.failed} FAILED, ` +
      `${totals.unverifiable} not verifiable (SSE-C: the store does not hold the customer key)\n`,
  )
  return totals.failed > 0 ? 1 : 0
}

function describe(enc: EncryptionRecord): string {
  if (enc.mode === 'SSE-S3') return `SSE-S3 root v${enc.rootKeyVersion}`
  if (enc.mode === 'SSE-KMS') return `${enc.kms?.dsse ? 'DSSE-KMS' : 'SSE-KMS'} ${enc.kms?.keyArn ?? '?'}${enc.kms?.dsse ? ` root v${enc.rootKeyVersion}` : ''}`
  return 'SSE-C'
}

/** An object version: its placement tag (SR2, also for SSE-C), then its key and every chunk. */
async function verifyObject(store: AdminStore, rec: ObjectRecord): Promise<Outcome> {
  try {
    checkPlacement(store.keyring, rec.encryption, rec, rec.parts)
  } catch (err) {
    return { status: 'failed', detail: `${describe(rec.encryption)}: ${(err as Error).message}`, bytes: rec.size }
  }
  return verifyRecord(store, rec.encryption, rec, rec.parts)
}

/** Verifies one object or upload; never throws for a damaged record or blob, reports it. */
export async function verifyRecord(store: AdminStore, enc: EncryptionRecord, at: { bucket: string; key: string }, parts: readonly PartRecord[]): Promise<Outcome> {
  const mode = describe(enc ?? ({} as EncryptionRecord))
  const bytes = parts.reduce((n, p) => n + p.size, 0)
  const counts = `${parts.length} part${parts.length === 1 ? '' : 's'}, ${bytes} bytes`
  let oek: ObjectKey | undefined
  try {
    oek = await openKey(store, enc, at)
  } catch (err) {
    return { status: 'failed', detail: `${mode}: sealed object key does not open: ${(err as Error).message}`, bytes }
  }
  try {
    for (const part of parts) {
      if (oek) {
        const pk = derivePartKey(oek, part.partNumber, Buffer.from(part.salt, 'base64'))
        for await (const chunk of decryptPart(pk, { plainSize: part.size })(store.blobs.read(part.blobId))) chunk.fill(0)
      } else {
        let stored = 0
        for await (const chunk of store.blobs.read(part.blobId)) stored += chunk.length
        if (stored !== ciphertextSize(part.size)) throw new Error(`blob of part ${part.partNumber} has ${stored} bytes, expected ${ciphertextSize(part.size)}`)
      }
    }
  } catch (err) {
    return { status: 'failed', detail: `${mode}, ${counts}: ${(err as Error).message}`, bytes }
  } finally {
    oek?.fill(0)
  }
  if (!oek) return { status: 'unverifiable', detail: `SSE-C, ${counts}: object key and chunk tags need the customer key; blob sizes OK`, bytes }
  return { status: 'ok', detail: `${mode}, ${counts}`, bytes }
}

async function openKey(store: AdminStore, enc: EncryptionRecord, at: { bucket: string; key: string }): Promise<ObjectKey | undefined> {
  switch (enc?.mode) {
    case 'SSE-S3':
      return openSseS3(store.keyring, enc, at)
    case 'SSE-KMS': {
      if (!enc.kms) throw new Error('SSE-KMS record without KMS details')
      const { dataKeys } = await store.kms()
      const dataKey = await dataKeys.forRead(enc.kms)
      try {
        return openSseKms(dataKey, enc, store.keyring, at)
      } finally {
        dataKey.fill(0)
      }
    }
    case 'SSE-C':
      return undefined
    default:
      throw new Error(`unknown encryption mode ${String(enc?.mode)}`)
  }
}
