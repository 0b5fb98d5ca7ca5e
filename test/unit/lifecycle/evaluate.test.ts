/**
 * @module The lifecycle rule evaluation (pure: versions + rules + now -> actions) and the conditional delete the
 * sweeper relies on.
 */
import { describe, expect, it } from 'vitest'
import {
  dueAt,
  expirationOf,
  planKeyLifecycle,
  uploadAbortRule,
  type LifecycleRule,
} from '../../../storage/lifecycle.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll } from 'vitest'
import { LevelMetadataStore } from '../../../storage/level/metadata.js'
import { MemoryMetadataStore } from '../../../storage/memory/metadata.js'
import { ConflictError, ObjectLockedError } from '../../../storage/errors.js'
import type { DeleteMarkerRecord, ObjectRecord, UploadRecord, VersionRecord } from '../../../storage/types.js'
import { newVersionId } from '../../../storage/versions.js'

const DAY = 1000
const T0 = 1_000_000 * DAY

function obj(key: string, lastModified: number, extra: Partial<ObjectRecord> = {}): ObjectRecord {
  return {
    v: 2,
    bucket: 'b',
    key,
    versionId: newVersionId(lastModified),
    lastModified,
    ownerAccountId: '000000000000',
    size: 10,
    etag: 'e',
    encryption: { mode: 'SSE-S3' } as ObjectRecord['encryption'],
    parts: [],
    contentType: 'binary/octet-stream',
    headers: {},
    userMeta: {},
    storageClass: 'STANDARD',
    ...extra,
  }
}
function marker(key: string, lastModified: number): DeleteMarkerRecord {
  return {
    v: 2,
    bucket: 'b',
    key,
    versionId: newVersionId(lastModified),
    deleteMarker: true,
    lastModified,
    ownerAccountId: '000000000000',
  }
}
const rule = (r: Partial<LifecycleRule>): LifecycleRule => ({ id: 'r', status: 'Enabled', filterForm: 'empty', ...r })
const plan = (
  versions: VersionRecord[],
  rules: LifecycleRule[],
  nowMs: number,
  versioning: 'Enabled' | 'Suspended' | 'off' = 'Enabled',
) =>
  planKeyLifecycle({
    versions,
    rules,
    nowMs,
    dayMs: DAY,
    versioning: versioning === 'off' ? undefined : versioning,
  }).map((a) => [a.kind, a.record.versionId])

