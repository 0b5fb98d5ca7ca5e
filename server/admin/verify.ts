/**
 * @module `strongroom verify [--bucket B]`: offline, read-only. For every object (and multipart
 * upload) it opens the sealed object key where the store can (SSE-S3 with the root keyring,
 * SSE-KMS/DSSE-KMS with the embedded KMS), then reads every chunk of every part and checks its
 * tag (decrypting and discarding), so damaged records and blobs are found. SSE-C object keys
 * need the customer's key, which the store never holds: those are reported as not verifiable
 * (their blobs are still read and their sizes checked). An SSE-KMS object whose KMS key cannot be
 * used now (disabled, pending deletion) is UNVERIFIABLE, not FAILED: nothing is known to be wrong
 * with it. Exit codes: VERIFY_EXIT.
 */
import { decryptPart } from '../../crypto/aead-stream.js'
import { derivePartKey } from '../../crypto/keys.js'
import { openSseKms } from '../../crypto/modes/sse-kms.js'
import { openSseS3 } from '../../crypto/modes/sse-s3.js'
import { KmsError } from '../../kms/types.js'
import { ciphertextSize } from '../../crypto/ranges.js'
import type { EncryptionRecord, ObjectKey } from '../../crypto/types.js'
import type { PartRecord } from '../../storage/types.js'
import { COMMON_USAGE, commonArgs, parseCommand } from './args.js'
import { AdminError, openAdminStore, type AdminStore } from './store.js'
import { checkPlacement } from '../../crypto/manifest.js'
import type { ObjectRecord } from '../../storage/types.js'

/**
 * The exit codes of verify. A failure found always wins (1), whatever else was seen; SSE-C's
 * NOT-VERIFIABLE is the design (the store never holds the key) and does not change the code,
 * while UNVERIFIABLE (3) says some objects were not checked for a reason the operator can remove
 * (enable the KMS key, cancel its deletion) and should run verify again after.
 */
export const VERIFY_EXIT = { ok: 0, failed: 1, usage: 2, unverifiable: 3, couldNotRun: 4 } as const

export const VERIFY_USAGE = `Usage: strongroom verify [--bucket B] [--quiet] [options]

Reads every object record and every stored chunk and authenticates them: each sealed object key
the store can open (SSE-S3; SSE-KMS and DSSE-KMS through the embedded KMS) and each chunk's
AES-GCM tag. SSE-C object keys need the customer's key, which the store never keeps: such objects
are reported as NOT-VERIFIABLE (their blobs are still read and their sizes checked). An SSE-KMS
object whose KMS key is disabled or pending deletion is reported as UNVERIFIABLE with the reason:
nothing is known to be wrong with it, but it could not be checked. Multipart uploads in progress
are checked the same way. Prints one line per object and totals. Never changes any data.
NEEDS THE SERVER STOPPED.

  --bucket B       only this bucket
  --quiet          print only failures, unverifiable objects and the totals

Exit codes:
  0  every object was verified (or is SSE-C, which the store can never verify)
  1  an integrity failure was found (FAILED: tampered or damaged data or record, a record whose
     KMS key no longer exists, a named bucket that does not exist), whatever else was seen
  2  usage error
  3  no failure, but some objects are UNVERIFIABLE (KMS key disabled, pending deletion or not
     reachable): make the key usable and run verify again
  4  verify could not run (the server is running, not a data directory)

${COMMON_USAGE}`

/** `unverifiable`: an SSE-KMS key cannot be used now; `sse-c`: the store never holds the key. */
type Outcome = { status: 'ok' | 'failed' | 'unverifiable' | 'sse-c'; detail: string; bytes: number }

const LABELS: Record<Outcome['status'], string> = {
  ok: 'OK',
  failed: 'FAILED',
  unverifiable: 'UNVERIFIABLE',
  'sse-c': 'NOT-VERIFIABLE',
}

