/**
 * @module Root key usage and rewrap (crypto/README.md §7). Usage counts what each root key version seals:
 * SSE-S3 object keys, the root layer of DSSE-KMS object keys (objects and multipart uploads), and
 * embedded-KMS key material. Rewrap re-seals those under the active version — metadata only, the
 * object key and so the data stay the same. Each record is replaced by a conditional commit on
 * what was read, so a rerun after a crash or Ctrl-C simply continues (already-current records
 * are skipped) and a record changed meanwhile is left to its writer.
 */
import type { RootKeyring } from '../../crypto/keyring.js'
import { openMaterial, sealMaterial } from '../../kms/embedded/material.js'
import { LevelKmsStore, type StoredKey } from '../../kms/embedded/store.js'
import { FORMAT } from '../../crypto/format.js'
import { placeRecord } from '../../crypto/manifest.js'
import { resealSseKms } from '../../crypto/modes/sse-kms.js'
import { resealSseS3 } from '../../crypto/modes/sse-s3.js'
import type { EncryptionRecord, KmsKeyRecord } from '../../crypto/types.js'
import { ConflictError, NotFoundError } from '../../storage/errors.js'
import { lockHold } from '../../storage/object-lock.js'
import type { MetadataStore, ObjectRecord, UploadRecord } from '../../storage/types.js'
import { failureOutcome, type AuditLog } from '../audit.js'
import type { ObjectDataKeys } from '../s3/kms-keys.js'
import { openLocked } from './store.js'

export interface VersionUsage {
  objects: number
  uploads: number
  /** Embedded-KMS key material versions sealed under it. */
  kmsMaterials: number
}

/** The root key version a record's seal depends on, if any (SSE-S3, DSSE-KMS). */
export function rootVersionOf(enc: EncryptionRecord): number | undefined {
  if (enc.mode === 'SSE-S3' || (enc.mode === 'SSE-KMS' && enc.kms?.dsse)) return enc.rootKeyVersion
  return undefined
}

/** Every root key version a record depends on: its seal's and its SR2 placement tag's. */
export function rootVersionsOf(enc: EncryptionRecord): number[] {
  const out = new Set<number>()
  const seal = rootVersionOf(enc)
  if (seal !== undefined) out.add(seal)
  if (enc.manifest) out.add(enc.manifest.rootKeyVersion)
  return [...out]
}

/** An SR1 object whose seal rewrap can open, and so upgrade to SR2 (SSE-C needs the customer key). */
const upgradable = (enc: EncryptionRecord) => enc.format === FORMAT && enc.mode !== 'SSE-C'

/** How many objects, uploads and KMS materials each root key version seals. */
export async function countUsage(meta: MetadataStore, kmsDirs: readonly string[]): Promise<Map<number, VersionUsage>> {
  const usage = new Map<number, VersionUsage>()
  const of = (v: number) => usage.get(v) ?? (usage.set(v, { objects: 0, uploads: 0, kmsMaterials: 0 }), usage.get(v)!)
  for await (const o of meta.allObjects()) for (const v of rootVersionsOf(o.encryption)) of(v).objects++
  for await (const u of meta.allUploads()) {
    const v = rootVersionOf(u.encryption)
    if (v !== undefined) of(v).uploads++
  }
  for (const dir of kmsDirs) {
    const store = await openLocked(() => LevelKmsStore.open(dir))
    try {
      for (const key of (await store.load()).keys) for (const m of key.materials) of(m.rootKeyVersion).kmsMaterials++
    } finally {
      await store.close()
    }
  }
  return usage
}

export interface RewrapProgress {
  done: number
  total: number
}

export interface RewrapOptions {
  /** Only records under this version (default: every version older than the active one). */
  fromVersion?: number
  /** Stop after rewrapping this many records (a rerun continues). */
  limit?: number
  /** Records re-sealed at a time (their commits share fsyncs). */
  concurrency?: number
  /** Aborting stops starting new records; those in flight finish. */
  signal?: AbortSignal
  onProgress?(p: RewrapProgress): void
  audit?: AuditLog
  /** Data keys for DSSE-KMS records (the embedded KMS). */
  dataKeys?: () => Promise<ObjectDataKeys>
  /**
   * Also re-encrypt SSE-KMS data keys (KMS ReEncrypt to the same key, same context) so their
   * CiphertextBlob uses the key's newest material; answers the new base64 blob, or undefined if
   * it already did. The data key itself, and so the sealed object key, stays the same.
   */
  reEncrypt?: (kms: KmsKeyRecord) => Promise<string | undefined>
}

