/**
 * @module Object Lock: Put/GetObjectLockConfiguration, Put/GetObjectRetention,
 * Put/GetObjectLegalHold, and the lock rules the object operations share: the
 * `x-amz-object-lock-*` request headers of PutObject, CopyObject and CreateMultipartUpload, the
 * bucket's default retention, the body digest AWS requires on such writes, the
 * `x-amz-bypass-governance-retention` bypass, and the lock headers of GET/HEAD.
 * See https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html
 */
import { ConflictError } from '../../../storage/errors.js'
import type { DefaultRetention, LockMode, ObjectLockConfig, Retention } from '../../../storage/object-lock.js'
import type { BucketRecord, ObjectRecord } from '../../../storage/types.js'
import type { S3Request, S3Result, Services } from '../context.js'
import { S3Error, invalidArgument } from '../errors.js'
import { deleteGarbage } from '../object-io.js'
import { mayPerform } from '../policy/authorize.js'
import { readXml } from '../request-body.js'
import { queryValue } from '../route.js'
import { isoTime, textOf, xmlDocument, type XmlObject } from '../xml.js'
import { isOwner, loadBucket, requireIntegrityHeader } from './common.js'
import { updateBucket } from './bucket-update.js'
import { readableVersion } from './versioning.js'

export const AMZ_LOCK_MODE = 'x-amz-object-lock-mode'
export const AMZ_LOCK_RETAIN_UNTIL = 'x-amz-object-lock-retain-until-date'
export const AMZ_LOCK_LEGAL_HOLD = 'x-amz-object-lock-legal-hold'
export const AMZ_BYPASS_GOVERNANCE = 'x-amz-bypass-governance-retention'

const DAY_MS = 86_400_000
/** The longest default retention accepted: 100 years (36,500 days). */
const MAX_DAYS = 36_500
const MAX_YEARS = 100
/** Attempts of a retention or legal-hold change that keeps losing its compare-and-swap. */
const MAX_ATTEMPTS = 20

const MODES: readonly string[] = ['GOVERNANCE', 'COMPLIANCE']
const missingLock = () => new S3Error('InvalidRequest', { message: 'Bucket is missing Object Lock Configuration' })

/** Lock state a write gives its new version. */
export interface WriteLock {
  retention?: Retention
  legalHold?: boolean
}

/** A retention date as S3 takes it (ISO 8601 / RFC 3339); undefined when unparsable. */
function parseDate(raw: string): number | undefined {
  const s = raw.trim()
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s)) return undefined
  const ms = Date.parse(s)
  return Number.isFinite(ms) ? ms : undefined
}

/**
 * The lock headers of PutObject, CopyObject and CreateMultipartUpload (x-amz-object-lock-mode and
 * -retain-until-date together, -legal-hold ON/OFF). None at all: undefined. A bucket without
 * Object Lock refuses them (400 InvalidRequest), as do a mode without a date and a date in the past.
 */
export function lockFromHeaders(h: Record<string, string>, bucket: BucketRecord, nowMs: number): WriteLock | undefined {
  const mode = h[AMZ_LOCK_MODE]
  const until = h[AMZ_LOCK_RETAIN_UNTIL]
  const hold = h[AMZ_LOCK_LEGAL_HOLD]
  if (mode === undefined && until === undefined && hold === undefined) return undefined
  if (!bucket.objectLock) throw missingLock()
  const out: WriteLock = {}
  if (mode !== undefined || until !== undefined) {
    if (mode === undefined || until === undefined) {
      throw new S3Error('InvalidArgument', {
        message: 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied',
      })
    }
    if (!MODES.includes(mode)) throw invalidArgument('Unknown wormMode directive.', AMZ_LOCK_MODE, mode.slice(0, 64))
    const ms = parseDate(until)
    if (ms === undefined)
      throw invalidArgument(
        'The retain until date must be provided in ISO 8601 format',
        AMZ_LOCK_RETAIN_UNTIL,
        until.slice(0, 64),
      )
    if (ms <= nowMs)
      throw invalidArgument('The retain until date must be in the future!', AMZ_LOCK_RETAIN_UNTIL, until.slice(0, 64))
    out.retention = { mode: mode as LockMode, retainUntil: ms }
  }
  if (hold !== undefined) {
    if (hold !== 'ON' && hold !== 'OFF')
      throw invalidArgument("Legal Hold must be either of 'ON' or 'OFF'", AMZ_LOCK_LEGAL_HOLD, hold.slice(0, 64))
    if (hold === 'ON') out.legalHold = true
  }
  return out
}

