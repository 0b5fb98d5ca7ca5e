/** @module Test support: looking at a data directory from the outside (files, blob files, new blobs). */
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'

/** Every regular file under `dir`, recursively. */
export async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort()
}

/** Blob files of a data directory: `blobs/<2 hex>/<id>` (docs/architecture.md#storage-on-disk). */
export async function blobFiles(dataDir: string): Promise<string[]> {
  const root = path.join(dataDir, 'blobs')
  const out: string[] = []
  for (const shard of await readdir(root).catch(() => [] as string[])) {
    if (!/^[0-9a-f]{2}$/.test(shard)) continue
    for (const name of await readdir(path.join(root, shard))) out.push(path.join(root, shard, name))
  }
  return out.sort()
}

/**
 * Runs `fn` and returns the contents of the blob files that appeared meanwhile (in path order).
 * Callers run nothing else against the server at the same time.
 */
export async function newBlobs<T>(dataDir: string, fn: () => Promise<T>): Promise<{ result: T; blobs: Buffer[] }> {
  const before = new Set(await blobFiles(dataDir))
  const result = await fn()
  const added = (await blobFiles(dataDir)).filter((f) => !before.has(f))
  return { result, blobs: await Promise.all(added.map((f) => readFile(f))) }
}

/** Files under `dir` that contain any of `needles` (binary search of each whole file). */
export async function filesContaining(dir: string, needles: Buffer[]): Promise<string[]> {
  const hits: string[] = []
  for (const f of await allFiles(dir)) {
    const data = await readFile(f)
    if (needles.some((n) => data.includes(n))) hits.push(f)
  }
  return hits
}
