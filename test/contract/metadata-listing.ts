/**
 * @module The listing part of the MetadataStore contract: UTF-8 byte order, delimiters, markers,
 * pagination (property-tested against a naive reference) and the seek-past-prefix skip-ahead.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ListQuery, MetadataStore, UploadListQuery } from '../../storage/types.js'
import { bucketRecord, byteOrder, objectRecord, uploadRecord } from './fixtures.js'
import type { MetadataContractOptions, MetadataHarness } from './harness.js'

type Flat = string // 'k:<key>' for an object/upload, 'p:<prefix>' for a common prefix

/** Naive ListObjects: sort everything, filter, group. The reference the stores are checked against. */
export function naiveListObjects(keys: string[], q: Omit<ListQuery, 'limit'>): Flat[] {
  const prefix = q.prefix ?? ''
  const out: Flat[] = []
  for (const key of [...new Set(keys)].sort(byteOrder)) {
    if (!key.startsWith(prefix) || (q.after !== undefined && byteOrder(key, q.after) <= 0)) continue
    const cut = q.delimiter ? key.indexOf(q.delimiter, prefix.length) : -1
    if (cut < 0) {
      out.push(`k:${key}`)
      continue
    }
    const cp = key.slice(0, cut + q.delimiter!.length)
    if (q.after !== undefined && byteOrder(cp, q.after) <= 0) continue
    if (out.at(-1) !== `p:${cp}`) out.push(`p:${cp}`)
  }
  return out
}

/** Naive ListMultipartUploads over (key, uploadId) pairs. */
export function naiveListUploads(uploads: Array<[string, string]>, q: Omit<UploadListQuery, 'limit'>): Flat[] {
  const prefix = q.prefix ?? ''
  const km = q.keyMarker
  const sorted = [...uploads].sort(([ka, ia], [kb, ib]) => byteOrder(ka, kb) || byteOrder(ia, ib))
  const out: Flat[] = []
  for (const [key, id] of sorted) {
    if (!key.startsWith(prefix)) continue
    if (km !== undefined) {
      const c = byteOrder(key, km)
      if (c < 0 || (c === 0 && (q.uploadIdMarker === undefined || byteOrder(id, q.uploadIdMarker) <= 0))) continue
    }
    const cut = q.delimiter ? key.indexOf(q.delimiter, prefix.length) : -1
    if (cut < 0) {
      out.push(`k:${key}\0${id}`)
      continue
    }
    const cp = key.slice(0, cut + q.delimiter!.length)
    if (km !== undefined && byteOrder(cp, km) <= 0) continue
    if (out.at(-1) !== `p:${cp}`) out.push(`p:${cp}`)
  }
  return out
}

async function pageObjects(
  store: MetadataStore,
  bucket: string,
  q: ListQuery,
): Promise<{ flat: Flat[]; pages: number }> {
  const flat: Flat[] = []
  let after = q.after
  for (let pages = 1; ; pages++) {
    // A store that repeats an entry would page forever: no listing here needs more pages than this.
    if (pages > 200) throw new Error('listing does not terminate')
    const res = await store.listObjects(bucket, { ...q, after })
    expect(res.entries.length).toBeLessThanOrEqual(q.limit)
    flat.push(...res.entries.map((e) => (e.kind === 'prefix' ? `p:${e.prefix}` : `k:${e.record.key}`)))
    if (!res.isTruncated) return { flat, pages }
    expect(res.entries.length).toBe(q.limit)
    after = res.last
  }
}

async function pageUploads(store: MetadataStore, bucket: string, q: UploadListQuery): Promise<Flat[]> {
  const flat: Flat[] = []
  let { keyMarker, uploadIdMarker } = q
  for (let pages = 1; ; pages++) {
    if (pages > 200) throw new Error('listing does not terminate')
    const res = await store.listUploads(bucket, { ...q, keyMarker, uploadIdMarker })
    flat.push(
      ...res.entries.map((e) => (e.kind === 'prefix' ? `p:${e.prefix}` : `k:${e.record.key}\0${e.record.uploadId}`)),
    )
    if (!res.isTruncated) return flat
    keyMarker = res.nextKeyMarker
    uploadIdMarker = res.nextUploadIdMarker
  }
}

const alphabet = ['a', 'b', '/', '+', '.', 'é', '中', '\u{1F600}', '\u0001', '\uFFFF', '\uE000']
const nameArb = (min: number, max: number) =>
  fc.array(fc.constantFrom(...alphabet), { minLength: min, maxLength: max }).map((a) => a.join(''))
const delimiterArb = fc.option(fc.constantFrom('/', 'a', '中', '\u{1F600}', '/+', '\uFFFF'), { nil: undefined })

