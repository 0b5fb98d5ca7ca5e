import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { RootKeyring } from '../../../crypto/keyring.js'
import { loadConfig } from '../../../server/config.js'
import { rotateIfDue } from '../../../server/key-rotation.js'

describe('automatic root key rotation (--key-rotation-days)', () => {
  const dirs: string[] = []
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
  })
  async function keyring(): Promise<RootKeyring> {
    const dir = await mkdtemp(path.join(tmpdir(), 'strongroom-rotation-'))
    dirs.push(dir)
    return RootKeyring.open(path.join(dir, 'keyring.json'))
  }

  it('does not rotate a key younger than the interval', async () => {
    const kr = await keyring()
    expect(await rotateIfDue(kr, 30, Date.now() + 29 * 86_400_000)).toBeUndefined()
    expect(kr.active().version).toBe(1)
  })

  it('rotates a key older than the interval, and only once: the new key is young', async () => {
    const kr = await keyring()
    const later = Date.now() + 31 * 86_400_000
    expect(await rotateIfDue(kr, 30, later)).toBe(2)
    expect(kr.active().version).toBe(2)
    expect(await rotateIfDue(kr, 30, Date.now())).toBeUndefined()
    expect(kr.versions().map((v) => v.version)).toEqual([1, 2])
  })

  it('reads the interval from --key-rotation-days and refuses nonsense', () => {
    expect(loadConfig(['--key-rotation-days', '90'], {}).keyRotationDays).toBe(90)
    expect(loadConfig([], {}).keyRotationDays).toBe(0)
    expect(() => loadConfig(['--key-rotation-days=-1'], {})).toThrow(/invalid key rotation interval/)
    expect(() => loadConfig(['--key-rotation-days', 'soon'], {})).toThrow(/invalid key rotation interval/)
  })
})
