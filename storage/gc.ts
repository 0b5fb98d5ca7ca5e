/** @module Orphan collection at start: sweep interrupted writes and delete blobs no record references. */
import type { BlobStore, MetadataStore } from './types.js'

/**
 * Sweeps `tmp/` and deletes every blob that no metadata record references. Blobs are written
 * before their record commits, so this must run when no request is in flight (at start):
 * otherwise a blob written but not yet committed would be taken for an orphan.
 * Holds the set of referenced ids in memory (~100 bytes per blob).
 */
export async function collectOrphans(
  meta: MetadataStore,
  blobs: BlobStore,
): Promise<{ swept: number; orphans: number }> {
  const swept = await blobs.sweepTmp()
  const referenced = new Set<string>()
  for await (const id of meta.referencedBlobs()) referenced.add(id)
  let orphans = 0
  for await (const id of blobs.list()) {
    if (referenced.has(id)) continue
    await blobs.delete(id)
    orphans++
  }
  return { swept, orphans }
}
