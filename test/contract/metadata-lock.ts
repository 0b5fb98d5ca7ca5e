/**
 * @module The Object Lock part of the MetadataStore contract: a delete by version id and an
 * in-place change of a version are refused inside the store's atomic section while a legal hold
 * or running retention holds it (storage/object-lock.ts), whatever the caller checked before.
 */
import { describe, expect, it } from 'vitest'
import { ObjectLockedError } from '../../storage/errors.js'
import type { ObjectRecord } from '../../storage/types.js'
import { bucketRecord, objectRecord } from './fixtures.js'
import type { MetadataHarness } from './harness.js'

const DAY = 86_400_000
const future = () => Date.now() + 30 * DAY
const past = () => Date.now() - DAY

export function runLockContract(harness: () => MetadataHarness): void {
  const store = () => harness().store
  const lockBucket = async (name: string) => {
    await store().createBucket(bucketRecord(name))
    await store().putBucket(bucketRecord(name, { versioning: 'Enabled', objectLock: { enabled: true } }))
  }
  const stored = async (rec: ObjectRecord): Promise<ObjectRecord> => {
    const got = await store().getVersion(rec.bucket, rec.key, rec.versionId)
    if (!got || got.deleteMarker) throw new Error('expected the version')
    return got
  }

  describe('object lock', () => {
    it('a version under COMPLIANCE retention cannot be deleted by id, not even with the bypass; an expired one can', async () => {
      await lockBucket('lk')
      const held = objectRecord('lk', 'k', { retention: { mode: 'COMPLIANCE', retainUntil: future() } })
      const expired = objectRecord('lk', 'k', { retention: { mode: 'COMPLIANCE', retainUntil: past() } })
      await store().commitObject(held)
      await store().commitObject(expired)
      await expect(store().deleteObject('lk', 'k', { versionId: held.versionId })).rejects.toBeInstanceOf(
        ObjectLockedError,
      )
      await expect(
        store().deleteObject('lk', 'k', { versionId: held.versionId, bypassGovernance: true }),
      ).rejects.toMatchObject({ hold: 'COMPLIANCE' })
      expect(await store().getVersion('lk', 'k', held.versionId)).toMatchObject({ etag: held.etag })
      const r = await store().deleteObject('lk', 'k', { versionId: expired.versionId })
      expect(r.removed?.versionId).toBe(expired.versionId)
    })

    it('GOVERNANCE retention yields only to the bypass', async () => {
      await lockBucket('lk')
      const rec = objectRecord('lk', 'g', { retention: { mode: 'GOVERNANCE', retainUntil: future() } })
      await store().commitObject(rec)
      await expect(store().deleteObject('lk', 'g', { versionId: rec.versionId })).rejects.toMatchObject({
        hold: 'GOVERNANCE',
      })
      const r = await store().deleteObject('lk', 'g', { versionId: rec.versionId, bypassGovernance: true })
      expect(r.removed?.versionId).toBe(rec.versionId)
      expect(r.garbage).toEqual(rec.parts.map((p) => p.blobId))
    })

    it('a legal hold holds against the bypass until it is lifted (an in-place change), then the delete goes through', async () => {
      await lockBucket('lk')
      const rec = objectRecord('lk', 'h', { legalHold: true })
      await store().commitObject(rec)
      await expect(
        store().deleteObject('lk', 'h', { versionId: rec.versionId, bypassGovernance: true }),
      ).rejects.toMatchObject({ hold: 'legal-hold' })
      const cur = await stored(rec)
      const { legalHold: _l, ...lifted } = cur
      await store().commitObject(lifted, { expect: { record: cur } })
      expect(((await stored(rec)) as ObjectRecord).legalHold).toBeUndefined()
      await store().deleteObject('lk', 'h', { versionId: rec.versionId })
      expect(await store().getVersion('lk', 'h', rec.versionId)).toBeUndefined()
    })

    it('a delete without version id only adds a marker, and the marker itself can be deleted by id', async () => {
      await lockBucket('lk')
      const rec = objectRecord('lk', 'm', { legalHold: true, retention: { mode: 'COMPLIANCE', retainUntil: future() } })
      await store().commitObject(rec)
      const { marker } = await store().deleteObject('lk', 'm')
      expect(marker?.deleteMarker).toBe(true)
      await store().deleteObject('lk', 'm', { versionId: marker!.versionId })
      expect(await store().getObject('lk', 'm')).toMatchObject({ versionId: rec.versionId })
    })

    it('a legal hold set by an in-place change is seen by a delete racing it: the version is never removed once the hold is stored', async () => {
      await lockBucket('lk')
      for (let round = 0; round < 20; round++) {
        const rec = objectRecord('lk', `race${round}`)
        await store().commitObject(rec)
        const cur = await stored(rec)
        const [hold, del] = await Promise.allSettled([
          store().commitObject({ ...cur, legalHold: true }, { expect: { record: cur } }),
          store().deleteObject('lk', rec.key, { versionId: rec.versionId }),
        ])
        const after = await store().getVersion('lk', rec.key, rec.versionId)
        if (hold.status === 'fulfilled') {
          // The hold was stored: the delete either ran before it (then the hold's commit would have
          // found nothing) or was refused.
          expect(del.status).toBe('rejected')
          expect(after).toMatchObject({ legalHold: true })
        } else {
          expect(del.status).toBe('fulfilled')
          expect(after).toBeUndefined()
        }
      }
    })

    it('running retention cannot be weakened in place: COMPLIANCE only extended, GOVERNANCE shortened only with the bypass', async () => {
      await lockBucket('lk')
      const until = future()
      const c = objectRecord('lk', 'c', { retention: { mode: 'COMPLIANCE', retainUntil: until } })
      await store().commitObject(c)
      let cur = await stored(c)
      for (const retention of [
        undefined,
        { mode: 'COMPLIANCE' as const, retainUntil: until - 1 },
        { mode: 'GOVERNANCE' as const, retainUntil: until + DAY },
      ]) {
        await expect(
          store().commitObject({ ...cur, retention }, { expect: { record: cur, bypassGovernance: true } }),
        ).rejects.toBeInstanceOf(ObjectLockedError)
      }
      await store().commitObject(
        { ...cur, retention: { mode: 'COMPLIANCE', retainUntil: until + DAY } },
        { expect: { record: cur } },
      )
      expect((await stored(c)).retention?.retainUntil).toBe(until + DAY)

      const g = objectRecord('lk', 'g', { retention: { mode: 'GOVERNANCE', retainUntil: until } })
      await store().commitObject(g)
      cur = await stored(g)
      await expect(
        store().commitObject(
          { ...cur, retention: { mode: 'GOVERNANCE', retainUntil: until - DAY } },
          { expect: { record: cur } },
        ),
      ).rejects.toMatchObject({ hold: 'GOVERNANCE' })
      await store().commitObject(
        { ...cur, retention: { mode: 'COMPLIANCE', retainUntil: until } },
        { expect: { record: cur } },
      )
      cur = await stored(g)
      const g2 = objectRecord('lk', 'g2', { retention: { mode: 'GOVERNANCE', retainUntil: until } })
      await store().commitObject(g2)
      const cur2 = await stored(g2)
      const { retention: _r, ...cleared } = cur2
      await store().commitObject(cleared, { expect: { record: cur2, bypassGovernance: true } })
      expect((await stored(g2)).retention).toBeUndefined()
    })

    it('a locked version keeps its data in place: only a change that keeps ETag, size and blobs (a key rewrap) is allowed', async () => {
      await lockBucket('lk')
      const rec = objectRecord('lk', 'd', { legalHold: true })
      await store().commitObject(rec)
      const cur = await stored(rec)
      await expect(
        store().commitObject({ ...cur, etag: 'other', size: 1 }, { expect: { record: cur } }),
      ).rejects.toBeInstanceOf(ObjectLockedError)
      await expect(
        store().commitObject(
          { ...objectRecord('lk', 'd', { legalHold: true }), versionId: rec.versionId },
          { expect: { record: cur, bypassGovernance: true } },
        ),
      ).rejects.toBeInstanceOf(ObjectLockedError)
      await store().commitObject(
        { ...cur, encryption: { ...cur.encryption }, storageClass: 'GLACIER' },
        { expect: { record: cur } },
      )
      expect(await stored(rec)).toMatchObject({ storageClass: 'GLACIER', legalHold: true })
    })
  })
}
