/**
 * @module Test helpers for the KMS unit tests: a fake root keyring, an embedded KMS over a memory store, error capture.
 */
import { randomBytes } from 'node:crypto'
import { expect } from 'vitest'
import type { RootKey, RootKeySource } from '../../../crypto/keyring.js'
import { EmbeddedKms } from '../../../kms/embedded/service.js'
import { MemoryKmsStore } from '../../../kms/embedded/store.js'
import { KmsError } from '../../../kms/types.js'

export const REGION = 'us-east-1'
export const ACCOUNT = '000000000000'
export const UNKNOWN_UUID = '134f2428-cec1-4b25-a1ae-9048164dba47'

/** A root keyring in memory that can rotate and forget versions. */
export class FakeKeyring implements RootKeySource {
  readonly keys = new Map<number, Buffer>([[1, randomBytes(32)]])
  active(): RootKey {
    const version = Math.max(...this.keys.keys())
    return { version, key: Buffer.from(this.keys.get(version)!) }
  }
  get(version: number): Buffer {
    const key = this.keys.get(version)
    if (!key) throw new Error(`no root key ${version}`)
    return Buffer.from(key)
  }
  rotate(): number {
    const version = Math.max(...this.keys.keys()) + 1
    this.keys.set(version, randomBytes(32))
    return version
  }
}

export interface Harness {
  kms: EmbeddedKms
  store: MemoryKmsStore
  keyring: FakeKeyring
  clock: { now: number }
  reopen(): Promise<EmbeddedKms>
}

/** An embedded KMS over a memory store with a movable clock. */
export async function harness(): Promise<Harness> {
  const store = new MemoryKmsStore()
  const keyring = new FakeKeyring()
  const clock = { now: Date.UTC(2026, 0, 1) }
  const open = () => EmbeddedKms.open({ store, keyring, region: REGION, accountId: ACCOUNT, now: () => clock.now })
  const h: Harness = { kms: await open(), store, keyring, clock, reopen: async () => (h.kms = await open()) }
  return h
}

export const arn = (id: string) => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`
export const aliasArnOf = (name: string) => `arn:aws:kms:${REGION}:${ACCOUNT}:${name}`

/** The KmsError `promise` rejects with (fails the test if it resolves or rejects with something else). */
export async function kmsErrorOf(promise: Promise<unknown>): Promise<KmsError> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(KmsError)
    return err as KmsError
  }
  throw new Error('expected a KmsError, but the call succeeded')
}

/** Asserts the exception name and (if given) the exact message. */
export async function expectFault(
  promise: Promise<unknown>,
  exception: string,
  message?: string | RegExp,
): Promise<KmsError> {
  const err = await kmsErrorOf(promise)
  expect(err.exception).toBe(exception)
  if (typeof message === 'string') expect(err.kmsMessage).toBe(message)
  else if (message) expect(err.kmsMessage).toMatch(message)
  return err
}
