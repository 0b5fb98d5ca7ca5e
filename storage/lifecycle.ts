/**
 * @module Lifecycle rules as stored in a bucket record, and what they do, as pure functions: which
 * versions of one key the rules remove at a given time, which uploads they abort, and when a
 * current version expires (the `x-amz-expiration` header). The sweeper (server/lifecycle-sweeper.ts)
 * reads versions, asks these functions and removes what they name with conditional deletes.
 *
 * Time: AWS counts a rule's days from an object's creation and rounds the result up to the next
 * midnight UTC. Here a "day" is `dayMs` long (86,400,000 unless `--lifecycle-day-seconds` shortens
 * it), and the result is rounded up to the next multiple of `dayMs` since the epoch, which is
 * midnight UTC for real days. A rule's Date is an absolute instant and is never scaled.
 */
import { lockHold } from './object-lock.js'
import type { DeleteMarkerRecord, ObjectRecord, UploadRecord, VersionRecord } from './types.js'

/** How a rule's filter was written, so GetBucketLifecycleConfiguration answers in the same form. */
export type LifecycleFilterForm = 'legacy-prefix' | 'empty' | 'prefix' | 'tag' | 'size-greater' | 'size-less' | 'and'

export interface LifecycleRule {
  /** 1..255 characters, unique within the configuration. */
  id: string
  status: 'Enabled' | 'Disabled'
  filterForm: LifecycleFilterForm
  /** Keys that start with this (absent = every key). */
  prefix?: string
  /** Versions whose tags include every one of these (key -> value); absent = no tag condition. */
  tags?: Record<string, string>
  /** Versions strictly larger than this many bytes. */
  sizeGreaterThan?: number
  /** Versions strictly smaller than this many bytes. */
  sizeLessThan?: number
  expiration?: {
    days?: number
    /** Epoch milliseconds, at midnight UTC. */
    date?: number
    expiredObjectDeleteMarker?: boolean
  }
  noncurrentExpiration?: { noncurrentDays: number; newerNoncurrentVersions?: number }
  abortIncompleteDays?: number
}

export interface LifecycleConfiguration {
  rules: LifecycleRule[]
  /** The `x-amz-transition-default-minimum-object-size` setting (stored and answered; no transition runs). */
  transitionDefaultMinimumObjectSize: 'all_storage_classes_128K' | 'varies_by_storage_class'
}

export type LifecycleAction =
  /** The current version expires: a delete marker in a versioned bucket, its removal otherwise. */
  | { kind: 'expire-current'; record: ObjectRecord; ruleId: string }
  /** A noncurrent version (or noncurrent delete marker) goes for good. */
  | { kind: 'expire-noncurrent'; record: VersionRecord; ruleId: string }
  /** A delete marker that is the key's only version goes. */
  | { kind: 'remove-marker'; record: DeleteMarkerRecord; ruleId: string }

export interface KeyLifecycleInput {
  /** Every version of one key, newest first. */
  versions: readonly VersionRecord[]
  rules: readonly LifecycleRule[]
  nowMs: number
  dayMs: number
  versioning: 'Enabled' | 'Suspended' | undefined
}

/** `fromMs` plus `days` days, rounded up to the next day boundary. */
export function dueAt(fromMs: number, days: number, dayMs: number): number {
  return Math.ceil((fromMs + days * dayMs) / dayMs) * dayMs
}

function matchesKey(rule: LifecycleRule, key: string): boolean {
  return rule.status === 'Enabled' && (rule.prefix === undefined || key.startsWith(rule.prefix))
}

/** Size filters match data versions only: a delete marker has no size. */
function matchesVersion(rule: LifecycleRule, rec: VersionRecord): boolean {
  if (!matchesKey(rule, rec.key)) return false
  if (rule.tags === undefined && rule.sizeGreaterThan === undefined && rule.sizeLessThan === undefined) return true
  // A delete marker has neither tags nor a size: a rule that asks for either never selects it.
  if (rec.deleteMarker) return false
  if (rule.tags !== undefined && !Object.entries(rule.tags).every(([k, v]) => rec.tags?.[k] === v)) return false
  if (rule.sizeGreaterThan !== undefined && !(rec.size > rule.sizeGreaterThan)) return false
  if (rule.sizeLessThan !== undefined && !(rec.size < rule.sizeLessThan)) return false
  return true
}

