/**
 * @module The embedded KMS for several accounts (docs/s3-sse-rules.md §6.2): one EmbeddedKms per
 * account, each with its own store, keys, aliases and `alias/aws/s3`. A request is served by the
 * caller's account; Decrypt and ReEncrypt are served by the account owning the blob's key, whose
 * single-account rule then refuses a caller of another account with AccessDeniedException. Key ARNs
 * naming another account are refused the same way by the caller's own instance.
 */
import { mkdir } from 'node:fs/promises'
import { kmsFault } from './errors.js'
import { readBlobHeader } from './blob.js'
import { parseKeyRef } from './ids.js'
import { EmbeddedKms, type EmbeddedKmsOptions } from './service.js'
import type { KmsCaller } from '../types.js'

export class EmbeddedKmsAccounts {
  private constructor(
    private readonly byAccount: ReadonlyMap<string, EmbeddedKms>,
    /** The account a call without a caller runs as (the store's own account). */
    readonly defaultAccountId: string,
  ) {}

  /**
   * Opens one store per account: `dirOf(accountId)` for each of `accountIds` (the default account
   * included). Closes what it opened if any open fails.
   */
  static async openDirs(
    dirOf: (accountId: string) => string,
    accountIds: readonly string[],
    opts: Omit<EmbeddedKmsOptions, 'store' | 'accountId'> & { accountId: string },
  ): Promise<EmbeddedKmsAccounts> {
    const byAccount = new Map<string, EmbeddedKms>()
    try {
      for (const accountId of new Set([opts.accountId, ...accountIds])) {
        const dir = dirOf(accountId)
        await mkdir(dir, { recursive: true, mode: 0o700 })
        byAccount.set(accountId, await EmbeddedKms.openDir(dir, { ...opts, accountId }))
      }
    } catch (err) {
      await Promise.all([...byAccount.values()].map((k) => k.close()))
      throw err
    }
    return new EmbeddedKmsAccounts(byAccount, opts.accountId)
  }

  /** The instance of `accountId`, if that account exists. */
  get(accountId: string): EmbeddedKms | undefined {
    return this.byAccount.get(accountId)
  }

  /** The store's own account's instance. */
  get default(): EmbeddedKms {
    return this.byAccount.get(this.defaultAccountId)!
  }

  /**
   * The instance that serves a call of `caller` (none: the default account). With `blob` (Decrypt,
   * ReEncrypt), the instance holding the blob's key if the caller's own does not: its account check
   * then answers AccessDeniedException, as AWS does for another account's key.
   */
  forCall(caller: KmsCaller | undefined, blob?: Uint8Array, keyId?: string): EmbeddedKms {
    // A key ARN of another account served here goes to that account's KMS, whose key policy decides.
    const arnAccount = keyId === undefined ? undefined : parseKeyRef(keyId)?.arn?.account
    const owner = arnAccount === undefined ? undefined : this.byAccount.get(arnAccount)
    if (owner) return owner
    const own = this.byAccount.get(caller?.accountId ?? this.defaultAccountId)
    if (!own) {
      throw kmsFault(
        'AccessDeniedException',
        `User: ${caller?.principalArn ?? 'unknown'} is not authorized to perform this operation because the account has no KMS`,
      )
    }
    const header = blob && readBlobHeader(blob)
    if (header && !own.hasKey(header.keyId)) {
      for (const kms of this.byAccount.values()) if (kms.hasKey(header.keyId)) return kms
    }
    return own
  }

  async close(): Promise<void> {
    await Promise.all([...this.byAccount.values()].map((k) => k.close()))
  }
}