export interface RewrapResult {
  toVersion: number
  /** Objects upgraded from format SR1 to SR2 (sealed to their version, placement tag added). */
  upgraded: number
  /** Records (objects and uploads) that needed a rewrap when the run started. */
  total: number
  rewrapped: number
  /** Candidates already current (SSE-KMS data keys under the newest material, with reEncrypt). */
  current: number
  /** Changed or deleted meanwhile: left to their writer. */
  changed: number
  failed: Array<{ what: string; reason: string }>
  kmsMaterials: number
  /** Stopped early (limit or interrupt): run again to finish. */
  stopped: boolean
}

type Item = { kind: 'object'; rec: ObjectRecord } | { kind: 'upload'; rec: UploadRecord }

/** Re-seals everything under older root key versions to the active one. */
export async function rewrap(
  meta: MetadataStore,
  keyring: RootKeyring,
  kmsDirs: readonly string[],
  opts: RewrapOptions = {},
): Promise<RewrapResult> {
  const toVersion = keyring.active().version
  const stale = (v: number | undefined) =>
    v !== undefined && v !== toVersion && (opts.fromVersion === undefined || v === opts.fromVersion)
  const rootStale = (enc: EncryptionRecord) => stale(rootVersionOf(enc))
  const tagStale = (enc: EncryptionRecord) => stale(enc.manifest?.rootKeyVersion)
  // --from-version limits the upgrade to SR2 too: only records sealed under that version change.
  const upgradeWanted = (enc: EncryptionRecord) =>
    upgradable(enc) && (opts.fromVersion === undefined || rootVersionOf(enc) === opts.fromVersion)
  const needs = (enc: EncryptionRecord, object: boolean) =>
    rootStale(enc) || (object && (tagStale(enc) || upgradeWanted(enc))) || (!!opts.reEncrypt && enc.mode === 'SSE-KMS')
  const result: RewrapResult = {
    toVersion,
    upgraded: 0,
    total: 0,
    rewrapped: 0,
    current: 0,
    changed: 0,
    failed: [],
    kmsMaterials: 0,
    stopped: false,
  }
  result.kmsMaterials = await rewrapKmsMaterials(keyring, kmsDirs, toVersion, opts)
  for await (const o of meta.allObjects()) if (needs(o.encryption, true)) result.total++
  for await (const u of meta.allUploads()) if (needs(u.encryption, false)) result.total++
  async function* items(): AsyncGenerator<Item> {
    for await (const rec of meta.allObjects()) if (needs(rec.encryption, true)) yield { kind: 'object', rec }
    for await (const rec of meta.allUploads()) if (needs(rec.encryption, false)) yield { kind: 'upload', rec }
  }
  const one = async (item: Item) => {
    const { rec } = item
    const what = `${item.kind} ${rec.bucket}/${rec.key}${item.kind === 'upload' ? ` (upload ${item.rec.uploadId})` : ''}`
    const from = rec.encryption.rootKeyVersion
    try {
      const upgrade = item.kind === 'object' && upgradeWanted(rec.encryption)
      let enc =
        rootStale(rec.encryption) || upgrade
          ? await reseal(rec.encryption, rec, keyring, opts, upgrade)
          : rec.encryption
      const blob = opts.reEncrypt && enc.mode === 'SSE-KMS' ? await opts.reEncrypt(enc.kms) : undefined
      if (blob !== undefined && enc.mode === 'SSE-KMS') enc = { ...enc, kms: { ...enc.kms, ciphertextBlob: blob } }
      // An SR2 object's placement tag is made again whenever its record changes (or its root key is old).
      if (item.kind === 'object' && enc.format !== FORMAT && (enc !== rec.encryption || tagStale(enc))) {
        enc = placeRecord(keyring, enc, item.rec, item.rec.parts)
      }
      if (enc === rec.encryption) {
        result.current++
        opts.onProgress?.({
          done: result.rewrapped + result.current + result.changed + result.failed.length,
          total: result.total,
        })
        return
      }
      let ok: boolean
      if (item.kind === 'object') {
        ok = await meta
          .commitObject({ ...item.rec, encryption: enc }, { expect: { etag: item.rec.etag, record: item.rec } })
          .then(
            () => true,
            (err: unknown) => {
              if (err instanceof ConflictError || err instanceof NotFoundError) return false
              throw err
            },
          )
      } else {
        ok = await meta.replaceUploadEncryption({ ...item.rec, encryption: enc }, item.rec.encryption)
      }
      if (ok) result.rewrapped++
      else result.changed++
      if (ok && upgrade) result.upgraded++
      opts.audit?.audit({
        operation: 'keys rewrap',
        action: 'rewrap',
        outcome: ok ? 'ok' : 'changed-meanwhile',
        bucket: rec.bucket,
        key: rec.key,
        reason: upgrade ? 'format SR1 upgraded to SR2' : undefined,
        // A locked version is re-sealed in place: its data and lock stay as they are.
        objectLock: item.kind === 'object' ? lockHold(item.rec, Date.now()) : undefined,
        uploadId: item.kind === 'upload' ? item.rec.uploadId : undefined,
        generation: rec.encryption.binding?.generation,
        mode: enc.kms?.dsse ? 'DSSE-KMS' : enc.mode,
        kmsKeyArn: enc.kms?.keyArn,
        fromVersion: from,
        toVersion,
      })
    } catch (err) {
      result.failed.push({ what, reason: (err as Error).message })
      opts.audit?.audit({
        operation: 'keys rewrap',
        action: 'rewrap',
        outcome: failureOutcome(err),
        bucket: rec.bucket,
        key: rec.key,
        fromVersion: from,
        toVersion,
      })
    }
    opts.onProgress?.({
      done: result.rewrapped + result.current + result.changed + result.failed.length,
      total: result.total,
    })
  }
  const inFlight = new Set<Promise<void>>()
  let started = 0
  const width = Math.max(1, opts.concurrency ?? 64)
  for await (const item of items()) {
    if (opts.signal?.aborted || (opts.limit !== undefined && started >= opts.limit)) {
      result.stopped = true
      break
    }
    started++
    const p: Promise<void> = one(item).finally(() => inFlight.delete(p))
    inFlight.add(p)
    if (inFlight.size >= width) await Promise.race(inFlight)
  }
  await Promise.all(inFlight)
  // Counted at the start but gone from the second scan: overwritten (sealed by the active version)
  // or deleted meanwhile, by traffic beside a live rewrap. They are changed, not missed.
  const seen = result.rewrapped + result.current + result.changed + result.failed.length
  if (!result.stopped && seen < result.total) {
    result.changed += result.total - seen
    opts.onProgress?.({ done: result.total, total: result.total })
  }
  return result
}