describe('lifecycle evaluation', () => {
  it('counts days from creation and rounds up to the next day boundary', () => {
    expect(dueAt(T0 + 1, 2, DAY)).toBe(T0 + 3 * DAY)
    expect(dueAt(T0, 2, DAY)).toBe(T0 + 2 * DAY)
    // Real days: the boundary is midnight UTC, as AWS rounds.
    expect(new Date(dueAt(Date.parse('2026-03-01T15:00:00Z'), 1, 86_400_000)).toISOString()).toBe(
      '2026-03-03T00:00:00.000Z',
    )
  })

  it('expires a current version once its expiry time is reached, not before', () => {
    const cur = obj('k', T0 + 1)
    const r = [rule({ expiration: { days: 2 } })]
    expect(plan([cur], r, T0 + 3 * DAY - 1)).toEqual([])
    expect(plan([cur], r, T0 + 3 * DAY)).toEqual([['expire-current', cur.versionId]])
  })

  it('applies Date rules to every matching object from that date on', () => {
    const cur = obj('k', T0 + 5 * DAY)
    const r = [rule({ expiration: { date: T0 + 2 * DAY } })]
    expect(plan([cur], r, T0 + 2 * DAY - 1)).toEqual([])
    expect(plan([cur], r, T0 + 5 * DAY + 1)).toEqual([['expire-current', cur.versionId]])
  })

  it('matches prefix and size filters; disabled rules do nothing', () => {
    const now = T0 + 100 * DAY
    expect(plan([obj('logs/a', T0)], [rule({ prefix: 'logs/', expiration: { days: 1 } })], now)).toHaveLength(1)
    expect(plan([obj('data/a', T0)], [rule({ prefix: 'logs/', expiration: { days: 1 } })], now)).toEqual([])
    expect(plan([obj('k', T0, { size: 10 })], [rule({ sizeGreaterThan: 10, expiration: { days: 1 } })], now)).toEqual(
      [],
    )
    expect(
      plan([obj('k', T0, { size: 11 })], [rule({ sizeGreaterThan: 10, expiration: { days: 1 } })], now),
    ).toHaveLength(1)
    expect(plan([obj('k', T0, { size: 10 })], [rule({ sizeLessThan: 10, expiration: { days: 1 } })], now)).toEqual([])
    expect(plan([obj('k', T0)], [rule({ status: 'Disabled', expiration: { days: 1 } })], now)).toEqual([])
  })

  it('matches tag filters: every tag of the rule, with its value, must be on the version', () => {
    const now = T0 + 100 * DAY
    const r = [rule({ filterForm: 'and', tags: { tier: 'tmp', team: 'a' }, expiration: { days: 1 } })]
    expect(plan([obj('k', T0, { tags: { tier: 'tmp', team: 'a', x: 'y' } })], r, now)).toHaveLength(1)
    expect(plan([obj('k', T0, { tags: { tier: 'tmp' } })], r, now)).toEqual([])
    expect(plan([obj('k', T0, { tags: { tier: 'tmp', team: 'b' } })], r, now)).toEqual([])
    expect(plan([obj('k', T0)], r, now)).toEqual([])
    // A noncurrent version is judged by its own tags.
    const old = obj('k', T0, { tags: { tier: 'tmp', team: 'a' } })
    const cur = obj('k', T0 + 1)
    const nr = [
      rule({ filterForm: 'tag', tags: { tier: 'tmp', team: 'a' }, noncurrentExpiration: { noncurrentDays: 1 } }),
    ]
    expect(plan([cur, old], nr, now)).toEqual([['expire-noncurrent', old.versionId]])
  })

  it('counts noncurrent days from when the successor was written', () => {
    const old = obj('k', T0)
    const cur = obj('k', T0 + 10 * DAY)
    const r = [rule({ noncurrentExpiration: { noncurrentDays: 1 } })]
    expect(plan([cur, old], r, T0 + 11 * DAY - 1)).toEqual([])
    expect(plan([cur, old], r, T0 + 11 * DAY)).toEqual([['expire-noncurrent', old.versionId]])
  })

  it('keeps the NewerNoncurrentVersions newest noncurrent versions', () => {
    const v = [obj('k', T0 + 4), obj('k', T0 + 3), obj('k', T0 + 2), obj('k', T0 + 1)]
    const r = [rule({ noncurrentExpiration: { noncurrentDays: 1, newerNoncurrentVersions: 2 } })]
    expect(plan(v, r, T0 + 10 * DAY)).toEqual([['expire-noncurrent', v[3].versionId]])
  })

  it('removes a delete marker that is the only version (ExpiredObjectDeleteMarker, or Days once it is that old)', () => {
    const m = marker('k', T0)
    expect(plan([m], [rule({ expiration: { expiredObjectDeleteMarker: true } })], T0 + 1)).toEqual([
      ['remove-marker', m.versionId],
    ])
    expect(plan([m, obj('k', T0 - 1)], [rule({ expiration: { expiredObjectDeleteMarker: true } })], T0 + 1)).toEqual([])
    expect(plan([m], [rule({ expiration: { days: 2 } })], T0 + DAY)).toEqual([])
    expect(plan([m], [rule({ expiration: { days: 2 } })], T0 + 2 * DAY)).toEqual([['remove-marker', m.versionId]])
  })

  it('never removes a version Object Lock holds; a versioned expiration (a marker) still happens', () => {
    const now = T0 + 10 * DAY
    const held = obj('k', T0, { legalHold: true })
    const retained = obj('k', T0 + 1, { retention: { mode: 'COMPLIANCE', retainUntil: now + 1 } })
    const lapsed = obj('k', T0 + 2, { retention: { mode: 'GOVERNANCE', retainUntil: now } })
    const cur = obj('k', T0 + 3, { legalHold: true })
    const r = [rule({ expiration: { days: 1 }, noncurrentExpiration: { noncurrentDays: 1 } })]
    expect(plan([cur, lapsed, retained, held], r, now)).toEqual([
      ['expire-current', cur.versionId],
      ['expire-noncurrent', lapsed.versionId],
    ])
    // Unversioned: expiring removes the null version, so a hold stops it.
    expect(plan([obj('k', T0, { nullVersion: true, legalHold: true })], r, now, 'off')).toEqual([])
    expect(plan([obj('k', T0, { nullVersion: true })], r, now, 'off')).toHaveLength(1)
  })

  it('names the earliest applicable rule for x-amz-expiration', () => {
    const rec = obj('logs/a', T0 + 1)
    const rules = [
      rule({ id: 'late', expiration: { days: 5 } }),
      rule({ id: 'early', prefix: 'logs/', expiration: { days: 2 } }),
      rule({ id: 'nc', noncurrentExpiration: { noncurrentDays: 1 } }),
    ]
    expect(expirationOf(rec, rules, DAY)).toEqual({ atMs: T0 + 3 * DAY, ruleId: 'early' })
    expect(expirationOf(obj('x', T0), [rules[2]], DAY)).toBeUndefined()
  })

  it('aborts uploads DaysAfterInitiation after they were started', () => {
    const up = { key: 'k', initiated: T0 + 1 } as UploadRecord
    const r = [rule({ id: 'abort', abortIncompleteDays: 1 })]
    expect(uploadAbortRule(up, r, T0 + 2 * DAY - 1, DAY)).toBeUndefined()
    expect(uploadAbortRule(up, r, T0 + 2 * DAY, DAY)).toBe('abort')
    expect(uploadAbortRule(up, [rule({ prefix: 'x', abortIncompleteDays: 1 })], T0 + 9 * DAY, DAY)).toBeUndefined()
  })
})

