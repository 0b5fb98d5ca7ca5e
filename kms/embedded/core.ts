/**
 * @module State of the embedded KMS: keys and aliases in memory, written through to a KmsStore in
 * serialized mutations; key resolution (docs/s3-sse-rules.md §6.2), key-state checks and unsealed material.
 */
import { randomUUID } from 'node:crypto'
import { CryptoError } from '../../crypto/errors.js'
import type { RootKeySource } from '../../crypto/keyring.js'
import { AWS_MANAGED_S3_ALIAS, KmsError, type KmsCaller } from '../types.js'
import {
  accessDenied,
  aliasNotFound,
  deniedBy,
  invalidArn,
  invalidKeyId,
  keyDisabled,
  keyDoesNotExist,
  keyPendingDeletion,
} from './errors.js'
import { AWS_S3_KEY_DESCRIPTION } from './format.js'
import { aliasArn, keyArn, parseKeyRef } from './ids.js'
import { newSealedMaterial, openMaterial } from './material.js'
import type { KmsStore, KmsStoreOp, StoredAlias, StoredGrant, StoredKey } from './store.js'
import { grantFor, keyPolicyOf, kmsConditionContext, type KeyAccessJudge } from './access.js'
import type { EncryptionContext } from '../types.js'

export interface EmbeddedKmsOptions {
  store: KmsStore
  /** Seals key material (crypto/README.md §9). */
  keyring: RootKeySource
  region: string
  /** The single account that owns every key (docs/s3-sse-rules.md §6.2, §7). */
  accountId: string
  /** Clock in epoch ms (tests move it to pass deletion dates). */
  now?: () => number
  /** Key policies with the caller's IAM policies (access.ts); absent: the single-account rule. */
  judge?: KeyAccessJudge
}

/** What a call's permission check sees besides the key: its encryption context and other `kms:` keys. */
export interface CallAuth {
  context?: EncryptionContext
  extra?: Record<string, string[]>
}

/** A mutation: computes store ops from the current state; they reach memory only once stored. */
export type Mutation<T> = () => { ops: KmsStoreOp[]; result: T }

export const DAY_MS = 86_400_000

export class KmsCore {
  readonly region: string
  readonly accountId: string
  readonly keyring: RootKeySource
  readonly now: () => number
  /** By id, in creation order. */
  readonly keys = new Map<string, StoredKey>()
  readonly aliases = new Map<string, StoredAlias>()
  /** Grants by key id, then grant id; and by token. */
  readonly grants = new Map<string, Map<string, StoredGrant>>()
  readonly grantsByToken = new Map<string, StoredGrant>()
  readonly judge: KeyAccessJudge | undefined
  readonly #store: KmsStore
  /** Unsealed material by `<id>/<version>`. Secret: zeroed when its key goes and on close. */
  readonly #materials = new Map<string, Buffer>()
  #queue: Promise<unknown> = Promise.resolve()
  #seq = 0

  private constructor(opts: EmbeddedKmsOptions) {
    this.#store = opts.store
    this.keyring = opts.keyring
    this.region = opts.region
    this.accountId = opts.accountId
    this.now = opts.now ?? Date.now
    this.judge = opts.judge
  }

  static async open(opts: EmbeddedKmsOptions): Promise<KmsCore> {
    const core = new KmsCore(opts)
    const { keys, aliases, grants } = await opts.store.load()
    for (const k of keys.sort((a, b) => a.seq - b.seq)) core.keys.set(k.id, k)
    for (const a of aliases) core.aliases.set(a.name, a)
    for (const g of grants ?? []) core.#commit({ type: 'put-grant', grant: g })
    core.#seq = keys.reduce((m, k) => Math.max(m, k.seq), 0)
    return core
  }

  arnOf(id: string): string {
    return keyArn(this.region, this.accountId, id)
  }

  aliasArnOf(name: string): string {
    return aliasArn(this.region, this.accountId, name)
  }

  principalOf(caller: KmsCaller | undefined): string {
    return caller?.principalArn ?? `arn:aws:iam::${this.accountId}:root`
  }

