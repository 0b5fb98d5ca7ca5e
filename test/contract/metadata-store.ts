/**
 * @module The MetadataStore contract: one suite every implementation runs (Hono's shared-suite
 * pattern). Buckets, conditional commits, garbage, multipart, concurrency, durability; listing
 * lives in metadata-listing.ts and is run from here.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConflictError, NotFoundError } from '../../storage/errors.js'
import type { MetadataStore } from '../../storage/types.js'
import { blobId, bucketRecord, completedObject, objectRecord, uploadPart, uploadRecord } from './fixtures.js'
import type { MetadataContractOptions, MetadataHarness } from './harness.js'
import { runListingContract } from './metadata-listing.js'
import { runVersionsContract } from './metadata-versions.js'
import { runLockContract } from './metadata-lock.js'

export type { MetadataContractOptions, MetadataHarness } from './harness.js'

/** Registers the whole MetadataStore contract for one implementation. */
export function runMetadataStoreContract(opts: MetadataContractOptions): void {
  describe(`MetadataStore contract: ${opts.name}`, () => {
    let h: MetadataHarness
    let store: MetadataStore
    beforeEach(async () => {
      h = await opts.create()
      store = h.store
      await store.createBucket(bucketRecord('bkt'))
    })
    afterEach(async () => {
      await h.cleanup()
    })
    const harness = () => h

    describe('buckets', () => {
      it('createBucket creates once and answers the existing record afterwards', async () => {
        expect(await store.createBucket(bucketRecord('new', { region: 'eu-west-1' }))).toEqual({ created: true })
        const again = await store.createBucket(bucketRecord('new', { region: 'us-east-1' }))
        expect(again).toEqual({ created: false, existing: bucketRecord('new', { region: 'eu-west-1' }) })
        expect((await store.getBucket('new'))?.region).toBe('eu-west-1')
      })

      it('concurrent createBucket of one name creates it exactly once', async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.createBucket(bucketRecord('race', { ownerAccountId: String(i) }))),
        )
        expect(results.filter((r) => r.created)).toHaveLength(1)
      })

      it('listBuckets answers every bucket in UTF-8 byte order', async () => {
        for (const name of ['b', 'a-1', 'zz', 'a']) await store.createBucket(bucketRecord(name))
        expect((await store.listBuckets()).map((b) => b.name)).toEqual(['a', 'a-1', 'b', 'bkt', 'zz'])
      })

      it('putBucket replaces an existing bucket and refuses a missing one with NotFoundError', async () => {
        await store.putBucket(bucketRecord('bkt', { policy: '{}' }))
        expect((await store.getBucket('bkt'))?.policy).toBe('{}')
        await expect(store.putBucket(bucketRecord('nope'))).rejects.toMatchObject({
          name: 'NotFoundError',
          kind: 'bucket',
        })
      })

      it('deleteBucket of a non-empty bucket throws ConflictError bucket-not-empty', async () => {
        await store.commitObject(objectRecord('bkt', 'k'))
        const err = await store.deleteBucket('bkt').catch((e) => e)
        expect(err).toBeInstanceOf(ConflictError)
        expect(err).toMatchObject({ kind: 'bucket-not-empty', what: 'bkt' })
        expect(await store.getBucket('bkt')).toBeDefined()
        await store.deleteObject('bkt', 'k')
        expect(await store.deleteBucket('bkt')).toEqual({ garbage: [] })
        expect(await store.getBucket('bkt')).toBeUndefined()
      })

      it('deleteBucket of a missing bucket throws NotFoundError', async () => {
        await expect(store.deleteBucket('nope')).rejects.toBeInstanceOf(NotFoundError)
      })

      it('deleteBucket discards its uploads and parts and returns their blobs as garbage', async () => {
        const blobs = [blobId(), blobId(), blobId()]
        await store.createUpload(uploadRecord('bkt', 'k1', 'up1'))
        await store.createUpload(uploadRecord('bkt', 'k2', 'up2'))
        await store.putPart(uploadPart('up1', 1, blobs[0]))
        await store.putPart(uploadPart('up1', 2, blobs[1]))
        await store.putPart(uploadPart('up2', 1, blobs[2]))
        const { garbage } = await store.deleteBucket('bkt')
        expect([...garbage].sort()).toEqual([...blobs].sort())
        expect(await store.getUpload('bkt', 'k1', 'up1')).toBeUndefined()
        await expect(store.getParts('up1')).rejects.toBeInstanceOf(NotFoundError)
        expect(await collectIds(store)).toEqual([])
        // A bucket of the same name starts empty.
        await store.createBucket(bucketRecord('bkt'))
        expect((await store.listUploads('bkt', { limit: 10 })).entries).toEqual([])
      })

      it('deleteBucket racing commits never leaves an object in a deleted bucket', async () => {
        for (const deleteFirst of [false, true]) {
          const name = `race-${deleteFirst}`
          await store.createBucket(bucketRecord(name))
          const start = () => Array.from({ length: 20 }, (_, i) => store.commitObject(objectRecord(name, `k${i}`)))
          let commits: Array<Promise<unknown>> = []
          let deleted: Promise<unknown>
          if (deleteFirst) {
            deleted = store.deleteBucket(name)
            commits = start()
          } else {
            commits = start()
            deleted = store.deleteBucket(name)
          }
          const [del, ...settled] = await Promise.allSettled([deleted, ...commits])
          const committed = settled.filter((s) => s.status === 'fulfilled').length
          if (del.status === 'fulfilled') {
            expect(committed).toBe(0)
            for (const s of settled)
              expect((s as PromiseRejectedResult).reason).toMatchObject({ name: 'NotFoundError', kind: 'bucket' })
            expect(await store.getBucket(name)).toBeUndefined()
          } else {
            expect(del.reason).toBeInstanceOf(ConflictError)
            expect(committed).toBeGreaterThan(0)
          }
          expect((await store.listObjects(name, { limit: 100 })).entries).toHaveLength(committed)
        }
      })
    })

    describe('objects', () => {
      it('commitObject into a missing bucket throws NotFoundError bucket', async () => {
        await expect(store.commitObject(objectRecord('nope', 'k'))).rejects.toMatchObject({
          name: 'NotFoundError',
          kind: 'bucket',
        })
      })

      it('commitObject of a new key replaces nothing and returns no garbage', async () => {
        const rec = objectRecord('bkt', 'k')
        expect(await store.commitObject(rec)).toEqual({ replaced: undefined, garbage: [], version: rec })
        expect(await store.getObject('bkt', 'k')).toEqual(rec)
        expect(await store.getObject('bkt', 'other')).toBeUndefined()
      })

      it('commitObject replacing an object returns it and its blobs as garbage', async () => {
        const old = objectRecord('bkt', 'k', { blobs: [blobId(), blobId()] })
        await store.commitObject(old)
        const next = objectRecord('bkt', 'k')
        const result = await store.commitObject(next)
        expect(result.replaced).toEqual(old)
        expect([...result.garbage].sort()).toEqual(old.parts.map((p) => p.blobId).sort())
        expect(await store.getObject('bkt', 'k')).toEqual(next)
      })

      it('commitObject that keeps the same blobs (metadata rewrite) returns no garbage', async () => {
        const old = objectRecord('bkt', 'k')
        await store.commitObject(old)
        const result = await store.commitObject({ ...old, contentType: 'text/plain' })
        expect(result.garbage).toEqual([])
      })

      it('expect.absent (If-None-Match: *) fails with ConflictError precondition when the key exists', async () => {
        await store.commitObject(objectRecord('bkt', 'k'), { expect: { absent: true } })
        const loser = objectRecord('bkt', 'k')
        await expect(store.commitObject(loser, { expect: { absent: true } })).rejects.toMatchObject({
          name: 'ConflictError',
          kind: 'precondition',
        })
        expect((await store.getObject('bkt', 'k'))?.etag).not.toBe(loser.etag)
      })

      it('expect.etag (If-Match) commits on a match and fails with ConflictError on a mismatch', async () => {
        const first = objectRecord('bkt', 'k')
        await store.commitObject(first)
        const second = objectRecord('bkt', 'k')
        await expect(store.commitObject(second, { expect: { etag: 'other' } })).rejects.toBeInstanceOf(ConflictError)
        const result = await store.commitObject(second, { expect: { etag: first.etag } })
        expect(result.replaced).toEqual(first)
        expect(await store.getObject('bkt', 'k')).toEqual(second)
      })

      it('If-Match on a missing key throws NotFoundError object', async () => {
        await expect(store.commitObject(objectRecord('bkt', 'k'), { expect: { etag: 'x' } })).rejects.toMatchObject({
          name: 'NotFoundError',
          kind: 'object',
          what: 'k',
        })
        expect(await store.getObject('bkt', 'k')).toBeUndefined()
      })

      it('deleteObject returns the removed blobs; a missing key is not an error', async () => {
        const rec = objectRecord('bkt', 'k', { blobs: [blobId(), blobId()] })
        await store.commitObject(rec)
        expect(await store.deleteObject('bkt', 'k')).toEqual({
          removed: rec,
          marker: undefined,
          garbage: rec.parts.map((p) => p.blobId),
        })
        expect(await store.getObject('bkt', 'k')).toBeUndefined()
        expect(await store.deleteObject('bkt', 'k')).toEqual({ removed: undefined, marker: undefined, garbage: [] })
      })

      it('deleteObject with If-Match checks the ETag', async () => {
        const rec = objectRecord('bkt', 'k')
        await store.commitObject(rec)
        await expect(store.deleteObject('bkt', 'k', { etag: 'nope' })).rejects.toBeInstanceOf(ConflictError)
        await store.deleteObject('bkt', 'k', { etag: rec.etag })
        await expect(store.deleteObject('bkt', 'k', { etag: rec.etag })).rejects.toBeInstanceOf(NotFoundError)
      })

      it('100 concurrent conditional commits of an absent key: exactly one wins', async () => {
        const recs = Array.from({ length: 100 }, () => objectRecord('bkt', 'race'))
        const settled = await Promise.allSettled(recs.map((r) => store.commitObject(r, { expect: { absent: true } })))
        const winners = settled.flatMap((s, i) => (s.status === 'fulfilled' ? [i] : []))
        expect(winners).toHaveLength(1)
        for (const s of settled)
          if (s.status === 'rejected') expect(s.reason).toMatchObject({ name: 'ConflictError', kind: 'precondition' })
        expect(await store.getObject('bkt', 'race')).toEqual(recs[winners[0]])
      })

      it('concurrent If-Match commits against one ETag: exactly one wins', async () => {
        const base = objectRecord('bkt', 'k')
        await store.commitObject(base)
        const settled = await Promise.allSettled(
          Array.from({ length: 30 }, () =>
            store.commitObject(objectRecord('bkt', 'k'), { expect: { etag: base.etag } }),
          ),
        )
        expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1)
      })

      it('keys are stored exactly: unicode, control characters, // and ../ are distinct keys', async () => {
        const keys = [
          'a',
          'a/',
          'a//b',
          '../x',
          './x',
          'a\u0001',
          'é',
          'e\u0301',
          '\u{1F600}',
          '\uFFFF',
          ' ',
          'a b',
          'a+b',
        ]
        for (const key of keys) await store.commitObject(objectRecord('bkt', key, { etag: `e-${key}` }))
        for (const key of keys) expect((await store.getObject('bkt', key))?.etag).toBe(`e-${key}`)
      })

      it('a key with a lone surrogate is refused (it cannot be stored as UTF-8)', async () => {
        await expect(store.commitObject(objectRecord('bkt', 'a\uD800'))).rejects.toBeInstanceOf(TypeError)
      })
    })

    describe('multipart', () => {
      it('createUpload into a missing bucket throws NotFoundError bucket', async () => {
        await expect(store.createUpload(uploadRecord('nope', 'k', 'u1'))).rejects.toMatchObject({ kind: 'bucket' })
      })

      it('putPart for an unknown upload throws NotFoundError upload', async () => {
        await expect(store.putPart(uploadPart('nope', 1))).rejects.toMatchObject({
          name: 'NotFoundError',
          kind: 'upload',
        })
      })

      it('putPart replacing a part returns the old blob as garbage', async () => {
        await store.createUpload(uploadRecord('bkt', 'k', 'u1'))
        const first = uploadPart('u1', 1)
        expect(await store.putPart(first)).toEqual({ garbage: [] })
        const second = uploadPart('u1', 1)
        expect(await store.putPart(second)).toEqual({ garbage: [first.blobId] })
        expect(await store.putPart(second)).toEqual({ garbage: [] })
        expect(await store.getParts('u1')).toEqual([second])
      })

      it('getParts answers ascending; listParts pages with after/limit', async () => {
        await store.createUpload(uploadRecord('bkt', 'k', 'u1'))
        for (const n of [10000, 3, 1, 20, 2]) await store.putPart(uploadPart('u1', n))
        expect((await store.getParts('u1')).map((p) => p.partNumber)).toEqual([1, 2, 3, 20, 10000])
        const page1 = await store.listParts('u1', { limit: 2 })
        expect(page1.parts.map((p) => p.partNumber)).toEqual([1, 2])
        expect(page1.isTruncated).toBe(true)
        const page2 = await store.listParts('u1', { after: 2, limit: 3 })
        expect(page2).toMatchObject({ isTruncated: false })
        expect(page2.parts.map((p) => p.partNumber)).toEqual([3, 20, 10000])
        expect(await store.listParts('u1', { after: 10000, limit: 5 })).toEqual({ parts: [], isTruncated: false })
        await expect(store.listParts('nope', { limit: 5 })).rejects.toBeInstanceOf(NotFoundError)
      })

      it('putPart refuses part numbers outside 1..10000', async () => {
        await store.createUpload(uploadRecord('bkt', 'k', 'u1'))
        await expect(store.putPart(uploadPart('u1', 0))).rejects.toBeInstanceOf(RangeError)
        await expect(store.putPart(uploadPart('u1', 10001))).rejects.toBeInstanceOf(RangeError)
      })

      it('completeUpload removes the upload and returns omitted parts and the replaced object as garbage', async () => {
        const old = objectRecord('bkt', 'k')
        await store.commitObject(old)
        await store.createUpload(uploadRecord('bkt', 'k', 'u1'))
        const parts = [1, 2, 3].map((n) => uploadPart('u1', n))
        for (const p of parts) await store.putPart(p)
        const rec = completedObject('bkt', 'k', [parts[0], parts[2]])
        const result = await store.commitObject(rec, { completeUpload: 'u1' })
        expect(result.replaced).toEqual(old)
        expect([...result.garbage].sort()).toEqual([old.parts[0].blobId, parts[1].blobId].sort())
        expect(await store.getUpload('bkt', 'k', 'u1')).toBeUndefined()
        await expect(store.getParts('u1')).rejects.toBeInstanceOf(NotFoundError)
        await expect(store.putPart(uploadPart('u1', 4))).rejects.toMatchObject({ kind: 'upload' })
        expect((await store.listUploads('bkt', { limit: 10 })).entries).toEqual([])
        expect(await store.getObject('bkt', 'k')).toEqual(rec)
      })

      it('completeUpload of an unknown upload, or of another key, throws NotFoundError upload and commits nothing', async () => {
        await store.createUpload(uploadRecord('bkt', 'k', 'u1'))
        await expect(store.commitObject(objectRecord('bkt', 'k'), { completeUpload: 'nope' })).rejects.toMatchObject({
          kind: 'upload',
        })
        await expect(store.commitObject(objectRecord('bkt', 'other'), { completeUpload: 'u1' })).rejects.toMatchObject({
          kind: 'upload',
        })
        expect(await store.getObject('bkt', 'k')).toBeUndefined()
        expect(await store.getObject('bkt', 'other')).toBeUndefined()
        expect(await store.getUpload('bkt', 'k', 'u1')).toBeDefined()
      })

      it('completeUpload with a failing expectation keeps the upload', async () => {
        await store.commitObject(objectRecord('bkt', 'k'))
        await store.createUpload(uploadRecord('bkt', 'k', 'u1'))
        const part = uploadPart('u1', 1)
        await store.putPart(part)
        await expect(
          store.commitObject(completedObject('bkt', 'k', [part]), { completeUpload: 'u1', expect: { absent: true } }),
        ).rejects.toMatchObject({ name: 'ConflictError', kind: 'precondition' })
        expect(await store.getParts('u1')).toHaveLength(1)
      })

      it('abortUpload removes the upload and returns its blobs; an unknown upload is NotFoundError', async () => {
        await store.createUpload(uploadRecord('bkt', 'k', 'u1'))
        const parts = [uploadPart('u1', 1), uploadPart('u1', 2)]
        for (const p of parts) await store.putPart(p)
        const { garbage } = await store.abortUpload('bkt', 'k', 'u1')
        expect([...garbage].sort()).toEqual(parts.map((p) => p.blobId).sort())
        expect(await store.getUpload('bkt', 'k', 'u1')).toBeUndefined()
        await expect(store.abortUpload('bkt', 'k', 'u1')).rejects.toMatchObject({
          name: 'NotFoundError',
          kind: 'upload',
        })
      })

      it('concurrent putPart and completeUpload: no part survives outside an upload', async () => {
        await store.createUpload(uploadRecord('bkt', 'k', 'u1'))
        const first = uploadPart('u1', 1)
        await store.putPart(first)
        const puts = Array.from({ length: 10 }, (_, i) => store.putPart(uploadPart('u1', i + 2)))
        const complete = store.commitObject(completedObject('bkt', 'k', [first]), { completeUpload: 'u1' })
        await Promise.allSettled([...puts, complete])
        await complete
        const ids = new Set(await collectIds(store))
        expect(ids.size).toBe(1)
      })
    })

    describe('completing over the parts read', () => {
      it('a part re-uploaded after the parts were read fails the Complete with ConflictError concurrent-change and changes nothing', async () => {
        await store.createUpload(uploadRecord('bkt', 'k', 'u1'))
        const a = uploadPart('u1', 1)
        await store.putPart(a)
        const read = await store.getParts('u1')
        const b = uploadPart('u1', 1)
        expect(await store.putPart(b)).toEqual({ garbage: [a.blobId] })
        await expect(
          store.commitObject(completedObject('bkt', 'k', read), { completeUpload: 'u1' }),
        ).rejects.toMatchObject({ name: 'ConflictError', kind: 'concurrent-change' })
        expect(await store.getObject('bkt', 'k')).toBeUndefined()
        expect(await store.getParts('u1')).toEqual([b])
        // A retry over the parts as they are now commits the re-uploaded blob and never names it garbage.
        const rec = completedObject('bkt', 'k', await store.getParts('u1'))
        expect(await store.commitObject(rec, { completeUpload: 'u1' })).toEqual({
          replaced: undefined,
          garbage: [],
          version: rec,
        })
        expect((await store.getObject('bkt', 'k'))?.parts.map((p) => p.blobId)).toEqual([b.blobId])
      })

      it('a part the Complete omits may change meanwhile: the commit succeeds and the part is garbage', async () => {
        await store.createUpload(uploadRecord('bkt', 'k', 'u1'))
        const [p1, p2] = [uploadPart('u1', 1), uploadPart('u1', 2)]
        for (const p of [p1, p2]) await store.putPart(p)
        const read = await store.getParts('u1')
        const p2b = uploadPart('u1', 2)
        await store.putPart(p2b)
        const result = await store.commitObject(completedObject('bkt', 'k', read.slice(0, 1)), { completeUpload: 'u1' })
        expect(result.garbage).toEqual([p2b.blobId])
      })

      it('Complete racing a re-upload of its part: exactly one wins, and no garbage blob is one the committed object references', async () => {
        for (let round = 0; round < 20; round++) {
          const uploadId = `race${round}`
          await store.createUpload(uploadRecord('bkt', `k${round}`, uploadId))
          const a = uploadPart(uploadId, 1)
          await store.putPart(a)
          const rec = completedObject('bkt', `k${round}`, await store.getParts(uploadId))
          const b = uploadPart(uploadId, 1)
          // Started in both orders; each store then interleaves them as its locks allow.
          let complete: Promise<{ garbage: string[] }>
          let reupload: Promise<{ garbage: string[] }>
          if (round % 2 === 0) {
            complete = store.commitObject(rec, { completeUpload: uploadId })
            reupload = store.putPart(b)
          } else {
            reupload = store.putPart(b)
            complete = store.commitObject(rec, { completeUpload: uploadId })
          }
          const [committed, replaced] = await Promise.allSettled([complete, reupload])
          const garbage = [committed, replaced].flatMap((s) => (s.status === 'fulfilled' ? s.value.garbage : []))
          const object = await store.getObject('bkt', `k${round}`)
          if (committed.status === 'fulfilled') {
            expect(replaced).toMatchObject({ status: 'rejected', reason: { name: 'NotFoundError', kind: 'upload' } })
            expect(object?.parts.map((p) => p.blobId)).toEqual([a.blobId])
          } else {
            expect(committed.reason).toMatchObject({ name: 'ConflictError', kind: 'concurrent-change' })
            expect(replaced.status).toBe('fulfilled')
            expect(object).toBeUndefined()
            expect(await store.getParts(uploadId)).toEqual([b])
          }
          for (const part of object?.parts ?? []) expect(garbage).not.toContain(part.blobId)
        }
      })
    })

    describe('bucket compare-and-swap', () => {
      it('putBucket with expect writes while the stored record is the expected one, else ConflictError concurrent-change', async () => {
        const read = (await store.getBucket('bkt'))!
        await store.putBucket({ ...read, policy: '{"v":1}' }, { expect: read })
        await expect(store.putBucket({ ...read, policy: '{"v":2}' }, { expect: read })).rejects.toMatchObject({
          name: 'ConflictError',
          kind: 'concurrent-change',
          what: 'bkt',
        })
        expect((await store.getBucket('bkt'))?.policy).toBe('{"v":1}')
        await expect(store.putBucket(bucketRecord('nope'), { expect: bucketRecord('nope') })).rejects.toMatchObject({
          name: 'NotFoundError',
          kind: 'bucket',
        })
      })

      it('putBucket compares records field by field: key order and absent-versus-undefined members do not matter', async () => {
        const read = (await store.getBucket('bkt'))!
        const reordered = Object.fromEntries(
          Object.entries({ ...read, policy: undefined }).reverse(),
        ) as unknown as typeof read
        await store.putBucket(
          { ...read, encryption: { sseAlgorithm: 'aws:kms', bucketKeyEnabled: true } },
          { expect: reordered },
        )
        const next = (await store.getBucket('bkt'))!
        const encryption = { bucketKeyEnabled: true, sseAlgorithm: 'aws:kms' as const }
        await store.putBucket({ ...next, blockedEncryptionTypes: ['SSE-C'] }, { expect: { ...next, encryption } })
        expect(await store.getBucket('bkt')).toMatchObject({ blockedEncryptionTypes: ['SSE-C'], encryption })
      })

      it('concurrent read-change-CAS loops lose no change (and getBucket reads every write back)', async () => {
        const writers = 12
        const add = async (id: number) => {
          for (;;) {
            const read = (await store.getBucket('bkt'))!
            const ids = [...(JSON.parse(read.policy ?? '[]') as number[]), id]
            try {
              return await store.putBucket({ ...read, policy: JSON.stringify(ids) }, { expect: read })
            } catch (err) {
              if (!(err instanceof ConflictError && err.kind === 'concurrent-change')) throw err
            }
          }
        }
        await Promise.all(Array.from({ length: writers }, (_, i) => add(i)))
        const ids = JSON.parse((await store.getBucket('bkt'))!.policy!) as number[]
        expect([...ids].sort((x, y) => x - y)).toEqual(Array.from({ length: writers }, (_, i) => i))
      })
    })

    describe('referencedBlobs', () => {
      it('yields the blobs of every object and every upload part', async () => {
        const obj = objectRecord('bkt', 'k', { blobs: [blobId(), blobId()] })
        await store.commitObject(obj)
        await store.createBucket(bucketRecord('other'))
        const obj2 = objectRecord('other', 'k')
        await store.commitObject(obj2)
        await store.createUpload(uploadRecord('bkt', 'k', 'u1'))
        const part = uploadPart('u1', 1)
        await store.putPart(part)
        const expected = [...obj.parts, ...obj2.parts].map((p) => p.blobId).concat(part.blobId)
        expect((await collectIds(store)).sort()).toEqual(expected.sort())
      })
    })

    describe('admin scans', () => {
      it('allObjects and allUploads yield every record of every bucket, bucket by bucket', async () => {
        await store.createBucket(bucketRecord('a-other'))
        for (const [b, k] of [
          ['bkt', 'z'],
          ['bkt', 'a'],
          ['a-other', 'm'],
        ])
          await store.commitObject(objectRecord(b, k))
        await store.createUpload(uploadRecord('bkt', 'k', 'u1'))
        await store.createUpload(uploadRecord('a-other', 'k', 'u2'))
        const objects: string[] = []
        for await (const o of store.allObjects()) objects.push(`${o.bucket}/${o.key}`)
        expect(objects).toEqual(['a-other/m', 'bkt/a', 'bkt/z'])
        const uploads: string[] = []
        for await (const u of store.allUploads()) uploads.push(u.uploadId)
        expect(uploads).toEqual(['u2', 'u1'])
      })

      it('replaceUploadEncryption replaces only while the record is still the expected one', async () => {
        const up = uploadRecord('bkt', 'k', 'u1')
        await store.createUpload(up)
        const enc = up.encryption
        if (enc.mode !== 'SSE-S3') throw new Error('the upload fixture is SSE-S3')
        const next = { ...enc, rootKeyVersion: 2 }
        expect(await store.replaceUploadEncryption({ ...up, encryption: next }, up.encryption)).toBe(true)
        expect((await store.getUpload('bkt', 'k', 'u1'))?.encryption).toEqual(next)
        expect(await store.replaceUploadEncryption({ ...up, encryption: next }, up.encryption)).toBe(false)
        await store.abortUpload('bkt', 'k', 'u1')
        expect(await store.replaceUploadEncryption({ ...up, encryption: up.encryption }, next)).toBe(false)
      })
    })

    describe('durability', () => {
      it.skipIf(opts.skip?.durability !== undefined)(
        `records survive close and reopen${opts.skip?.durability ? ` (skipped: ${opts.skip.durability})` : ''}`,
        async () => {
          const obj = objectRecord('bkt', 'k/é')
          await store.commitObject(obj)
          await store.createUpload(uploadRecord('bkt', 'k', 'u1'))
          const part = uploadPart('u1', 7)
          await store.putPart(part)
          store = await h.reopen!()
          expect(await store.getBucket('bkt')).toEqual(bucketRecord('bkt'))
          expect(await store.getObject('bkt', 'k/é')).toEqual(obj)
          expect(await store.getParts('u1')).toEqual([part])
          expect((await store.listObjects('bkt', { limit: 10 })).entries).toHaveLength(1)
        },
      )
    })

    runListingContract(opts, harness)
    runVersionsContract(harness)
    runLockContract(harness)
  })
}

async function collectIds(store: MetadataStore): Promise<string[]> {
  const ids: string[] = []
  for await (const id of store.referencedBlobs()) ids.push(id)
  return ids
}