const dirs: string[] = []
const stores: LevelMetadataStore[] = []
afterAll(async () => {
  for (const s of stores) await s.close()
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

describe.each(['memory', 'level'] as const)('the conditional delete the sweeper makes (%s store)', (kind) => {
  async function storeWith(versioning: 'Enabled' | undefined) {
    let meta: MemoryMetadataStore | LevelMetadataStore
    if (kind === 'memory') meta = new MemoryMetadataStore()
    else {
      const dir = await mkdtemp(path.join(tmpdir(), 'strongroom-lc-unit-'))
      dirs.push(dir)
      meta = await LevelMetadataStore.open(dir)
      stores.push(meta)
    }
    await meta.createBucket({
      v: 1,
      name: 'b',
      region: 'us-east-1',
      ownerAccountId: '000000000000',
      createdAt: 0,
      blockedEncryptionTypes: [],
      versioning,
    })
    return meta
  }

  it('deletes only while the key still has exactly the versions evaluated', async () => {
    const meta = await storeWith('Enabled')
    const a = (await meta.commitObject(obj('k', Date.now()))).version
    const versions = [a.versionId]
    // A PUT lands after the evaluation: the expiration must not hide it behind a marker.
    const b = (await meta.commitObject(obj('k', Date.now()))).version
    await expect(
      meta.deleteObject('b', 'k', { unchanged: { versions, record: a, nowMs: Date.now() } }),
    ).rejects.toThrow(ConflictError)
    expect((await meta.getObject('b', 'k'))?.versionId).toBe(b.versionId)
    const res = await meta.deleteObject('b', 'k', {
      unchanged: { versions: [b.versionId, a.versionId], record: b, nowMs: Date.now() },
    })
    expect(res.marker).toBeDefined()
  })

  it('never removes a held version even when asked by id', async () => {
    const meta = await storeWith('Enabled')
    const a = (await meta.commitObject(obj('k', Date.now(), { legalHold: true }))).version
    const b = (await meta.commitObject(obj('k', Date.now()))).version
    await expect(
      meta.deleteObject('b', 'k', {
        versionId: a.versionId,
        unchanged: { versions: [b.versionId, a.versionId], record: a, nowMs: Date.now() },
      }),
    ).rejects.toThrow(ObjectLockedError)
    expect(await meta.getVersion('b', 'k', a.versionId)).toBeDefined()
  })

  it('refuses when the version itself changed in place (a retention set meanwhile)', async () => {
    const meta = await storeWith('Enabled')
    const a = (await meta.commitObject(obj('k', Date.now()))).version
    const b = (await meta.commitObject(obj('k', Date.now()))).version
    await meta.commitObject(
      { ...a, retention: { mode: 'GOVERNANCE', retainUntil: Date.now() + 60_000 } },
      { expect: { record: a } },
    )
    await expect(
      meta.deleteObject('b', 'k', {
        versionId: a.versionId,
        unchanged: { versions: [b.versionId, a.versionId], record: a, nowMs: Date.now() },
      }),
    ).rejects.toThrow(ConflictError)
  })
})