/** The retention a bucket's default rule gives a version written at `writtenMs`. */
export function defaultRetention(bucket: BucketRecord, writtenMs: number): Retention | undefined {
  const d = bucket.objectLock?.defaultRetention
  if (!d) return undefined
  if (d.days !== undefined) return { mode: d.mode, retainUntil: writtenMs + d.days * DAY_MS }
  const at = new Date(writtenMs)
  at.setUTCFullYear(at.getUTCFullYear() + (d.years ?? 0))
  return { mode: d.mode, retainUntil: at.getTime() }
}

/**
 * The lock fields of a new version written at `writtenMs`: the request's (or upload's) explicit
 * retention, else the bucket's default; a legal hold only when asked for.
 */
export function versionLock(
  bucket: BucketRecord,
  explicit: WriteLock | undefined,
  writtenMs: number,
): Pick<ObjectRecord, 'retention' | 'legalHold'> {
  const retention = explicit?.retention ?? defaultRetention(bucket, writtenMs)
  const out: Pick<ObjectRecord, 'retention' | 'legalHold'> = {}
  if (retention) out.retention = retention
  if (explicit?.legalHold) out.legalHold = true
  return out
}

/**
 * AWS requires a body digest (Content-MD5 or an x-amz-checksum-*, also as a trailer) on a PutObject
 * or UploadPart that writes a locked version: lock headers, or a bucket default retention.
 */
export function requireLockedWriteDigest(h: Record<string, string>, what: 'Put Object' | 'Put Part'): void {
  try {
    requireIntegrityHeader(h)
  } catch {
    throw new S3Error('InvalidRequest', {
      message: `Content-MD5 OR x-amz-checksum- HTTP header is required for ${what} requests with Object Lock parameters`,
    })
  }
}

/**
 * Whether this request bypasses GOVERNANCE retention: it says `x-amz-bypass-governance-retention:
 * true` and the caller holds s3:BypassGovernanceRetention on the object. Without the permission the
 * bypass is simply not granted (a GOVERNANCE-held version then answers AccessDenied).
 */
export function bypassGovernance(svc: Services, req: S3Request, bucket: BucketRecord, key: string): boolean {
  if (req.headers[AMZ_BYPASS_GOVERNANCE]?.trim().toLowerCase() !== 'true') return false
  return mayPerform(
    req,
    bucket,
    { owner: isOwner(bucket, req.principal), region: svc.config.region },
    key,
    's3:BypassGovernanceRetention',
  )
}

/**
 * The lock headers of GET/HEAD of one version: mode and retain-until date to a caller who may
 * s3:GetObjectRetention, the legal hold to one who may s3:GetObjectLegalHold (as S3 shows them).
 */
export function lockHeaders(
  svc: Services,
  req: S3Request,
  bucket: BucketRecord,
  rec: ObjectRecord,
): Record<string, string> {
  if (!rec.retention && rec.legalHold === undefined) return {}
  const opts = { owner: isOwner(bucket, req.principal), region: svc.config.region }
  const out: Record<string, string> = {}
  if (rec.retention && mayPerform(req, bucket, opts, rec.key, 's3:GetObjectRetention')) {
    out[AMZ_LOCK_MODE] = rec.retention.mode
    out[AMZ_LOCK_RETAIN_UNTIL] = isoTime(rec.retention.retainUntil)
  }
  if (rec.legalHold !== undefined && mayPerform(req, bucket, opts, rec.key, 's3:GetObjectLegalHold'))
    out[AMZ_LOCK_LEGAL_HOLD] = rec.legalHold ? 'ON' : 'OFF'
  return out
}