/**
 * When the current version `rec` expires under `rules` (the earliest Expiration Days or Date of an
 * enabled rule that matches it), and by which rule; undefined if none applies.
 */
export function expirationOf(
  rec: ObjectRecord,
  rules: readonly LifecycleRule[],
  dayMs: number,
): { atMs: number; ruleId: string } | undefined {
  let best: { atMs: number; ruleId: string } | undefined
  for (const rule of rules) {
    const e = rule.expiration
    if (!e || (e.days === undefined && e.date === undefined) || !matchesVersion(rule, rec)) continue
    const atMs = e.days !== undefined ? dueAt(rec.lastModified, e.days, dayMs) : e.date!
    if (!best || atMs < best.atMs) best = { atMs, ruleId: rule.id }
  }
  return best
}

/**
 * What `rules` do to one key at `nowMs`. Versions that Object Lock holds (storage/object-lock.ts)
 * are never removed; expiring a current version in a versioned bucket only adds a delete marker
 * (the version stays, as on AWS), so a hold does not stop that.
 */
export function planKeyLifecycle(input: KeyLifecycleInput): LifecycleAction[] {
  const { versions, rules, nowMs, dayMs, versioning } = input
  const actions: LifecycleAction[] = []
  const current = versions[0]
  if (!current) return actions
  if (!current.deleteMarker) {
    const exp = expirationOf(current, rules, dayMs)
    // Outside Enabled versioning the expiration removes the null version (Suspended: the marker
    // replaces it), so a held null version stops it.
    const removed = versioning === 'Enabled' ? undefined : versions.find((v) => v.nullVersion)
    if (exp && exp.atMs <= nowMs && (!removed || lockHold(removed, nowMs) === undefined)) {
      actions.push({ kind: 'expire-current', record: current, ruleId: exp.ruleId })
    }
  } else if (versions.length === 1) {
    const rule = rules.find((r) => {
      if (!r.expiration || !matchesVersion(r, current)) return false
      // AWS: a rule with Expiration Days also removes expired delete markers once they are that old.
      return (
        r.expiration.expiredObjectDeleteMarker === true ||
        (r.expiration.days !== undefined && dueAt(current.lastModified, r.expiration.days, dayMs) <= nowMs)
      )
    })
    if (rule) actions.push({ kind: 'remove-marker', record: current, ruleId: rule.id })
  }
  for (let i = 1; i < versions.length; i++) {
    const rec = versions[i]
    // A version became noncurrent when the next newer one was written.
    const since = versions[i - 1].lastModified
    const newerNoncurrent = i - 1
    const rule = rules.find((r) => {
      const n = r.noncurrentExpiration
      if (!n || !matchesVersion(r, rec)) return false
      if (n.newerNoncurrentVersions !== undefined && newerNoncurrent < n.newerNoncurrentVersions) return false
      return dueAt(since, n.noncurrentDays, dayMs) <= nowMs
    })
    if (rule && lockHold(rec, nowMs) === undefined)
      actions.push({ kind: 'expire-noncurrent', record: rec, ruleId: rule.id })
  }
  return actions
}

/** The rule that aborts `upload` at `nowMs`, if any (DaysAfterInitiation, counted from initiation). */
export function uploadAbortRule(
  upload: UploadRecord,
  rules: readonly LifecycleRule[],
  nowMs: number,
  dayMs: number,
): string | undefined {
  for (const rule of rules) {
    if (rule.abortIncompleteDays === undefined || !matchesKey(rule, upload.key)) continue
    if (dueAt(upload.initiated, rule.abortIncompleteDays, dayMs) <= nowMs) return rule.id
  }
  return undefined
}

/** Whether any rule of `cfg` could act on versions or uploads (a sweep skips buckets without). */
export function hasEnabledRules(cfg: LifecycleConfiguration | undefined): boolean {
  return cfg !== undefined && cfg.rules.some((r) => r.status === 'Enabled')
}
