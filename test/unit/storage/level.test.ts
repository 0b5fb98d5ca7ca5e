/** @module The LevelDB MetadataStore and filesystem BlobStore: the contract suites plus what only they have. */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { Level } from 'level'
import { describe, expect, it } from 'vitest'
import { FsBlobStore } from '../../../storage/fs/blobs.js'
import { LevelMetadataStore } from '../../../storage/level/metadata.js'
import { runBlobStoreContract } from '../../contract/blob-store.js'
import { bucketRecord, objectRecord } from '../../contract/fixtures.js'
import { runMetadataStoreContract } from '../../contract/metadata-store.js'

const tempDir = (name: string) => mkdtemp(join(tmpdir(), `strongroom-${name}-`))

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort()
}

runMetadataStoreContract({
  name: 'LevelMetadataStore',
  create: async () => {
    const dir = await tempDir('meta')
    let store = await LevelMetadataStore.open(dir)
    return {
      get store() {
        return store
      },
      entriesRead: () => store.stats.entriesRead,
      reopen: async () => {
        await store.close()
        store = await LevelMetadataStore.open(dir)
        return store
      },
      cleanup: async () => {
        await store.close()
        await rm(dir, { recursive: true, force: true })
      },
    }
  },
})

runBlobStoreContract({
  name: 'FsBlobStore',
  create: async () => {
    const dir = await tempDir('blobs')
    return {
      store: await FsBlobStore.open(dir),
      files: () => filesUnder(dir),
      leaveTmpFile: (name) => writeFile(join(dir, 'tmp', name), 'partial'),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    }
  },
})

describe('LevelMetadataStore group commit', () => {
  it('coalesces concurrent commits into fewer synced batches, each caller durable on resolve', async () => {
    const dir = await tempDir('group')
    let store = await LevelMetadataStore.open(dir)
    try {
      await store.createBucket(bucketRecord('bkt'))
      const before = store.stats.batches
      const recs = Array.from({ length: 64 }, (_, i) => objectRecord('bkt', `k${i}`))
      await Promise.all(recs.map((r) => store.commitObject(r)))
      const batches = store.stats.batches - before
      expect(batches).toBeGreaterThanOrEqual(1)
      expect(batches).toBeLessThan(recs.length / 2)
      await store.close()
      store = await LevelMetadataStore.open(dir)
      for (const r of recs) expect(await store.getObject('bkt', r.key)).toEqual(r)
    } finally {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('LevelMetadataStore layout migration', () => {
  it('object records of a database written before versions become null versions when it opens, and stay readable', async () => {
    const dir = await tempDir('legacy')
    try {
      const db = new Level<Buffer, string>(dir, { keyEncoding: 'buffer', valueEncoding: 'utf8' })
      await db.open()
      const v1 = { ...objectRecord('bkt', 'k\0é'), v: 1 } as Record<string, unknown>
      delete v1.versionId
      delete v1.nullVersion
      await db.put(Buffer.from('b\0bkt', 'utf8'), JSON.stringify(bucketRecord('bkt')))
      await db.put(Buffer.from('o\0bkt\0k\0é', 'utf8'), JSON.stringify(v1))
      await db.put(Buffer.from('o\0bkt\0other', 'utf8'), JSON.stringify({ ...v1, key: 'other' }))
      await db.close()
      const store = await LevelMetadataStore.open(dir)
      try {
        const rec = await store.getObject('bkt', 'k\0é')
        expect(rec).toMatchObject({ v: 2, key: 'k\0é', nullVersion: true, etag: v1.etag })
        expect((await store.getVersion('bkt', 'k\0é', 'null'))?.versionId).toBe(rec?.versionId)
        const list = await store.listObjectVersions('bkt', { limit: 10 })
        expect(list.entries.map((e) => (e.kind === 'version' ? [e.record.key, e.isLatest] : e.prefix))).toEqual([
          ['k\0é', true],
          ['other', true],
        ])
        const keys: string[] = []
        for await (const o of store.allObjects()) keys.push(o.key)
        expect(keys).toEqual(['k\0é', 'other'])
      } finally {
        await store.close()
      }
      const raw = new Level<Buffer, string>(dir, { keyEncoding: 'buffer', valueEncoding: 'utf8' })
      await raw.open()
      const legacy = await raw.keys({ gte: Buffer.from('o\0'), lt: Buffer.from('o\x01') }).all()
      await raw.close()
      expect(legacy).toEqual([])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('FsBlobStore layout', () => {
  it('stores a blob at blobs/<first 2 hex>/<id> and nothing in tmp/', async () => {
    const dir = await tempDir('layout')
    try {
      const store = await FsBlobStore.open(dir)
      const id = store.newId()
      await store.write(
        id,
        (async function* () {
          yield Buffer.from('hello')
        })(),
      )
      expect(await filesUnder(dir)).toEqual([`blobs/${id.slice(0, 2)}/${id}`])
      expect(await readdir(join(dir, 'tmp'))).toEqual([])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
