/** @module The in-memory MetadataStore and BlobStore run the same contract suites as the real ones. */
import { MemoryBlobStore } from '../../../storage/memory/blobs.js'
import { MemoryMetadataStore } from '../../../storage/memory/metadata.js'
import { runBlobStoreContract } from '../../contract/blob-store.js'
import { runMetadataStoreContract } from '../../contract/metadata-store.js'

runMetadataStoreContract({
  name: 'MemoryMetadataStore',
  create: async () => {
    const store = new MemoryMetadataStore()
    return { store, entriesRead: () => store.stats.entriesRead, cleanup: () => store.close() }
  },
  skip: { durability: 'the memory store keeps nothing across close' },
  numRuns: 100,
})

runBlobStoreContract({
  name: 'MemoryBlobStore',
  create: async () => ({ store: new MemoryBlobStore(), cleanup: async () => {} }),
  skip: { files: 'the memory store has no files' },
})
