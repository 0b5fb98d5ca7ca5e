/**
 * @module Persistence of the embedded KMS: key and alias records (no plaintext material; see
 * material.ts), behind a small store interface with a LevelDB and an in-memory implementation.
 */
import { Level } from 'level'
import type { SealedMaterial } from './material.js'

export type StoredKeyState = 'Enabled' | 'Disabled' | 'PendingDeletion'

/** A KMS key as stored, format version 1. */
export interface StoredKey {
  v: 1
  /** Lowercase UUID. */
  id: string
  /** Creation order (ListKeys order and markers). */
  seq: number
  /** Epoch ms. */
  createdAt: number
  description: string
  manager: 'CUSTOMER' | 'AWS'
  state: StoredKeyState
  /** PendingDeletion only: epoch ms when the key goes, and the window asked for. */
  deletionDate?: number
  pendingWindowDays?: number
  /** Present while automatic rotation is enabled. */
  rotation?: { periodDays: number; enabledAt: number }
  tags: Array<{ TagKey: string; TagValue: string }>
  /** The key policy as given (PutKeyPolicy, CreateKey Policy); absent: AWS's default key policy. */
  policy?: string
  /** Every material version, ascending; the last one encrypts, all of them decrypt. */
  materials: SealedMaterial[]
}

/** An alias as stored, format version 1. */
export interface StoredAlias {
  v: 1
  /** `alias/…`. */
  name: string
  targetKeyId: string
  createdAt: number
  updatedAt: number
}

/** A grant on a key (CreateGrant), format version 1. The token is a bearer reference, not a secret key. */
export interface StoredGrant {
  v: 1
  /** 64 lowercase hex characters. */
  id: string
  keyId: string
  token: string
  name?: string
  granteePrincipal: string
  retiringPrincipal?: string
  operations: string[]
  constraints?: { EncryptionContextEquals?: Record<string, string>; EncryptionContextSubset?: Record<string, string> }
  /** `arn:aws:iam::<acct>:root` of the account that created it. */
  issuingAccount: string
  createdAt: number
}

export type KmsStoreOp =
  | { type: 'put-key'; key: StoredKey }
  | { type: 'put-alias'; alias: StoredAlias }
  | { type: 'del-key'; id: string }
  | { type: 'del-alias'; name: string }
  | { type: 'put-grant'; grant: StoredGrant }
  | { type: 'del-grant'; keyId: string; id: string }

/** Where the embedded KMS keeps its records. `apply` is atomic and durable when it resolves. */
export interface KmsStore {
  load(): Promise<{ keys: StoredKey[]; aliases: StoredAlias[]; grants?: StoredGrant[] }>
  apply(ops: readonly KmsStoreOp[]): Promise<void>
  close(): Promise<void>
}

const KEY_PREFIX = 'key/'
const ALIAS_PREFIX = 'alias/'
const GRANT_PREFIX = 'grant/'

function decode<T extends { v: number }>(text: string, what: string): T {
  let parsed: { v?: unknown }
  try {
    parsed = JSON.parse(text) as { v?: unknown }
  } catch {
    throw new Error(`embedded KMS store: a ${what} record is not JSON`)
  }
  if (parsed.v !== 1)
    throw new Error(`embedded KMS store: a ${what} record has format version ${String(parsed.v)}; this build reads 1`)
  return parsed as T
}

/** The embedded KMS store on LevelDB (`<dataDir>/kms`): `key/<id>` and `alias/<name>` → JSON, synced batches. */
export class LevelKmsStore implements KmsStore {
  private constructor(private readonly db: Level<string, string>) {}

  static async open(dir: string): Promise<LevelKmsStore> {
    const db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' })
    await db.open()
    return new LevelKmsStore(db)
  }

  async load(): Promise<{ keys: StoredKey[]; aliases: StoredAlias[]; grants: StoredGrant[] }> {
    const keys: StoredKey[] = []
    const aliases: StoredAlias[] = []
    const grants: StoredGrant[] = []
    for await (const [k, v] of this.db.iterator()) {
      if (k.startsWith(KEY_PREFIX)) keys.push(decode<StoredKey>(v, 'key'))
      else if (k.startsWith(ALIAS_PREFIX)) aliases.push(decode<StoredAlias>(v, 'alias'))
      else if (k.startsWith(GRANT_PREFIX)) grants.push(decode<StoredGrant>(v, 'grant'))
    }
    return { keys, aliases, grants }
  }

  async apply(ops: readonly KmsStoreOp[]): Promise<void> {
    if (ops.length === 0) return
    const batch = ops.map((op) => {
      switch (op.type) {
        case 'put-key':
          return { type: 'put' as const, key: KEY_PREFIX + op.key.id, value: JSON.stringify(op.key) }
        case 'put-alias':
          return { type: 'put' as const, key: ALIAS_PREFIX + op.alias.name, value: JSON.stringify(op.alias) }
        case 'del-key':
          return { type: 'del' as const, key: KEY_PREFIX + op.id }
        case 'del-alias':
          return { type: 'del' as const, key: ALIAS_PREFIX + op.name }
        case 'put-grant':
          return {
            type: 'put' as const,
            key: `${GRANT_PREFIX}${op.grant.keyId}/${op.grant.id}`,
            value: JSON.stringify(op.grant),
          }
        case 'del-grant':
          return { type: 'del' as const, key: `${GRANT_PREFIX}${op.keyId}/${op.id}` }
      }
    })
    await this.db.batch(batch, { sync: true })
  }

  async close(): Promise<void> {
    await this.db.close()
  }
}

/** In-memory store for tests: records are copied in and out, as a real store would. */
export class MemoryKmsStore implements KmsStore {
  readonly keys = new Map<string, string>()
  readonly aliases = new Map<string, string>()
  readonly grants = new Map<string, string>()
  /** Set to make the next apply fail (tests of write failures). */
  failNext: Error | undefined

  async load(): Promise<{ keys: StoredKey[]; aliases: StoredAlias[]; grants: StoredGrant[] }> {
    return {
      keys: [...this.keys.values()].map((t) => decode<StoredKey>(t, 'key')),
      aliases: [...this.aliases.values()].map((t) => decode<StoredAlias>(t, 'alias')),
      grants: [...this.grants.values()].map((t) => decode<StoredGrant>(t, 'grant')),
    }
  }

  async apply(ops: readonly KmsStoreOp[]): Promise<void> {
    if (this.failNext) {
      const err = this.failNext
      this.failNext = undefined
      throw err
    }
    for (const op of ops) {
      if (op.type === 'put-key') this.keys.set(op.key.id, JSON.stringify(op.key))
      else if (op.type === 'put-alias') this.aliases.set(op.alias.name, JSON.stringify(op.alias))
      else if (op.type === 'del-key') this.keys.delete(op.id)
      else if (op.type === 'put-grant') this.grants.set(`${op.grant.keyId}/${op.grant.id}`, JSON.stringify(op.grant))
      else if (op.type === 'del-grant') this.grants.delete(`${op.keyId}/${op.id}`)
      else this.aliases.delete(op.name)
    }
  }

  async close(): Promise<void> {}
}
