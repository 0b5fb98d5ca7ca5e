/**
 * @module Opens the store's KMS at start: the embedded KMS in `<dataDir>/kms` with an in-process
 * client, or (with an external endpoint) only the HTTP client. Closed at shutdown.
 */
import path from 'node:path'
import type { RootKeySource } from '../../crypto/keyring.js'
import { HttpKmsClient, type HttpKmsClientOptions } from '../../kms/http-client.js'
import { LocalKmsClient } from '../../kms/local-client.js'
import { EmbeddedKmsAccounts } from '../../kms/embedded/accounts.js'
import type { EmbeddedKms, EnsuredKey, KeySpecInConfig } from '../../kms/embedded/service.js'
import type { KmsClient } from '../../kms/types.js'
import { kmsJudge } from '../iam/kms-judge.js'

/** What the S3 side gets (Services.kms): the client to call, and the embedded service when it runs. */
export interface KmsServices {
  /** The embedded KMS of the store's own account; absent when delegating to an external KMS. */
  service?: EmbeddedKms
  /** The embedded KMS of every account (keys per account, docs/s3-sse-rules.md §6.2), served on the S3 listener. */
  accounts?: EmbeddedKmsAccounts
  /** GenerateDataKey/Decrypt for SSE-KMS: in-process for the embedded KMS, HTTP otherwise. */
  client: KmsClient
}

export interface KmsSetupOptions {
  dataDir: string
  region: string
  accountId: string
  /** Every account that may call the embedded KMS (the credentials' accounts); `accountId` is always one. */
  accountIds?: readonly string[]
  keyring: RootKeySource
  /** Delegate to this KMS (`--kms-endpoint`); the embedded one is then not opened. */
  external?: HttpKmsClientOptions
  /** Named keys to create on a fresh store (embedded KMS only). */
  keys?: readonly KeySpecInConfig[]
}

export interface OpenedKms extends KmsServices {
  /** The declared keys, as found or created. */
  ensured: EnsuredKey[]
  close(): Promise<void>
}

/** Opens the KMS side of the store. Throws if keys are declared for an external KMS. */
export async function openKms(opts: KmsSetupOptions): Promise<OpenedKms> {
  if (opts.external) {
    if (opts.keys && opts.keys.length > 0)
      throw new Error('KMS keys declared in the config need the embedded KMS (no external KMS endpoint)')
    const client = new HttpKmsClient(opts.external)
    return { client, ensured: [], close: () => client.close() }
  }
  const accounts = await EmbeddedKmsAccounts.openDirs(
    (accountId) => kmsDirOf(opts.dataDir, opts.accountId, accountId),
    opts.accountIds ?? [],
    { keyring: opts.keyring, region: opts.region, accountId: opts.accountId, judge: kmsJudge },
  )
  const service = accounts.default
  try {
    const ensured = await service.ensureKeys(opts.keys ?? [])
    const client = new LocalKmsClient(accounts)
    return {
      service,
      accounts,
      client,
      ensured,
      async close() {
        await client.close()
        await accounts.close()
      },
    }
  } catch (err) {
    await accounts.close()
    throw err
  }
}

/**
 * Where an account's embedded-KMS store lives: `kms/` for the store's own account, `kms-accounts/<id>/` for the others.
 */
export function kmsDirOf(dataDir: string, ownAccountId: string, accountId: string): string {
  return accountId === ownAccountId ? path.join(dataDir, 'kms') : path.join(dataDir, 'kms-accounts', accountId)
}