  /** Runs `mutation` exclusively: its ops are stored, then applied to memory. Returns its result. */
  mutate<T>(mutation: Mutation<T>): Promise<T> {
    const run = this.#queue.then(async () => {
      const { ops, result } = mutation()
      await this.#store.apply(ops)
      for (const op of ops) this.#commit(op)
      return result
    })
    this.#queue = run.catch(() => undefined)
    return run
  }

  #commit(op: KmsStoreOp): void {
    if (op.type === 'put-key') this.keys.set(op.key.id, op.key)
    else if (op.type === 'put-alias') this.aliases.set(op.alias.name, op.alias)
    else if (op.type === 'del-alias') this.aliases.delete(op.name)
    else if (op.type === 'put-grant') {
      let byId = this.grants.get(op.grant.keyId)
      if (!byId) this.grants.set(op.grant.keyId, (byId = new Map()))
      byId.set(op.grant.id, op.grant)
      this.grantsByToken.set(op.grant.token, op.grant)
    } else if (op.type === 'del-grant') {
      const g = this.grants.get(op.keyId)?.get(op.id)
      if (g) this.grantsByToken.delete(g.token)
      this.grants.get(op.keyId)?.delete(op.id)
    } else {
      const gone = this.keys.get(op.id)
      this.keys.delete(op.id)
      for (const g of this.grants.get(op.id)?.values() ?? []) this.grantsByToken.delete(g.token)
      this.grants.delete(op.id)
      for (const m of gone?.materials ?? []) this.#dropMaterial(op.id, m.version)
    }
  }

  /** A new key record (not stored): fresh UUID, next sequence number, material version 1. */
  newKey(
    fields: Pick<StoredKey, 'description' | 'manager' | 'tags'> & { rotation?: StoredKey['rotation'] },
  ): StoredKey {
    const id = randomUUID()
    const now = this.now()
    return {
      v: 1,
      id,
      seq: ++this.#seq,
      createdAt: now,
      description: fields.description,
      manager: fields.manager,
      state: 'Enabled',
      rotation: fields.rotation,
      tags: fields.tags,
      materials: [newSealedMaterial(this.keyring, id, 1, now)],
    }
  }

  /** Ops deleting every key whose deletion date has passed, with the aliases that point at them. */
  expiredOps(only?: StoredKey): KmsStoreOp[] {
    const now = this.now()
    const ops: KmsStoreOp[] = []
    for (const k of only ? [only] : this.keys.values()) {
      if (k.state !== 'PendingDeletion' || (k.deletionDate ?? Infinity) > now) continue
      ops.push({ type: 'del-key', id: k.id })
      for (const g of this.grants.get(k.id)?.values() ?? []) ops.push({ type: 'del-grant', keyId: k.id, id: g.id })
      for (const a of this.aliases.values()) if (a.targetKeyId === k.id) ops.push({ type: 'del-alias', name: a.name })
    }
    return ops
  }

  /** Removes keys past their deletion date (docs/s3-sse-rules.md §6.3: they then answer NotFoundException). */
  async purgeExpired(only?: StoredKey): Promise<void> {
    if (this.expiredOps(only).length === 0) return
    await this.mutate(() => ({ ops: this.expiredOps(only), result: undefined }))
  }

  /** The key `id` if it exists (after purging it if expired). */
  async findKey(id: string): Promise<StoredKey | undefined> {
    const key = this.keys.get(id)
    if (key) await this.purgeExpired(key)
    return this.keys.get(id)
  }

  /**
   * Resolves a KeyId (docs/s3-sse-rules.md §6.2). `use`: key-use operations, which accept alias names and ARNs
   * and create `alias/aws/s3` on first reference; otherwise only key ids and key ARNs.
   */
  async resolve(
    value: string,
    operation: string,
    caller: KmsCaller | undefined,
    use: boolean,
    auth: CallAuth = {},
  ): Promise<StoredKey> {
    const ref = parseKeyRef(value)
    if (!ref || (!use && ref.kind === 'alias')) throw invalidKeyId(value)
    if (ref.arn) {
      if (ref.arn.region !== this.region) throw invalidArn(ref.arn.region)
      if (ref.arn.account !== this.accountId) throw accessDenied(this.principalOf(caller), operation, ref.arn.text)
    }
    let id: string
    if (ref.kind === 'alias') {
      if (ref.name === AWS_MANAGED_S3_ALIAS && !this.aliases.has(AWS_MANAGED_S3_ALIAS)) await this.ensureAwsS3Key()
      const alias = this.aliases.get(ref.name)
      if (!alias) throw aliasNotFound(this.aliasArnOf(ref.name))
      id = alias.targetKeyId
    } else {
      id = ref.id
    }
    const arn = ref.kind === 'key' && ref.arn ? ref.arn.text : this.arnOf(id)
    if (!this.judge && caller && caller.accountId !== this.accountId)
      throw accessDenied(caller.principalArn, operation, arn)
    const key = await this.findKey(id)
    if (!key) {
      if (ref.kind === 'alias') throw aliasNotFound(this.aliasArnOf(ref.name))
      throw keyDoesNotExist(arn)
    }
    this.authorize(key, operation, caller, auth)
    return key
  }

  /**
   * Authorizes `operation` on `key` (undefined: an action on no key, judged by IAM policies alone)
   * for `caller` (none: the store itself): the key policy with the caller's IAM policies, then
   * the key's grants; an explicit deny wins over grants. Throws AccessDeniedException with AWS's detail.
   */
  authorize(key: StoredKey | undefined, operation: string, caller: KmsCaller | undefined, auth: CallAuth = {}): void {
    if (!caller) return
    const resource = key ? this.arnOf(key.id) : '*'
    if (!this.judge) {
      if (caller.accountId !== this.accountId) throw accessDenied(caller.principalArn, operation, resource)
      return
    }
    const action = `kms:${operation}`
    const verdict = this.judge.decide({
      caller,
      action,
      resource,
      resourceAccount: this.accountId,
      keyPolicy: key && keyPolicyOf(key, this.accountId, this.region),
      context: kmsConditionContext(caller, auth.context, auth.extra),
    })
    if (verdict.decision === 'allow') return
    if (
      verdict.decision === 'implicit' &&
      key &&
      grantFor(this.judge, this.grants.get(key.id)?.values() ?? [], caller, operation, auth.context)
    )
      return
    throw deniedBy(caller.principalArn, action, resource, verdict.detail, {
      policyType: verdict.policyType,
      sid: verdict.sid,
    })
  }

  /** Creates the AWS-managed key behind `alias/aws/s3` unless it exists (KMS-02, KAPI-33). */
  async ensureAwsS3Key(): Promise<StoredKey> {
    return this.mutate(() => {
      const existing = this.aliases.get(AWS_MANAGED_S3_ALIAS)
      if (existing && this.keys.has(existing.targetKeyId))
        return { ops: [], result: this.keys.get(existing.targetKeyId)! }
      // AWS managed keys rotate every year.
      const key = this.newKey({
        description: AWS_S3_KEY_DESCRIPTION,
        manager: 'AWS',
        tags: [],
        rotation: { periodDays: 365, enabledAt: this.now() },
      })
      const now = this.now()
      const alias: StoredAlias = {
        v: 1,
        name: AWS_MANAGED_S3_ALIAS,
        targetKeyId: key.id,
        createdAt: now,
        updatedAt: now,
      }
      return {
        ops: [
          { type: 'put-key', key },
          { type: 'put-alias', alias },
        ],
        result: key,
      }
    })
  }

  /** Key-state rule of the crypto operations: Enabled only (docs/s3-sse-rules.md §6.2 table). */
  checkUsable(key: StoredKey): void {
    if (key.state === 'Disabled') throw keyDisabled(this.arnOf(key.id))
    if (key.state === 'PendingDeletion') throw keyPendingDeletion(this.arnOf(key.id))
  }

  /** Management operations are refused on AWS-managed keys, as AWS does (no policy allows them). */
  checkCustomerManaged(key: StoredKey, operation: string, caller: KmsCaller | undefined): void {
    if (key.manager === 'AWS') throw accessDenied(this.principalOf(caller), operation, this.arnOf(key.id))
  }

  /** The unsealed material of `version` (undefined if the key has no such version). Do not zero it: it is shared. */
  material(key: StoredKey, version: number): Buffer | undefined {
    const name = `${key.id}/${version}`
    const cached = this.#materials.get(name)
    if (cached) return cached
    const sealed = key.materials.find((m) => m.version === version)
    if (!sealed) return undefined
    try {
      const material = openMaterial(this.keyring, key.id, sealed)
      this.#materials.set(name, material)
      return material
    } catch (err) {
      if (!(err instanceof CryptoError)) throw err
      // The root key is gone or the record is damaged: the KMS cannot serve this key.
      throw new KmsError(
        'unavailable',
        'KMSInternalException',
        `The key material of ${this.arnOf(key.id)} cannot be opened.`,
        { cause: err },
      )
    }
  }

  #dropMaterial(id: string, version: number): void {
    const name = `${id}/${version}`
    this.#materials.get(name)?.fill(0)
    this.#materials.delete(name)
  }

  /** Waits for pending mutations, zeroes unsealed material and closes the store. */
  async close(): Promise<void> {
    await this.#queue
    for (const m of this.#materials.values()) m.fill(0)
    this.#materials.clear()
    await this.#store.close()
  }
}
