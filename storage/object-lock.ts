/**
 * @module Object Lock as stored: a bucket's lock configuration, a version's retention and legal
 * hold, and the one rule that says whether a version may be removed now. The metadata stores apply
 * that rule inside their atomic section (a delete by version id, an overwrite of a version in
 * place) and the lifecycle sweeper never expires a version it holds.
 */
import type { VersionRecord } from './types.js'

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
export function lockHold(rec: VersionRecord, nowMs: number, opts: { bypassGovernance?: boolean } = {}): LockHold | undefined {
  if (rec.deleteMarker) return undefined
  if (rec.legalHold) return 'legal-hold'
  const r = rec.retention
  if (!r || r.retainUntil <= nowMs) return undefined
  if (r.mode === 'GOVERNANCE' && opts.bypassGovernance) return undefined
  return r.mode
}
