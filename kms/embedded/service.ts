/**
 * @module EmbeddedKms: the built-in KMS service (docs/s3-sse-rules.md §6) as plain async methods over a
 * KmsStore — AWS's operation names and PascalCase members, Buffers for binary members and Dates
 * for timestamps. No HTTP here: server/kms/handler.ts serves it, local-client.ts calls it in-process.
 */
import type { KmsCaller } from '../types.js'
import {
  createAlias,
  deleteAlias,
  ensureKeys,
  listAliases,
  type EnsuredKey,
  type KeySpecInConfig,
} from './alias-ops.js'
import { KmsCore, type EmbeddedKmsOptions } from './core.js'
import {
  decrypt,
  encrypt,
  generateDataKey,
  generateDataKeyWithoutPlaintext,
  reEncrypt,
  type DecryptRequest,
  type EncryptRequest,
  type GenerateDataKeyRequest,
  type ReEncryptRequest,
} from './crypto-ops.js'
import {
  cancelKeyDeletion,
  createKey,
  describeKey,
  disableKey,
  enableKey,
  listKeys,
  scheduleKeyDeletion,
  type CreateKeyRequest,
  type ListKeysRequest,
} from './key-ops.js'
import { LevelKmsStore } from './store.js'
import {
  checkGrantTokens,
  createGrant,
  listGrants,
  listRetirableGrants,
  retireGrant,
  revokeGrant,
  type CreateGrantRequest,
} from './grant-ops.js'
import { checkNewPolicy, getKeyPolicy, listKeyPolicies, putKeyPolicy } from './policy-ops.js'
import { disableKeyRotation, enableKeyRotation, getKeyRotationStatus, rotateKeyMaterial } from './rotation-ops.js'

export type { EmbeddedKmsOptions } from './core.js'
export type { KeySpecInConfig, EnsuredKey } from './alias-ops.js'

type KeyIdRequest = { KeyId?: string }

/**
 * The embedded KMS. Every method throws KmsError with AWS's exception name and message (docs/s3-sse-rules.md
 * §6.1–§6.4); `caller` applies the single-account rule (a caller of another account is denied).
 */
export class EmbeddedKms {
  private constructor(private readonly core: KmsCore) {}

  /** Loads the store's keys and aliases. */
  static async open(opts: EmbeddedKmsOptions): Promise<EmbeddedKms> {
    return new EmbeddedKms(await KmsCore.open(opts))
  }

  /** Opens the LevelDB store in `dir` (e.g. `<dataDir>/kms`) and the service over it. */
  static async openDir(dir: string, opts: Omit<EmbeddedKmsOptions, 'store'>): Promise<EmbeddedKms> {
    const store = await LevelKmsStore.open(dir)
    try {
      return await EmbeddedKms.open({ ...opts, store })
    } catch (err) {
      await store.close()
      throw err
    }
  }

  get region(): string {
    return this.core.region
  }

  get accountId(): string {
    return this.core.accountId
  }

