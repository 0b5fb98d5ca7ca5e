/**
 * @module The one file-system helper for durable writes: fsync a directory (so a create, rename or
 * link in it survives a crash), write a new file that is synced before anyone can see it, and
 * replace a file atomically and durably (temp file, fsync, rename, directory fsync). Used by the
 * root keyring, the blob store, the TLS files and the bench baseline. Imports only node:.
 */
import { randomBytes } from 'node:crypto'
import { constants as fsConstants } from 'node:fs'
import { open, rename, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'

/** Owner-only, as everything the store creates. */
export const PRIVATE_FILE_MODE = 0o600

/** fsyncs the directory `dir`, making the entries created, renamed or removed in it durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, fsConstants.O_RDONLY)
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Writes `data` to a new sibling of `path` (`<path>.tmp-<random>`, created exclusively with
 * `mode`, chmodded to it exactly whatever the umask) and fsyncs it. Returns the temp path; on any
 * failure the temp file is removed and the error rethrown.
 */
export async function writeSyncedTemp(
  path: string,
  data: string | Uint8Array,
  mode = PRIVATE_FILE_MODE,
): Promise<string> {
  const temp = `${path}.tmp-${randomBytes(6).toString('hex')}`
  const handle = await open(temp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, mode)
  try {
    await handle.chmod(mode)
    await handle.writeFile(data)
    await handle.sync()
  } catch (err) {
    await handle.close()
    await unlink(temp).catch(() => undefined)
    throw err
  }
  await handle.close()
  return temp
}

/**
 * Replaces `path` with `data` atomically and durably: a synced temp file renamed over it, then the
 * directory fsynced. A crash leaves either the old content or the new, never a mix.
 */
export async function replaceFileDurably(
  path: string,
  data: string | Uint8Array,
  mode = PRIVATE_FILE_MODE,
): Promise<void> {
  const temp = await writeSyncedTemp(path, data, mode)
  try {
    await rename(temp, path)
  } catch (err) {
    await unlink(temp).catch(() => undefined)
    throw err
  }
  await fsyncDir(dirname(path))
}
