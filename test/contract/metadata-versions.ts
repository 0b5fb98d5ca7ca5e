/**
 * @module The versions part of the MetadataStore contract: ordering newest first, delete markers,
 * the null version under Suspended, current-only ListObjects, ListObjectVersions with markers
 * and skip-ahead, concurrent commits to one key.
 */
import { describe, expect, it } from 'vitest'
import type { MetadataStore, VersionListEntry, VersionListQuery } from '../../storage/types.js'
import { externalVersionId } from '../../storage/versions.js'
import { bucketRecord, objectRecord } from './fixtures.js'
import type { MetadataHarness } from './harness.js'

/** A version-id string per entry: `key@id` (`*` when latest, `M` for a marker) or `p:<prefix>`. */
function flat(entries: VersionListEntry[]): string[] {
  return entries.map((e) =>
    e.kind === 'prefix'
      ? `p:${e.prefix}`
      : `${e.record.key}@${externalVersionId(e.record)}${e.isLatest ? '*' : ''}${e.record.deleteMarker ? 'M' : ''}`,
  )
}

/** Every page of ListObjectVersions, following the next markers. */
async function allPages(
  store: MetadataStore,
  bucket: string,
  q: Omit<VersionListQuery, 'limit'>,
  limit: number,
): Promise<{ entries: string[]; pages: number }> {
  const out: string[] = []
  let keyMarker: string | undefined
  let versionIdMarker: string | undefined
  for (let page = 1; page <= 10_000; page++) {
    const r = await store.listObjectVersions(bucket, { ...q, keyMarker, versionIdMarker, limit })
    out.push(...flat(r.entries))
    if (!r.isTruncated) return { entries: out, pages: page }
    keyMarker = r.nextKeyMarker
    versionIdMarker = r.nextVersionIdMarker
  }
  throw new Error('listing did not end')
}