async function reseal(
  enc: EncryptionRecord,
  at: { bucket: string; key: string; versionId?: string },
  keyring: RootKeyring,
  opts: RewrapOptions,
  upgrade: boolean,
): Promise<EncryptionRecord> {
  if (enc.mode === 'SSE-S3') return resealSseS3(keyring, enc, at, upgrade)
  if (!opts.dataKeys || !enc.kms) throw new Error('SSE-KMS record: no KMS to decrypt its data key')
  const dataKey = await (await opts.dataKeys()).forRead(enc.kms)
  try {
    return resealSseKms(dataKey, enc, keyring, at, upgrade)
  } finally {
    dataKey.fill(0)
  }
}

/** Re-seals embedded-KMS key material under older root keys (one atomic put per KMS key). */
async function rewrapKmsMaterials(
  keyring: RootKeyring,
  kmsDirs: readonly string[],
  toVersion: number,
  opts: RewrapOptions,
): Promise<number> {
  let count = 0
  for (const dir of kmsDirs) {
    const store = await openLocked(() => LevelKmsStore.open(dir))
    try {
      for (const key of (await store.load()).keys) {
        const stale = (v: number) => v !== toVersion && (opts.fromVersion === undefined || v === opts.fromVersion)
        if (!key.materials.some((m) => stale(m.rootKeyVersion))) continue
        const materials = key.materials.map((m) => {
          if (!stale(m.rootKeyVersion)) return m
          const plain = openMaterial(keyring, key.id, m)
          try {
            return sealMaterial(keyring, key.id, m.version, plain, m.createdAt)
          } finally {
            plain.fill(0)
          }
        })
        const next: StoredKey = { ...key, materials }
        await store.apply([{ type: 'put-key', key: next }])
        count += key.materials.filter((m) => stale(m.rootKeyVersion)).length
        opts.audit?.audit({
          operation: 'keys rewrap',
          action: 'rewrap',
          outcome: 'ok',
          kmsKeyArn: key.id,
          toVersion,
          reason: 'embedded KMS key material',
        })
      }
    } finally {
      await store.close()
    }
  }
  return count
}
