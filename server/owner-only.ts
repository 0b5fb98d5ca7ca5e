/**
 * @module Owner-only data: everything the store creates is mode 0700 (directories) or 0600
 * (files) — key names, metadata, policies and ciphertext alike — whatever the umask the process
 * was started with, and whether the data directory existed before (an older version, a restore
 * copied with `cp -r`, a directory made by hand).
 *
 * New files: the process umask is set to 077, so every file and directory anything in the process
 * creates (LevelDB's own files included, which no mode option reaches) has no group or other bits.
 * Existing ones: at start, every directory and regular file under the data directory that lets
 * group or others in is chmodded to 0700 / 0600. Symbolic links are not followed.
 */
import { chmod, lstat, mkdir, opendir } from 'node:fs/promises'
import path from 'node:path'
import { isMainThread } from 'node:worker_threads'

export const DIR_MODE = 0o700
export const FILE_MODE = 0o600

/** Sets the process umask to 077 (no group/other bits on anything created from now on). */
export function restrictUmask(): void {
  // Worker threads cannot change the umask; the main thread's applies to the whole process.
  if (isMainThread && process.platform !== 'win32') process.umask(0o077)
}

/** How many paths were tightened, and those that could not be (e.g. owned by another user). */
export interface Tightened {
  changed: number
  failed: string[]
}

/**
 * Creates `dataDir` (0700) if missing and tightens it and everything under it to 0700 / 0600.
 * Run it after the root keyring was opened: a keyring others could read is refused there on
 * purpose (it may have leaked; the operator must look), never silently repaired here.
 */
export async function ownerOnlyDataDir(dataDir: string): Promise<Tightened> {
  await mkdir(dataDir, { recursive: true, mode: DIR_MODE })
  const out: Tightened = { changed: 0, failed: [] }
  await tighten(dataDir, out)
  return out
}

async function tighten(p: string, out: Tightened): Promise<void> {
  let st
  try {
    st = await lstat(p)
  } catch {
    return // removed meanwhile
  }
  if (!st.isDirectory() && !st.isFile()) return // symlinks, sockets, fifos: left alone
  const want = st.isDirectory() ? DIR_MODE : FILE_MODE
  if ((st.mode & 0o777) !== want) {
    try {
      await chmod(p, want)
      out.changed++
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') out.failed.push(p)
    }
  }
  if (!st.isDirectory()) return
  let dir
  try {
    dir = await opendir(p)
  } catch {
    return
  }
  // A batch of entries at a time (a blob shard may hold many files): bounded memory and concurrency.
  let batch: string[] = []
  for await (const entry of dir) {
    batch.push(path.join(p, entry.name))
    if (batch.length === BATCH) {
      await Promise.all(batch.map((q) => tighten(q, out)))
      batch = []
    }
  }
  await Promise.all(batch.map((q) => tighten(q, out)))
}

const BATCH = 32