/** Registers the listing tests; `h()` is the current harness (a fresh store with bucket `bkt`). */
export function runListingContract(opts: MetadataContractOptions, h: () => MetadataHarness): void {
  const numRuns = opts.numRuns ?? 40
  const commitAll = (store: MetadataStore, bucket: string, keys: string[]) =>
    Promise.all(keys.map((key) => store.commitObject(objectRecord(bucket, key))))
  let runs = 0

  describe('listObjects', () => {
    const awkward = [
      'a',
      'a/b',
      'a+b',
      'é',
      '中',
      '\u{1F600}',
      'a\u0001',
      'a//b',
      '../up',
      '\uFFFF',
      '\uE000',
      'A',
      'a/',
    ]

    it('lists keys in UTF-8 byte order (U+1F600 after U+FFFF, unlike UTF-16 order)', async () => {
      const store = h().store
      await commitAll(store, 'bkt', awkward)
      const res = await store.listObjects('bkt', { limit: 1000 })
      expect(res.entries.map((e) => (e.kind === 'object' ? e.record.key : e.prefix))).toEqual(
        [...awkward].sort(byteOrder),
      )
      expect(res.isTruncated).toBe(false)
      expect(res.last).toBe('\u{1F600}')
    })

    it('groups by delimiter after the prefix and counts each common prefix once', async () => {
      const store = h().store
      await commitAll(store, 'bkt', ['a/1', 'a/2', 'a/b/1', 'ab', 'b/1', 'c'])
      const res = await store.listObjects('bkt', { delimiter: '/', limit: 1000 })
      expect(res.entries.map((e) => (e.kind === 'object' ? e.record.key : `p:${e.prefix}`))).toEqual([
        'p:a/',
        'ab',
        'p:b/',
        'c',
      ])
      const sub = await store.listObjects('bkt', { prefix: 'a/', delimiter: '/', limit: 2 })
      expect(sub.entries.map((e) => (e.kind === 'object' ? e.record.key : `p:${e.prefix}`))).toEqual(['a/1', 'a/2'])
      expect(sub).toMatchObject({ isTruncated: true, last: 'a/2' })
    })

    it('continuing after a common prefix (v1 NextMarker) skips every key under it', async () => {
      const store = h().store
      await commitAll(store, 'bkt', ['a/1', 'a/2', 'a/3', 'b'])
      const first = await store.listObjects('bkt', { delimiter: '/', limit: 1 })
      expect(first).toMatchObject({ isTruncated: true, last: 'a/' })
      const next = await store.listObjects('bkt', { delimiter: '/', after: first.last, limit: 10 })
      expect(next.entries.map((e) => (e.kind === 'object' ? e.record.key : `p:${e.prefix}`))).toEqual(['b'])
    })

    it('isTruncated is false when exactly limit entries exist; limit 0 answers nothing, not truncated', async () => {
      const store = h().store
      await commitAll(store, 'bkt', ['a', 'b'])
      expect(await store.listObjects('bkt', { limit: 2 })).toMatchObject({ isTruncated: false, last: 'b' })
      expect(await store.listObjects('bkt', { limit: 0 })).toEqual({ entries: [], isTruncated: false, last: undefined })
      expect((await store.listObjects('missing', { limit: 5 })).entries).toEqual([])
    })

    it('every page size gives the same concatenation as one big page (property, against a naive reference)', async () => {
      const store = h().store
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(nameArb(1, 5), { maxLength: 25 }),
          fc.option(nameArb(0, 2), { nil: undefined }),
          delimiterArb,
          fc.option(nameArb(1, 4), { nil: undefined }),
          async (keys, prefix, delimiter, after) => {
            const bucket = `prop-${runs++}`
            await store.createBucket(bucketRecord(bucket))
            await commitAll(store, bucket, keys)
            const expected = naiveListObjects(keys, { prefix, delimiter, after })
            const whole = await store.listObjects(bucket, { prefix, delimiter, after, limit: 1000 })
            expect(whole.isTruncated).toBe(false)
            for (let size = 1; size <= expected.length + 1; size++) {
              const { flat } = await pageObjects(store, bucket, { prefix, delimiter, after, limit: size })
              expect(flat).toEqual(expected)
            }
          },
        ),
        { numRuns },
      )
    })

    it('skips ahead past a common prefix: 10,000 keys under one prefix are not visited', async () => {
      const { store, entriesRead } = h()
      const many = Array.from({ length: 10_000 }, (_, i) => `big/${String(i).padStart(5, '0')}`)
      for (let i = 0; i < many.length; i += 1000) await commitAll(store, 'bkt', many.slice(i, i + 1000))
      await commitAll(store, 'bkt', ['a', 'big', 'c/1', 'z'])
      const before = entriesRead()
      const res = await store.listObjects('bkt', { delimiter: '/', limit: 1000 })
      expect(res.entries.map((e) => (e.kind === 'object' ? e.record.key : `p:${e.prefix}`))).toEqual([
        'a',
        'big',
        'p:big/',
        'p:c/',
        'z',
      ])
      expect(entriesRead() - before).toBeLessThan(20)
      // Starting inside the prefix (start-after = one of its keys) skips the rest of it too.
      const inside = await store.listObjects('bkt', { delimiter: '/', after: 'big/00005', limit: 1000 })
      expect(inside.entries.map((e) => (e.kind === 'object' ? e.record.key : `p:${e.prefix}`))).toEqual(['p:c/', 'z'])
      expect(entriesRead() - before).toBeLessThan(40)
    })
  })

  describe('listUploads', () => {
    const pairs: Array<[string, string]> = [
      ['a', 'u2'],
      ['a', 'u1'],
      ['a\u0000b', 'u3'],
      ['a\u0001', 'u4'],
      ['b/1', 'u5'],
      ['b/2', 'u6'],
      ['\u{1F600}', 'u7'],
      ['\uFFFF', 'u8'],
    ]
    const create = (store: MetadataStore, list: Array<[string, string]>, bucket = 'bkt') =>
      Promise.all(list.map(([key, id]) => store.createUpload(uploadRecord(bucket, key, id))))
    const flat = (res: Awaited<ReturnType<MetadataStore['listUploads']>>) =>
      res.entries.map((e) => (e.kind === 'prefix' ? `p:${e.prefix}` : `${e.record.key}|${e.record.uploadId}`))

    it('orders by key bytes, then upload id (a key containing NUL sorts by its bytes)', async () => {
      const store = h().store
      await create(store, pairs)
      expect(flat(await store.listUploads('bkt', { limit: 100 }))).toEqual([
        'a|u1',
        'a|u2',
        'a\u0000b|u3',
        'a\u0001|u4',
        'b/1|u5',
        'b/2|u6',
        '\uFFFF|u8',
        '\u{1F600}|u7',
      ])
    })

    it('keyMarker alone skips every upload of that key; with uploadIdMarker it resumes inside the key', async () => {
      const store = h().store
      await create(store, pairs)
      expect(flat(await store.listUploads('bkt', { keyMarker: 'a', limit: 2 }))).toEqual(['a\u0000b|u3', 'a\u0001|u4'])
      expect(flat(await store.listUploads('bkt', { keyMarker: 'a', uploadIdMarker: 'u1', limit: 2 }))).toEqual([
        'a|u2',
        'a\u0000b|u3',
      ])
      expect(flat(await store.listUploads('bkt', { uploadIdMarker: 'u1', limit: 1 }))).toEqual(['a|u1'])
      const page = await store.listUploads('bkt', { limit: 1 })
      expect(page).toMatchObject({ isTruncated: true, nextKeyMarker: 'a', nextUploadIdMarker: 'u1' })
    })

    it('groups by delimiter; a common prefix as keyMarker skips its uploads', async () => {
      const store = h().store
      await create(store, pairs)
      const res = await store.listUploads('bkt', { delimiter: '/', keyMarker: 'a\u0001', limit: 1 })
      expect(flat(res)).toEqual(['p:b/'])
      expect(res).toMatchObject({ isTruncated: true, nextKeyMarker: 'b/' })
      expect(res.nextUploadIdMarker).toBeUndefined()
      expect(flat(await store.listUploads('bkt', { delimiter: '/', keyMarker: 'b/', limit: 10 }))).toEqual([
        '\uFFFF|u8',
        '\u{1F600}|u7',
      ])
    })

    it('every page size gives the same concatenation as one big page (property)', async () => {
      const store = h().store
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(nameArb(1, 4), fc.constantFrom('x', 'y', 'z9', 'a')), { maxLength: 20 }),
          fc.option(nameArb(0, 2), { nil: undefined }),
          delimiterArb,
          fc.option(fc.tuple(nameArb(1, 3), fc.option(fc.constantFrom('x', 'y', 'q'), { nil: undefined })), {
            nil: undefined,
          }),
          async (raw, prefix, delimiter, marker) => {
            const run = runs++
            const bucket = `uprop-${run}`
            const uploads = raw.map(([key, id], i): [string, string] => [key, `${id}.${run}.${i}`])
            await store.createBucket(bucketRecord(bucket))
            await create(store, uploads, bucket)
            const keyMarker = marker?.[0]
            const uploadIdMarker = marker?.[1]
            const expected = naiveListUploads(uploads, { prefix, delimiter, keyMarker, uploadIdMarker })
            for (let size = 1; size <= expected.length + 1; size++) {
              expect(
                await pageUploads(store, bucket, { prefix, delimiter, keyMarker, uploadIdMarker, limit: size }),
              ).toEqual(expected)
            }
          },
        ),
        { numRuns },
      )
    })
  })
}