/** A whole number in [1, max] as S3 takes a default retention period, else InvalidRetentionPeriod. */
function period(raw: string, max: number): number {
  const n = Number(raw.trim())
  if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n <= 0 || n > max) {
    throw new S3Error('InvalidRetentionPeriod', {
      message:
        n > max ? 'Default retention period too large.' : 'Default retention period must be a positive integer value.',
    })
  }
  return n
}

/** Parses an `<ObjectLockConfiguration>` body (MalformedXML for any shape S3 refuses). */
export function parseLockConfiguration(doc: Record<string, unknown>): ObjectLockConfig {
  if (textOf(doc, 'ObjectLockEnabled') !== 'Enabled') throw new S3Error('MalformedXML')
  // Rule parses as a list (it repeats in other configurations); Object Lock takes at most one.
  if (doc.Rule === undefined) return { enabled: true }
  if (!Array.isArray(doc.Rule) || doc.Rule.length !== 1) throw new S3Error('MalformedXML')
  const rule: unknown = doc.Rule[0]
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) throw new S3Error('MalformedXML')
  const dr = (rule as Record<string, unknown>).DefaultRetention
  if (typeof dr !== 'object' || dr === null || Array.isArray(dr)) throw new S3Error('MalformedXML')
  const el = dr as Record<string, unknown>
  const mode = textOf(el, 'Mode')
  const days = textOf(el, 'Days')
  const years = textOf(el, 'Years')
  if (mode === undefined || !MODES.includes(mode)) throw new S3Error('MalformedXML')
  if ((days === undefined) === (years === undefined)) throw new S3Error('MalformedXML')
  const defaultRetention: DefaultRetention =
    days !== undefined
      ? { mode: mode as LockMode, days: period(days, MAX_DAYS) }
      : { mode: mode as LockMode, years: period(years!, MAX_YEARS) }
  return { enabled: true, defaultRetention }
}

function lockConfigurationXml(c: ObjectLockConfig): XmlObject {
  const d = c.defaultRetention
  return {
    ObjectLockEnabled: 'Enabled',
    Rule: d ? { DefaultRetention: { Mode: d.mode, Days: d.days, Years: d.years } } : undefined,
  }
}

/**
 * PutObjectLockConfiguration: enables Object Lock on a bucket whose versioning is Enabled (at
 * creation or later, as AWS allows since 2023) and sets or clears its default retention. Lock
 * cannot be turned off again.
 */
export async function putObjectLockConfiguration(svc: Services, req: S3Request, bucketName: string): Promise<S3Result> {
  await loadBucket(svc, req, bucketName)
  requireIntegrityHeader(req.headers)
  const config = parseLockConfiguration(await readXml(req, 'ObjectLockConfiguration'))
  await updateBucket(svc, req, bucketName, (b) => {
    if (!b.objectLock && b.versioning !== 'Enabled') {
      throw new S3Error('InvalidBucketState', {
        message: "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
      })
    }
    return { ...b, objectLock: config }
  })
  return { status: 200 }
}

export async function getObjectLockConfiguration(svc: Services, req: S3Request, bucketName: string): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, bucketName)
  if (!bucket.objectLock)
    throw new S3Error('ObjectLockConfigurationNotFoundError', { fields: [['BucketName', bucketName]] })
  return { status: 200, xml: xmlDocument('ObjectLockConfiguration', lockConfigurationXml(bucket.objectLock)) }
}

