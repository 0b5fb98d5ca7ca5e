/** @module Keyring changes made by another process (the CLI) reach a running server's keyring; retire rules. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RootKeyring } from '../../../crypto/keyring.js'

describe('RootKeyring: reload and retire', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'keyring-admin-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('a rotation by another process is picked up by the next active() call', async () => {
    const server = await RootKeyring.open(path.join(dir, 'keyring.json'))
    const admin = await RootKeyring.open(path.join(dir, 'keyring.json'))
    expect(server.active().version).toBe(1)
    expect(await admin.rotate()).toBe(2)
    expect(server.active().version).toBe(2)
    expect(server.get(2).equals(admin.get(2))).toBe(true)
    expect(server.versions().map((v) => v.version)).toEqual([1, 2])
  })

  it('retire: refused for the active, unknown or retired version; a retired key still opens', async () => {
    const k = await RootKeyring.open(path.join(dir, 'keyring.json'))
    await expect(k.retire(1)).rejects.toMatchObject({ reason: 'keyring', message: expect.stringMatching(/active/) })
    await k.rotate()
    await expect(k.retire(7)).rejects.toMatchObject({ reason: 'missing-root-key' })
    await k.retire(1)
    await expect(k.retire(1)).rejects.toMatchObject({ message: expect.stringMatching(/already retired/) })
    const reopened = await RootKeyring.open(path.join(dir, 'keyring.json'))
    expect(reopened.versions()).toMatchObject([
      { version: 1, state: 'retired' },
      { version: 2, state: 'active' },
    ])
    expect(reopened.get(1)).toHaveLength(32)
    expect(k.versions()[0].state).toBe('retired')
  })
})
