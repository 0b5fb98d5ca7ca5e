/**
 * @module The lifecycle sweeper: a background loop of the server that applies every bucket's
 * lifecycle rules (storage/lifecycle.ts decides, this file reads and removes). One sweep runs at a
 * time; each tick does bounded work and the next tick continues where it stopped. Every removal is
 * a conditional delete (MetadataStore.deleteObject `unchanged`): it happens only if the key's
 * versions are still exactly those evaluated, so a concurrent PUT or delete always wins and the
 * key is evaluated again on the next pass. Blobs go after the commit, through the BlobReclaimer.
 */
import { ConflictError, NotFoundError, ObjectLockedError } from '../storage/errors.js'
import { hasEnabledRules, planKeyLifecycle, uploadAbortRule, type LifecycleAction } from '../storage/lifecycle.js'
import type { BucketRecord, VersionRecord } from '../storage/types.js'
import type { Services } from './s3/context.js'
import { deleteGarbage } from './s3/object-io.js'
import { lifecycleDayMs } from './s3/ops/lifecycle.js'

/** Versions (and uploads) one tick reads at most before it yields to the next tick. */
const MAX_ENTRIES_PER_TICK = 5_000
const PAGE = 1_000

export interface SweepCounts {
  expiredCurrent: number
  expiredNoncurrent: number
  removedMarkers: number
  abortedUploads: number
  /** Actions not taken because the key (or upload) changed after it was evaluated. */
  skipped: number
}

export interface LifecycleSweeper {
  /** Runs sweep ticks until one pass over every bucket has completed (tests, admin). */
  sweepNow(): Promise<SweepCounts>
  /** Stops the loop and waits for a tick in progress to end (at its next action). */
  stop(): Promise<void>
}

/** How often a tick starts: a quarter day, between 250 ms and an hour. */
export function sweepIntervalMs(dayMs: number): number {
  return Math.min(3_600_000, Math.max(250, Math.floor(dayMs / 4)))
}

const zeroCounts = (): SweepCounts => ({
  expiredCurrent: 0,
  expiredNoncurrent: 0,
  removedMarkers: 0,
  abortedUploads: 0,
  skipped: 0,
})

/** Where the pass in progress stopped: the bucket, and the last key of it whose versions were done. */
interface Cursor {
  bucket: string
  afterKey?: string
  uploadsDone: boolean
}