  /** CreateKey: the caller's IAM policies must allow kms:CreateKey; a given Policy is checked and stored. */
  createKey(req: CreateKeyRequest = {}, caller?: KmsCaller) {
    this.core.authorize(undefined, 'CreateKey', caller)
    if (req.Policy !== undefined)
      checkNewPolicy(
        this.core,
        req.Policy,
        caller,
        req.BypassPolicyLockoutSafetyCheck,
        `arn:aws:kms:${this.core.region}:${this.core.accountId}:key/*`,
      )
    return createKey(this.core, req)
  }
  describeKey(req: KeyIdRequest, caller?: KmsCaller) {
    return describeKey(this.core, req, caller)
  }
  listKeys(req: ListKeysRequest = {}, caller?: KmsCaller) {
    this.core.authorize(undefined, 'ListKeys', caller)
    return listKeys(this.core, req)
  }
  putKeyPolicy(
    req: { KeyId?: string; PolicyName?: string; Policy?: string; BypassPolicyLockoutSafetyCheck?: boolean },
    caller?: KmsCaller,
  ) {
    return putKeyPolicy(this.core, req, caller)
  }
  getKeyPolicy(req: { KeyId?: string; PolicyName?: string }, caller?: KmsCaller) {
    return getKeyPolicy(this.core, req, caller)
  }
  listKeyPolicies(req: { KeyId?: string; Limit?: number; Marker?: string }, caller?: KmsCaller) {
    return listKeyPolicies(this.core, req, caller)
  }
  createGrant(req: CreateGrantRequest, caller?: KmsCaller) {
    return createGrant(this.core, req, caller)
  }
  listGrants(
    req: { KeyId?: string; Limit?: number; Marker?: string; GrantId?: string; GranteePrincipal?: string },
    caller?: KmsCaller,
  ) {
    return listGrants(this.core, req, caller)
  }
  listRetirableGrants(req: { RetiringPrincipal?: string; Limit?: number; Marker?: string }, caller?: KmsCaller) {
    return listRetirableGrants(this.core, req, caller)
  }
  retireGrant(req: { GrantToken?: string; KeyId?: string; GrantId?: string; DryRun?: boolean }, caller?: KmsCaller) {
    return retireGrant(this.core, req, caller)
  }
  revokeGrant(req: { KeyId?: string; GrantId?: string; DryRun?: boolean }, caller?: KmsCaller) {
    return revokeGrant(this.core, req, caller)
  }
  /** GrantTokens of any operation: each must be one this KMS issued (InvalidGrantTokenException). */
  checkGrantTokens(tokens: readonly string[]): void {
    checkGrantTokens(this.core, tokens)
  }
  createAlias(req: { AliasName?: string; TargetKeyId?: string }, caller?: KmsCaller) {
    return createAlias(this.core, req, caller)
  }
  deleteAlias(req: { AliasName?: string }, caller?: KmsCaller) {
    return deleteAlias(this.core, req, caller)
  }
  listAliases(req: { KeyId?: string; Limit?: number; Marker?: string } = {}, caller?: KmsCaller) {
    return listAliases(this.core, req, caller)
  }
  encrypt(req: EncryptRequest, caller?: KmsCaller) {
    return encrypt(this.core, req, caller)
  }
  decrypt(req: DecryptRequest, caller?: KmsCaller) {
    return decrypt(this.core, req, caller)
  }
  generateDataKey(req: GenerateDataKeyRequest, caller?: KmsCaller) {
    return generateDataKey(this.core, req, caller)
  }
  generateDataKeyWithoutPlaintext(req: GenerateDataKeyRequest, caller?: KmsCaller) {
    return generateDataKeyWithoutPlaintext(this.core, req, caller)
  }
  reEncrypt(req: ReEncryptRequest, caller?: KmsCaller) {
    return reEncrypt(this.core, req, caller)
  }
  enableKey(req: KeyIdRequest, caller?: KmsCaller) {
    return enableKey(this.core, req, caller)
  }
  disableKey(req: KeyIdRequest, caller?: KmsCaller) {
    return disableKey(this.core, req, caller)
  }
  scheduleKeyDeletion(req: KeyIdRequest & { PendingWindowInDays?: number }, caller?: KmsCaller) {
    return scheduleKeyDeletion(this.core, req, caller)
  }
  cancelKeyDeletion(req: KeyIdRequest, caller?: KmsCaller) {
    return cancelKeyDeletion(this.core, req, caller)
  }
  enableKeyRotation(req: KeyIdRequest & { RotationPeriodInDays?: number }, caller?: KmsCaller) {
    return enableKeyRotation(this.core, req, caller)
  }
  disableKeyRotation(req: KeyIdRequest, caller?: KmsCaller) {
    return disableKeyRotation(this.core, req, caller)
  }
  getKeyRotationStatus(req: KeyIdRequest, caller?: KmsCaller) {
    return getKeyRotationStatus(this.core, req, caller)
  }

  /** RotateKeyOnDemand: the admin hook over the API; answers `{KeyId}` (the key id). */
  async rotateKeyOnDemand(req: KeyIdRequest, caller?: KmsCaller): Promise<{ KeyId: string }> {
    const { keyId } = await rotateKeyMaterial(this.core, req.KeyId as string, caller)
    return { KeyId: keyId }
  }

  /** Admin hook (KAPI-27): new key material for new encryptions; old ciphertexts keep decrypting. */
  rotateKeyMaterial(keyId: string): Promise<{ keyId: string; materialVersion: number }> {
    return rotateKeyMaterial(this.core, keyId)
  }

  /** Creates the declared keys whose alias does not exist yet (server start, config-declared test keys). */
  ensureKeys(specs: readonly KeySpecInConfig[]): Promise<EnsuredKey[]> {
    return ensureKeys(this.core, specs)
  }

  /** Whether key `id` is in this KMS (any state), without touching it. */
  hasKey(id: string): boolean {
    return this.core.keys.has(id)
  }

  /** The ARN of key `id` in this KMS's region and account. */
  arnOf(id: string): string {
    return this.core.arnOf(id)
  }

  /** Waits for pending writes, zeroes unsealed key material, closes the store. */
  close(): Promise<void> {
    return this.core.close()
  }
}