export function runVersionsContract(harness: () => MetadataHarness): void {
  const store = () => harness().store
  const versioned = async (name: string, versioning: 'Enabled' | 'Suspended' = 'Enabled') => {
    await store().createBucket(bucketRecord(name))
    await store().putBucket(bucketRecord(name, { versioning }))
  }

  describe('versions', () => {
    it('a versioned bucket keeps every commit as a version, newest first; the current is the newest', async () => {
      await versioned('ver')
      const recs = [objectRecord('ver', 'k'), objectRecord('ver', 'k'), objectRecord('ver', 'k')]
      for (const r of recs) {
        const { garbage, version } = await store().commitObject(r)
        expect(garbage).toEqual([])
        expect(version.nullVersion).toBeUndefined()
      }
      expect((await store().getObject('ver', 'k'))?.versionId).toBe(recs[2].versionId)
      for (const r of recs) expect(await store().getVersion('ver', 'k', r.versionId)).toMatchObject({ etag: r.etag })
      const list = await store().listObjectVersions('ver', { limit: 1000 })
      expect(flat(list.entries)).toEqual([
        `k@${recs[2].versionId}*`,
        `k@${recs[1].versionId}`,
        `k@${recs[0].versionId}`,
      ])
      expect((await store().listObjects('ver', { limit: 1000 })).entries).toHaveLength(1)
    })

    it('a delete without version id adds a marker: the key is gone from GET and ListObjects, and back when the marker is deleted', async () => {
      await versioned('ver')
      const rec = objectRecord('ver', 'dir/k')
      await store().commitObject(rec)
      const del = await store().deleteObject('ver', 'dir/k')
      expect(del.garbage).toEqual([])
      expect(del.marker).toMatchObject({ deleteMarker: true, key: 'dir/k' })
      expect(await store().getObject('ver', 'dir/k')).toBeUndefined()
      expect(await store().getVersion('ver', 'dir/k')).toMatchObject({ deleteMarker: true })
      expect((await store().listObjects('ver', { limit: 10 })).entries).toEqual([])
      // A common prefix holding only deleted keys is not listed either.
      expect((await store().listObjects('ver', { delimiter: '/', limit: 10 })).entries).toEqual([])
      const list = await store().listObjectVersions('ver', { limit: 10 })
      expect(flat(list.entries)).toEqual([`dir/k@${del.marker!.versionId}*M`, `dir/k@${rec.versionId}`])
      const back = await store().deleteObject('ver', 'dir/k', { versionId: del.marker!.versionId })
      expect(back.removed).toMatchObject({ deleteMarker: true })
      expect((await store().getObject('ver', 'dir/k'))?.versionId).toBe(rec.versionId)
    })

    it('deleting a version by id removes it for good and returns its blobs; a missing or malformed id is no error', async () => {
      await versioned('ver')
      const a = objectRecord('ver', 'k')
      const b = objectRecord('ver', 'k')
      await store().commitObject(a)
      await store().commitObject(b)
      const del = await store().deleteObject('ver', 'k', { versionId: a.versionId })
      expect(del.garbage).toEqual(a.parts.map((p) => p.blobId))
      expect(await store().getVersion('ver', 'k', a.versionId)).toBeUndefined()
      expect(await store().deleteObject('ver', 'k', { versionId: a.versionId })).toMatchObject({
        removed: undefined,
        garbage: [],
      })
      expect(await store().deleteObject('ver', 'k', { versionId: 'not-an-id' })).toMatchObject({
        removed: undefined,
        garbage: [],
      })
      expect((await store().getObject('ver', 'k'))?.versionId).toBe(b.versionId)
    })

    it('Suspended: a commit replaces the null version (its blobs are garbage) and keeps the others', async () => {
      await store().createBucket(bucketRecord('sus'))
      const first = objectRecord('sus', 'k') // the null version, written while unversioned
      await store().commitObject(first)
      await store().putBucket(bucketRecord('sus', { versioning: 'Enabled' }))
      const kept = objectRecord('sus', 'k')
      await store().commitObject(kept)
      await store().putBucket(bucketRecord('sus', { versioning: 'Suspended' }))
      const second = objectRecord('sus', 'k', { nullVersion: undefined })
      const r = await store().commitObject(second)
      expect(r.version.nullVersion).toBe(true)
      expect(r.replaced?.versionId).toBe(first.versionId)
      expect(r.garbage).toEqual(first.parts.map((p) => p.blobId))
      expect((await store().getVersion('sus', 'k', 'null'))?.versionId).toBe(second.versionId)
      expect(flat((await store().listObjectVersions('sus', { limit: 10 })).entries)).toEqual([
        'k@null*',
        `k@${kept.versionId}`,
      ])
      // A delete adds the null marker, which replaces the null version.
      const del = await store().deleteObject('sus', 'k')
      expect(del.marker?.nullVersion).toBe(true)
      expect(del.garbage).toEqual(second.parts.map((p) => p.blobId))
      expect(flat((await store().listObjectVersions('sus', { limit: 10 })).entries)).toEqual([
        'k@null*M',
        `k@${kept.versionId}`,
      ])
    })

    it('unversioned: each commit replaces the null version, a delete removes it, no marker is made', async () => {
      const a = objectRecord('bkt', 'k')
      const b = objectRecord('bkt', 'k')
      await store().commitObject(a)
      expect((await store().commitObject(b)).garbage).toEqual(a.parts.map((p) => p.blobId))
      expect(flat((await store().listObjectVersions('bkt', { limit: 10 })).entries)).toEqual(['k@null*'])
      const del = await store().deleteObject('bkt', 'k')
      expect(del.marker).toBeUndefined()
      expect(del.garbage).toEqual(b.parts.map((p) => p.blobId))
      expect((await store().listObjectVersions('bkt', { limit: 10 })).entries).toEqual([])
    })

    it('a bucket holding only delete markers is not empty', async () => {
      await versioned('ver')
      await store().deleteObject('ver', 'k')
      await expect(store().deleteBucket('ver')).rejects.toMatchObject({ kind: 'bucket-not-empty' })
      const list = await store().listObjectVersions('ver', { limit: 10 })
      const marker = list.entries[0]
      if (marker.kind !== 'version') throw new Error('expected a version')
      await store().deleteObject('ver', 'k', { versionId: marker.record.versionId })
      await store().deleteBucket('ver')
    })

    it('ListObjectVersions pages by key-marker / version-id-marker to the same list, also through the null version', async () => {
      await versioned('ver', 'Suspended')
      await store().commitObject(objectRecord('ver', 'a'))
      await store().putBucket(bucketRecord('ver', { versioning: 'Enabled' }))
      for (const key of ['a', 'b/1', 'b/2', 'c', 'a']) await store().commitObject(objectRecord('ver', key))
      await store().deleteObject('ver', 'c')
      for (const key of ['b/1', 'a']) await store().commitObject(objectRecord('ver', key))
      const whole = await store().listObjectVersions('ver', { limit: 1000 })
      expect(whole.entries).toHaveLength(9)
      for (const limit of [1, 2, 3, 7]) {
        const paged = await allPages(store(), 'ver', {}, limit)
        expect(paged.entries).toEqual(flat(whole.entries))
        const grouped = await allPages(store(), 'ver', { delimiter: '/' }, limit)
        expect(grouped.entries).toEqual(
          flat(whole.entries)
            .filter((e) => !e.startsWith('b/'))
            .toSpliced(4, 0, 'p:b/'),
        )
      }
      expect(flat(whole.entries).filter((e) => e.endsWith('*') || e.endsWith('*M'))).toHaveLength(4)
      expect(flat(whole.entries)[3]).toBe('a@null')
    })

    it("skip-ahead: listing current objects and a delimiter listing of versions do not read past a key's or a prefix's versions", async () => {
      await versioned('ver')
      for (let i = 0; i < 200; i++) await store().commitObject(objectRecord('ver', 'busy'))
      for (let i = 0; i < 200; i++) await store().commitObject(objectRecord('ver', 'dir/x'))
      await store().commitObject(objectRecord('ver', 'z'))
      const before = harness().entriesRead()
      const current = await store().listObjects('ver', { limit: 1000 })
      expect(current.entries.map((e) => (e.kind === 'object' ? e.record.key : e.prefix))).toEqual([
        'busy',
        'dir/x',
        'z',
      ])
      const grouped = await store().listObjectVersions('ver', { delimiter: '/', prefix: 'd', limit: 1000 })
      expect(flat(grouped.entries)).toEqual(['p:dir/'])
      expect(harness().entriesRead() - before).toBeLessThan(40)
    })

    it('concurrent commits to one key: each makes exactly one version (versioned) or one wins (unversioned)', async () => {
      await versioned('ver')
      const recs = Array.from({ length: 50 }, () => objectRecord('ver', 'k'))
      await Promise.all(recs.map((r) => store().commitObject(r)))
      const list = await store().listObjectVersions('ver', { limit: 1000 })
      expect(list.entries).toHaveLength(50)
      expect(new Set(flat(list.entries)).size).toBe(50)
      const plain = Array.from({ length: 50 }, () => objectRecord('bkt', 'k'))
      const results = await Promise.all(plain.map((r) => store().commitObject(r)))
      const garbage = results.flatMap((r) => r.garbage)
      expect(new Set(garbage).size).toBe(49)
      expect((await store().listObjectVersions('bkt', { limit: 1000 })).entries).toHaveLength(1)
    })

    it('an in-place commit (expect.record) rewrites a noncurrent version where it is', async () => {
      await versioned('ver')
      const old = objectRecord('ver', 'k')
      await store().commitObject(old)
      await store().commitObject(objectRecord('ver', 'k'))
      const stored = await store().getVersion('ver', 'k', old.versionId)
      if (!stored || stored.deleteMarker) throw new Error('expected the old version')
      const r = await store().commitObject({ ...stored, storageClass: 'GLACIER' }, { expect: { record: stored } })
      expect(r.garbage).toEqual([])
      expect(await store().getVersion('ver', 'k', old.versionId)).toMatchObject({ storageClass: 'GLACIER' })
      expect((await store().listObjectVersions('ver', { limit: 10 })).entries).toHaveLength(2)
      await expect(
        store().commitObject({ ...stored, storageClass: 'STANDARD' }, { expect: { record: stored } }),
      ).rejects.toMatchObject({ kind: 'precondition' })
    })
  })
}