/** The version a retention or legal-hold request addresses (`versionId` or the current one). */
async function lockedVersion(svc: Services, req: S3Request, bucket: BucketRecord, key: string): Promise<ObjectRecord> {
  if (!bucket.objectLock) throw missingLock()
  return readableVersion(svc, bucket.name, key, queryValue(req.query, 'versionId'), req.method, {}, req)
}

/**
 * Changes one version's lock fields by a compare-and-swap replace of that version (the store
 * refuses a change that weakens running retention without the bypass, in its atomic section);
 * a concurrent change of the version makes it read again and re-apply `change`.
 */
async function changeVersion(
  svc: Services,
  req: S3Request,
  bucket: BucketRecord,
  key: string,
  bypass: boolean,
  change: (rec: ObjectRecord) => ObjectRecord,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const rec = await lockedVersion(svc, req, bucket, key)
    try {
      const { garbage } = await svc.meta.commitObject(change(rec), {
        expect: { record: rec, bypassGovernance: bypass },
      })
      // The version keeps its blobs (the store refuses otherwise for a locked one): normally none.
      deleteGarbage(svc, garbage)
      return
    } catch (err) {
      if (!(err instanceof ConflictError && err.kind === 'precondition') || attempt >= MAX_ATTEMPTS) throw err
    }
  }
}

/** Parses a `<Retention>` body: mode and date together, or neither (removes the retention). */
function parseRetention(doc: Record<string, unknown>, nowMs: number): Retention | undefined {
  const mode = textOf(doc, 'Mode')
  const until = textOf(doc, 'RetainUntilDate')
  if (mode === undefined && until === undefined) return undefined
  if (mode === undefined || until === undefined || !MODES.includes(mode)) throw new S3Error('MalformedXML')
  const ms = parseDate(until)
  if (ms === undefined) throw new S3Error('MalformedXML')
  if (ms <= nowMs) throw new S3Error('InvalidArgument', { message: 'The retain until date must be in the future!' })
  return { mode: mode as LockMode, retainUntil: ms }
}

export async function putObjectRetention(
  svc: Services,
  req: S3Request,
  bucketName: string,
  key: string,
): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, bucketName)
  if (!bucket.objectLock) throw missingLock()
  requireIntegrityHeader(req.headers)
  const retention = parseRetention(await readXml(req, 'Retention'), Date.now())
  const bypass = bypassGovernance(svc, req, bucket, key)
  await changeVersion(svc, req, bucket, key, bypass, (rec) => {
    const { retention: _old, ...rest } = rec
    return retention ? { ...rest, retention } : rest
  })
  return { status: 200 }
}

export async function getObjectRetention(
  svc: Services,
  req: S3Request,
  bucketName: string,
  key: string,
): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, bucketName)
  const rec = await lockedVersion(svc, req, bucket, key)
  if (!rec.retention) throw new S3Error('NoSuchObjectLockConfiguration')
  return {
    status: 200,
    xml: xmlDocument('Retention', { Mode: rec.retention.mode, RetainUntilDate: isoTime(rec.retention.retainUntil) }),
  }
}

export async function putObjectLegalHold(
  svc: Services,
  req: S3Request,
  bucketName: string,
  key: string,
): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, bucketName)
  if (!bucket.objectLock) throw missingLock()
  requireIntegrityHeader(req.headers)
  const status = textOf(await readXml(req, 'LegalHold'), 'Status')
  if (status !== 'ON' && status !== 'OFF') throw new S3Error('MalformedXML')
  await changeVersion(svc, req, bucket, key, false, (rec) => ({ ...rec, legalHold: status === 'ON' }))
  return { status: 200 }
}

export async function getObjectLegalHold(
  svc: Services,
  req: S3Request,
  bucketName: string,
  key: string,
): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, bucketName)
  const rec = await lockedVersion(svc, req, bucket, key)
  if (rec.legalHold === undefined) throw new S3Error('NoSuchObjectLockConfiguration')
  return { status: 200, xml: xmlDocument('LegalHold', { Status: rec.legalHold ? 'ON' : 'OFF' }) }
}
