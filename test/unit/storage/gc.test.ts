/** @module collectOrphans: tmp is swept and only unreferenced blobs are deleted, for both backends. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FsBlobStore } from '../../../storage/fs/blobs.js'
import { collectOrphans } from '../../../storage/gc.js'
import { LevelMetadataStore } from '../../../storage/level/metadata.js'
import { MemoryBlobStore } from '../../../storage/memory/blobs.js'
import { MemoryMetadataStore } from '../../../storage/memory/metadata.js'
import type { BlobStore, MetadataStore } from '../../../storage/types.js'
import { bucketRecord, objectRecord, pieces, uploadPart, uploadRecord } from '../../contract/fixtures.js'

interface Pair {
  meta: MetadataStore
  blobs: BlobStore
  tmpLeftovers: number
  cleanup(): Promise<void>
}

const backends: Record<string, () => Promise<Pair>> = {
  memory: async () => ({
    meta: new MemoryMetadataStore(),
    blobs: new MemoryBlobStore(),
    tmpLeftovers: 0,
    cleanup: async () => {},
  }),
  'level + fs': async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strongroom-gc-'))
    const meta = await LevelMetadataStore.open(join(dir, 'meta'))
    const blobs = await FsBlobStore.open(dir)
    await writeFile(join(dir, 'tmp', 'interrupted'), 'x')
    return {
      meta,
      blobs,
      tmpLeftovers: 1,
      cleanup: async () => {
        await meta.close()
        await rm(dir, { recursive: true, force: true })
      },
    }
  },
}

describe.each(Object.entries(backends))('collectOrphans (%s)', (_name, create) => {
  it('deletes exactly the blobs no object or upload part references, and sweeps tmp', async () => {
    const { meta, blobs, tmpLeftovers, cleanup } = await create()
    try {
      const write = async () => {
        const id = blobs.newId()
        await blobs.write(id, pieces('data'))
        return id
      }
      const [objBlob, partBlob, orphan1, orphan2] = [await write(), await write(), await write(), await write()]
      await meta.createBucket(bucketRecord('bkt'))
      await meta.commitObject(objectRecord('bkt', 'k', { blobs: [objBlob] }))
      await meta.createUpload(uploadRecord('bkt', 'k', 'u1'))
      await meta.putPart(uploadPart('u1', 1, partBlob))
      expect(await collectOrphans(meta, blobs)).toEqual({ swept: tmpLeftovers, orphans: 2 })
      const left: string[] = []
      for await (const id of blobs.list()) left.push(id)
      expect(left.sort()).toEqual([objBlob, partBlob].sort())
      expect(left).not.toContain(orphan1)
      expect(left).not.toContain(orphan2)
      expect(await collectOrphans(meta, blobs)).toEqual({ swept: 0, orphans: 0 })
    } finally {
      await cleanup()
    }
  })
})
