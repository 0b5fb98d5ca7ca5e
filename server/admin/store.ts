/**
 * @module Opening a data directory for the offline admin commands: the keyring (never created
 * here), the metadata store (LevelDB's lock refuses a second opener, so a running server is
 * detected and reported), blobs, and the embedded KMS on demand.
 */
import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { RootKeyring } from '../../crypto/keyring.js'
import { FsBlobStore } from '../../storage/fs/blobs.js'
import { LevelMetadataStore } from '../../storage/level/metadata.js'
import { DEFAULT_ACCOUNT_ID } from '../config.js'
import { openKms, type OpenedKms } from '../kms/setup.js'
import { ObjectDataKeys } from '../s3/kms-keys.js'

/** A failure to report to the operator (no stack), with the exit code to use. */
export class AdminError extends Error {
  override readonly name = 'AdminError'
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message)
  }
}

export const SERVER_RUNNING =
  'the data directory is in use (is the server running?). This command needs the server stopped: stop it, run the command, start it again.'

function isLocked(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === 'LEVEL_LOCKED' || /lock/i.test(String((e as Error).message))) return true
  }
  return false
}

/** Opens the keyring of an existing data directory; AdminError if there is none. */
export async function openKeyring(dataDir: string): Promise<RootKeyring> {
  const file = path.join(dataDir, 'keyring.json')
  if (!existsSync(file))
    throw new AdminError(`no keyring at ${file}: is ${dataDir} a strongroom data directory? (--data-dir)`)
  return RootKeyring.open(file)
}

/** Opens a LevelDB-backed store, turning "locked by another process" into SERVER_RUNNING. */
export async function openLocked<T>(open: () => Promise<T>): Promise<T> {
  try {
    return await open()
  } catch (err) {
    if (isLocked(err)) throw new AdminError(SERVER_RUNNING)
    throw err
  }
}

export interface AdminStore {
  dataDir: string
  keyring: RootKeyring
  meta: LevelMetadataStore
  blobs: FsBlobStore
  /** The embedded KMS (opened on first use) and data keys through it. */
  kms(): Promise<{ opened: OpenedKms; dataKeys: ObjectDataKeys }>
  close(): Promise<void>
}

/** Accounts with an embedded-KMS store in the data directory besides the store's own. */
export function kmsAccountIds(dataDir: string): string[] {
  const dir = path.join(dataDir, 'kms-accounts')
  return existsSync(dir) ? readdirSync(dir) : []
}

/** Every embedded-KMS store directory of the data directory. */
export function kmsDirs(dataDir: string): string[] {
  const own = path.join(dataDir, 'kms')
  return [
    ...(existsSync(own) ? [own] : []),
    ...kmsAccountIds(dataDir).map((id) => path.join(dataDir, 'kms-accounts', id)),
  ]
}

/** Opens the whole data directory for an offline command (server stopped). */
export async function openAdminStore(dataDir: string, region: string): Promise<AdminStore> {
  const dir = path.resolve(dataDir)
  const keyring = await openKeyring(dir)
  const meta = await openLocked(() => LevelMetadataStore.open(path.join(dir, 'meta')))
  const blobs = await FsBlobStore.open(dir)
  let kms: Promise<{ opened: OpenedKms; dataKeys: ObjectDataKeys }> | undefined
  return {
    dataDir: dir,
    keyring,
    meta,
    blobs,
    kms() {
      kms ??= openLocked(() =>
        openKms({
          dataDir: dir,
          region,
          accountId: DEFAULT_ACCOUNT_ID,
          accountIds: [DEFAULT_ACCOUNT_ID, ...kmsAccountIds(dir)],
          keyring,
        }),
      ).then((opened) => ({ opened, dataKeys: new ObjectDataKeys(opened.client) }))
      return kms
    },
    async close() {
      await meta.close()
      if (kms) await (await kms.catch(() => undefined))?.opened.close()
    },
  }
}
