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

export type KmsStoreOp =
  | { type: 'put-key'; key: StoredKey }
  | { type: 'put-alias'; alias: StoredAlias }
  | { type: 'del-key'; id: string }
  | { type: 'del-alias'; name: string }

/** Where the embedded KMS keeps its records. `apply` is atomic and durable when it resolves. */
export interface KmsStore {
  load(): Promise<{ keys: StoredKey[]; aliases: StoredAlias[] }>
  apply(ops: readonly KmsStoreOp[]): Promise<void>
  close(): Promise<void>
}

const KEY_PREFIX = 'key/'
const ALIAS_PREFIX = 'alias/'

function decode<T extends { v: number }>(text: string, what: string): T {
  let parsed: { v?: unknown }
  try {
    parsed = JSON.parse(text) as { v?: unknown }
  } catch {
    throw new Error(`embedded KMS store: a ${what} record is not JSON`)
  }
  if (parsed.v !== 1) throw new Error(`embedded KMS store: a ${what} record has format version ${String(parsed.v)}; this build reads 1`)
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

  async load(): Promise<{ keys: StoredKey[]; aliases: StoredAlias[] }> {
    const keys: StoredKey[] = []
    const aliases: StoredAlias[] = []
    for await (const [k, v] of this.db.iterator()) {
      if (k.startsWith(KEY_PREFIX)) keys.push(decode<StoredKey>(v, 'key'))
      else if (k.startsWith(ALIAS_PREFIX)) aliases.push(decode<StoredAlias>(v, 'alias'))
    }
    return { keys, aliases }
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
  /** Set to make the next apply fail (tests of write failures). */
  failNext: Error | undefined

  async load(): Promise<{ keys: StoredKey[]; aliases: StoredAlias[] }> {
    return {
      keys: [...this.keys.values()].map((t) => decode<StoredKey>(t, 'key')),
      aliases: [...this.aliases.values()].map((t) => decode<StoredAlias>(t, 'alias')),
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
      else this.aliases.delete(op.name)
    }
  }

  async close(): Promise<void> {}
}
