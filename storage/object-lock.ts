/**
 * @module Object Lock as stored: a bucket's lock configuration, a version's retention and legal
 * hold, and the one rule that says whether a version may be removed now. The metadata stores apply
 * that rule inside their atomic section (a delete by version id, an overwrite of a version in
 * place) and the lifecycle sweeper never expires a version it holds.
 */
import { ObjectLockedError } from './errors.js'
import type { ObjectRecord, VersionRecord } from './types.js'

export type LockMode = 'GOVERNANCE' | 'COMPLIANCE'

/** A version's retention: it cannot be removed before `retainUntil` (epoch milliseconds). */
export interface Retention {
  mode: LockMode
  retainUntil: number
}

/** The default retention a bucket gives new versions: exactly one of days and years. */
export interface DefaultRetention {
  mode: LockMode
  days?: number
  years?: number
}

export interface ObjectLockConfig {
  enabled: true
  defaultRetention?: DefaultRetention
}

/** What keeps a version from being removed now; undefined when nothing does. */
export type LockHold = 'legal-hold' | LockMode

/**
 * Whether `rec` may be removed at `nowMs`: a legal hold always holds, COMPLIANCE retention holds
 * until it ends, GOVERNANCE retention holds unless the caller may bypass it (the request said
 * `x-amz-bypass-governance-retention: true` and holds `s3:BypassGovernanceRetention`). Delete
 * markers are never locked.
 */
export function lockHold(
  rec: VersionRecord,
  nowMs: number,
  opts: { bypassGovernance?: boolean } = {},
): LockHold | undefined {
  if (rec.deleteMarker) return undefined
  if (rec.legalHold) return 'legal-hold'
  const r = rec.retention
  if (!r || r.retainUntil <= nowMs) return undefined
  if (r.mode === 'GOVERNANCE' && opts.bypassGovernance) return undefined
  return r.mode
}

/** Throws ObjectLockedError when `rec` may not be removed at `nowMs` (the rule of lockHold). */
export function checkRemovable(
  rec: VersionRecord | undefined,
  nowMs: number,
  opts: { bypassGovernance?: boolean } = {},
): void {
  if (!rec) return
  const hold = lockHold(rec, nowMs, opts)
  if (hold !== undefined) throw new ObjectLockedError(hold, rec.key)
}

/**
 * Whether `next` may replace the version `old` in place at `nowMs`. A version that is locked (any
 * hold, bypass or not) keeps its data: same ETag, size and blobs (a key rewrap re-seals only the
 * object key). Retention still running cannot be weakened: COMPLIANCE stays COMPLIANCE and its date
 * can only move later; GOVERNANCE can be shortened, removed or turned into nothing only with the
 * bypass, and made COMPLIANCE or extended freely. A legal hold may be set or lifted (its own
 * permission decides); delete markers are never locked.
 */
export function checkLockedReplace(
  old: VersionRecord | undefined,
  next: ObjectRecord,
  nowMs: number,
  opts: { bypassGovernance?: boolean } = {},
): void {
  if (!old || old.deleteMarker) return
  const r = old.retention
  const running = r !== undefined && r.retainUntil > nowMs
  if (lockHold(old, nowMs) !== undefined) {
    const sameData =
      next.etag === old.etag &&
      next.size === old.size &&
      JSON.stringify(next.parts.map((p) => p.blobId)) === JSON.stringify(old.parts.map((p) => p.blobId))
    if (!sameData) throw new ObjectLockedError(lockHold(old, nowMs)!, old.key)
  }
  if (!running) return
  const n = next.retention
  const weaker =
    n === undefined || n.retainUntil < r.retainUntil || (r.mode === 'COMPLIANCE' && n.mode !== 'COMPLIANCE')
  if (!weaker) return
  if (r.mode === 'GOVERNANCE' && opts.bypassGovernance) return
  throw new ObjectLockedError(r.mode, old.key)
}