export async function verifyCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, { bucket: { type: 'string' }, quiet: { type: 'boolean' } })
  if (values.help) {
    process.stdout.write(VERIFY_USAGE)
    return 0
  }
  const common = commonArgs(values)
  const bucket = values.bucket as string | undefined
  let store: AdminStore
  try {
    store = await openAdminStore(common.dataDir, common.region)
  } catch (err) {
    // Not an integrity finding: keep exit 1 for those alone.
    if (err instanceof AdminError && err.code === 1) throw new AdminError(err.message, VERIFY_EXIT.couldNotRun)
    throw err
  }
  const totals = { ok: 0, failed: 0, unverifiable: 0, 'sse-c': 0, bytes: 0, records: 0 }
  const report = (what: string, o: Outcome) => {
    totals[o.status]++
    totals.records++
    totals.bytes += o.bytes
    if (o.status !== 'ok' || !values.quiet)
      process.stdout.write(`${LABELS[o.status].padEnd(14)} ${what}  ${o.detail}\n`)
  }
  try {
    if (bucket !== undefined && !(await store.meta.getBucket(bucket))) {
      process.stdout.write(`FAILED         bucket ${bucket} does not exist\n`)
      return VERIFY_EXIT.failed
    }
    for await (const rec of store.meta.allObjects()) {
      if (bucket !== undefined && rec.bucket !== bucket) continue
      const partBytes = rec.parts.reduce((n, p) => n + p.size, 0)
      // A record whose size disagrees with its parts would make GET send a wrong Content-Length.
      const outcome: Outcome =
        partBytes !== rec.size
          ? {
              status: 'failed',
              detail: `record size ${rec.size} differs from the ${partBytes} bytes of its parts`,
              bytes: partBytes,
            }
          : await verifyObject(store, rec)
      report(`${rec.bucket}/${rec.key}${rec.nullVersion ? '' : ` (version ${rec.versionId})`}`, outcome)
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
      `${totals['sse-c']} not verifiable (SSE-C: the store does not hold the customer key), ` +
      `${totals.unverifiable} UNVERIFIABLE (KMS key not usable now)\n`,
  )
  if (totals.failed > 0) return VERIFY_EXIT.failed
  return totals.unverifiable > 0 ? VERIFY_EXIT.unverifiable : VERIFY_EXIT.ok
}

/**
 * KMS refusals that say nothing about the object: the key is disabled or pending deletion (the
 * operator can enable it or cancel the deletion), or the KMS could not be asked. A key that does
 * not exist, or a data key it refuses as not its own (InvalidCiphertext), is a failure: the object
 * can no longer be decrypted, or its record was changed.
 */
function unusableKmsKey(err: unknown): string | undefined {
  if (!(err instanceof KmsError)) return undefined
  switch (err.reason) {
    case 'disabled':
    case 'pending-deletion':
    case 'unavailable':
    case 'access-denied':
      return err.message
    default:
      return undefined
  }
}

function describe(enc: EncryptionRecord): string {
  if (enc.mode === 'SSE-S3') return `SSE-S3 root v${enc.rootKeyVersion}`
  if (enc.mode === 'SSE-KMS')
    return `${enc.kms?.dsse ? 'DSSE-KMS' : 'SSE-KMS'} ${enc.kms?.keyArn ?? '?'}${enc.kms?.dsse ? ` root v${enc.rootKeyVersion}` : ''}`
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
export async function verifyRecord(
  store: AdminStore,
  enc: EncryptionRecord,
  at: { bucket: string; key: string },
  parts: readonly PartRecord[],
): Promise<Outcome> {
  const mode = describe(enc ?? ({} as EncryptionRecord))
  const bytes = parts.reduce((n, p) => n + p.size, 0)
  const counts = `${parts.length} part${parts.length === 1 ? '' : 's'}, ${bytes} bytes`
  let oek: ObjectKey | undefined
  try {
    oek = await openKey(store, enc, at)
  } catch (err) {
    const unusable = unusableKmsKey(err)
    if (unusable !== undefined)
      return { status: 'unverifiable', detail: `${mode}, ${counts}: the KMS refused the data key: ${unusable}`, bytes }
    return { status: 'failed', detail: `${mode}: sealed object key does not open: ${(err as Error).message}`, bytes }
  }
  try {
    for (const part of parts) {
      if (oek) {
        const pk = derivePartKey(oek, part.partNumber, Buffer.from(part.salt, 'base64'))
        for await (const chunk of decryptPart(pk, { plainSize: part.size })(store.blobs.read(part.blobId)))
          chunk.fill(0)
      } else {
        let stored = 0
        for await (const chunk of store.blobs.read(part.blobId)) stored += chunk.length
        if (stored !== ciphertextSize(part.size))
          throw new Error(`blob of part ${part.partNumber} has ${stored} bytes, expected ${ciphertextSize(part.size)}`)
      }
    }
  } catch (err) {
    return { status: 'failed', detail: `${mode}, ${counts}: ${(err as Error).message}`, bytes }
  } finally {
    oek?.fill(0)
  }
  if (!oek)
    return {
      status: 'sse-c',
      detail: `SSE-C, ${counts}: object key and chunk tags need the customer key; blob sizes OK`,
      bytes,
    }
  return { status: 'ok', detail: `${mode}, ${counts}`, bytes }
}

async function openKey(
  store: AdminStore,
  enc: EncryptionRecord,
  at: { bucket: string; key: string },
): Promise<ObjectKey | undefined> {
  const mode: unknown = enc?.mode
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
      throw new Error(`unknown encryption mode ${String(mode)}`)
  }
}