export function startLifecycleSweeper(svc: Services): LifecycleSweeper {
  const dayMs = lifecycleDayMs(svc)
  let stopped = false
  let cursor: Cursor | undefined
  let running: Promise<boolean> = Promise.resolve(true)
  let timer: NodeJS.Timeout | undefined

  /** One tick; resolves true when it completed a pass over every bucket. */
  const tick = (counts: SweepCounts): Promise<boolean> => {
    running = running.then(
      () => sweepTick(counts),
      () => sweepTick(counts),
    )
    return running
  }

  const sweepTick = async (counts: SweepCounts): Promise<boolean> => {
    if (stopped) return true
    const budget = { left: MAX_ENTRIES_PER_TICK }
    const buckets = (await svc.meta.listBuckets()).filter(
      (b) => hasEnabledRules(b.lifecycle) && (!cursor || b.name >= cursor.bucket),
    )
    for (const bucket of buckets) {
      if (stopped) return false
      const at: Cursor = cursor?.bucket === bucket.name ? cursor : { bucket: bucket.name, uploadsDone: false }
      try {
        if (!at.uploadsDone) {
          await sweepUploads(bucket, counts, budget)
          at.uploadsDone = true
        }
        const done = await sweepVersions(bucket, at, counts, budget)
        if (!done) {
          cursor = at
          return false
        }
      } catch (err) {
        if (!(err instanceof NotFoundError && err.kind === 'bucket'))
          svc.log.warn('lifecycle sweep of a bucket failed; it is tried again on the next pass', {
            bucket: bucket.name,
            err,
          })
      }
    }
    cursor = undefined
    return true
  }

  const sweepUploads = async (bucket: BucketRecord, counts: SweepCounts, budget: { left: number }): Promise<void> => {
    const rules = bucket.lifecycle!.rules
    if (!rules.some((r) => r.status === 'Enabled' && r.abortIncompleteDays !== undefined)) return
    let keyMarker: string | undefined
    let uploadIdMarker: string | undefined
    for (;;) {
      const page = await svc.meta.listUploads(bucket.name, { keyMarker, uploadIdMarker, limit: PAGE })
      budget.left -= page.entries.length
      for (const e of page.entries) {
        if (stopped) return
        if (e.kind !== 'upload') continue
        const upload = e.record
        const ruleId = uploadAbortRule(upload, rules, Date.now(), dayMs)
        if (ruleId === undefined) continue
        try {
          const { garbage } = await svc.meta.abortUpload(bucket.name, upload.key, upload.uploadId)
          deleteGarbage(svc, garbage)
          counts.abortedUploads++
          record('abort-upload', { bucket: bucket.name, key: upload.key, uploadId: upload.uploadId, ruleId })
        } catch (err) {
          if (!(err instanceof NotFoundError && err.kind === 'upload')) throw err
          counts.skipped++
          svc.metrics?.lifecycleAction('skipped')
        }
      }
      if (!page.isTruncated) return
      keyMarker = page.nextKeyMarker
      uploadIdMarker = page.nextUploadIdMarker
    }
  }

  /** Applies the rules to the keys after `at.afterKey`; false when the budget ran out first. */
  const sweepVersions = async (
    bucket: BucketRecord,
    at: Cursor,
    counts: SweepCounts,
    budget: { left: number },
  ): Promise<boolean> => {
    let keyMarker = at.afterKey
    let versionIdMarker: string | undefined
    let pending: VersionRecord[] = []
    for (;;) {
      const page = await svc.meta.listObjectVersions(bucket.name, { keyMarker, versionIdMarker, limit: PAGE })
      budget.left -= page.entries.length
      for (const e of page.entries) {
        if (e.kind !== 'version') continue
        if (pending.length > 0 && pending[0].key !== e.record.key) {
          await applyKey(bucket, pending, counts)
          at.afterKey = pending[0].key
          pending = []
          if (stopped || budget.left <= 0) return false
        }
        pending.push(e.record)
      }
      if (!page.isTruncated) break
      keyMarker = page.nextKeyMarker
      versionIdMarker = page.nextVersionIdMarker
    }
    if (pending.length > 0) await applyKey(bucket, pending, counts)
    at.afterKey = undefined
    return true
  }

  const applyKey = async (bucket: BucketRecord, versions: VersionRecord[], counts: SweepCounts): Promise<void> => {
    const nowMs = Date.now()
    const actions = planKeyLifecycle({
      versions,
      rules: bucket.lifecycle!.rules,
      nowMs,
      dayMs,
      versioning: bucket.versioning,
    })
    let ids = versions.map((v) => v.versionId)
    let byId = new Map(versions.map((v) => [v.versionId, v]))
    for (const action of actions) {
      if (stopped) return
      const key = action.record.key
      try {
        const res = await svc.meta.deleteObject(bucket.name, key, {
          versionId: action.kind === 'expire-current' ? undefined : action.record.versionId,
          unchanged: {
            versions: ids,
            record: action.kind === 'expire-current' ? byId.get(ids[0])! : action.record,
            nowMs,
          },
        })
        deleteGarbage(svc, res.garbage)
        if (res.removed) ids = ids.filter((id) => id !== res.removed!.versionId)
        if (res.marker) {
          ids = [res.marker.versionId, ...ids]
          byId = new Map(byId).set(res.marker.versionId, res.marker)
        }
        count(counts, action)
        record(action.kind, {
          bucket: bucket.name,
          key,
          versionId: (res.removed ?? res.marker)?.versionId,
          ruleId: action.ruleId,
        })
      } catch (err) {
        // Changed since it was read, or locked meanwhile (a legal hold set after the read): skip it.
        if (!(err instanceof ConflictError && err.kind === 'precondition') && !(err instanceof ObjectLockedError))
          throw err
        counts.skipped++
        svc.metrics?.lifecycleAction('skipped')
        return
      }
    }
  }

  const count = (counts: SweepCounts, action: LifecycleAction): void => {
    if (action.kind === 'expire-current') counts.expiredCurrent++
    else if (action.kind === 'expire-noncurrent') counts.expiredNoncurrent++
    else counts.removedMarkers++
  }

  const record = (
    what: string,
    at: { bucket: string; key: string; versionId?: string; uploadId?: string; ruleId: string },
  ): void => {
    svc.metrics?.lifecycleAction(what)
    svc.audit?.audit({ operation: 'lifecycle', action: 'lifecycle', outcome: 'ok', reason: what, ...at })
  }

  const loop = (): void => {
    if (stopped) return
    timer = setTimeout(() => {
      tick(zeroCounts())
        .catch((err: unknown) => svc.log.warn('lifecycle sweep failed; it runs again at the next interval', { err }))
        .finally(loop)
    }, sweepIntervalMs(dayMs))
    timer.unref()
  }
  loop()

  return {
    async sweepNow() {
      const counts = zeroCounts()
      // Finish the pass in progress first, then make one whole pass.
      for (let i = 0; i < 1_000 && !(await tick(counts)); i++);
      for (let i = 0; i < 1_000 && !(await tick(counts)); i++);
      return counts
    },
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running.catch(() => {})
    },
  }
}
