/** @module Tests of the SSE-S3 root keyring file: creation, permissions, rotation, redaction. */
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CryptoError } from '../../../crypto/errors.js'
import { RootKeyring } from '../../../crypto/keyring.js'
import { openSseS3, sealForSseS3 } from '../../../crypto/modes/sse-s3.js'

const posixOnly = process.platform === 'win32' ? it.skip : it // Windows has no POSIX mode bits

let dir: string
let path: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strongroom-keyring-'))
  path = join(dir, 'data', 'keyring.json')
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function expectKeyringError(promise: Promise<unknown>, reason: CryptoError['reason']): Promise<CryptoError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(CryptoError)
  expect((err as CryptoError).reason).toBe(reason)
  return err as CryptoError
}

/** Every text form a key could leak in: base64 as stored, hex, base64url. */
function keyForms(key: Buffer): string[] {
  return [key.toString('base64'), key.toString('hex'), key.toString('base64url')]
}

describe('RootKeyring', () => {
  posixOnly('is created on first open with mode 0600 and one active version 1', async () => {
    const keyring = await RootKeyring.open(path)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(keyring.versions()).toEqual([{ version: 1, createdAt: expect.any(String), state: 'active' }])
    expect(keyring.active().version).toBe(1)
    expect(keyring.active().key.length).toBe(32)
    const file = JSON.parse(await readFile(path, 'utf8'))
    expect(file).toMatchObject({ v: 1, keys: [{ version: 1, state: 'active' }] })
    expect(Buffer.from(file.keys[0].key, 'base64').equals(keyring.get(1))).toBe(true)
    expect(await readdir(join(dir, 'data'))).toEqual(['keyring.json'])
  })

  it('reloads the same key on the next open', async () => {
    const first = await RootKeyring.open(path)
    const second = await RootKeyring.open(path)
    expect(second.active().key.equals(first.active().key)).toBe(true)
    expect(second.versions()).toEqual(first.versions())
  })

  it('rotate makes a new active version while old versions still open old seals', async () => {
    const keyring = await RootKeyring.open(path)
    const at = { bucket: 'b', key: 'k' }
    const old = sealForSseS3(keyring, at)
    expect(old.record.rootKeyVersion).toBe(1)
    expect(await keyring.rotate()).toBe(2)
    expect(keyring.active().version).toBe(2)
    expect(keyring.active().key.equals(keyring.get(1))).toBe(false)
    const fresh = sealForSseS3(keyring, at)
    expect(fresh.record.rootKeyVersion).toBe(2)
    const reopened = await RootKeyring.open(path)
    expect(reopened.versions().map((v) => v.version)).toEqual([1, 2])
    expect(openSseS3(reopened, old.record, at).equals(old.oek)).toBe(true)
    expect(openSseS3(reopened, fresh.record, at).equals(fresh.oek)).toBe(true)
  })

  posixOnly('rotate replaces the file atomically: mode 0600 and no temp files left', async () => {
    const keyring = await RootKeyring.open(path)
    await keyring.rotate()
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(await readdir(join(dir, 'data'))).toEqual(['keyring.json'])
  })

  it('concurrent rotations in one process are serialized into distinct versions', async () => {
    const keyring = await RootKeyring.open(path)
    expect(await Promise.all([keyring.rotate(), keyring.rotate(), keyring.rotate()])).toEqual([2, 3, 4])
    expect((await RootKeyring.open(path)).versions().map((v) => v.version)).toEqual([1, 2, 3, 4])
  })

  it('get of an absent version throws missing-root-key', async () => {
    const keyring = await RootKeyring.open(path)
    expect(() => keyring.get(7)).toThrow(CryptoError)
    expect(() => keyring.get(7)).toThrow(/version 7/)
  })

  posixOnly('a keyring file readable by group or others is refused, not silently re-chmodded', async () => {
    await RootKeyring.open(path)
    const before = await readFile(path, 'utf8')
    for (const mode of [0o640, 0o604, 0o660, 0o644]) {
      await chmod(path, mode)
      const err = await expectKeyringError(RootKeyring.open(path), 'keyring')
      expect(err.message).toContain('0600')
      expect(err.message).toContain(`chmod 600 ${path}`)
      expect((await stat(path)).mode & 0o777).toBe(mode)
    }
    expect(await readFile(path, 'utf8')).toBe(before)
    await chmod(path, 0o400) // owner-only but read-only is still owner-only
    expect((await RootKeyring.open(path)).active().version).toBe(1)
  })

  it('a keyring of an unknown format version is refused with unsupported-format', async () => {
    await RootKeyring.open(path)
    const file = JSON.parse(await readFile(path, 'utf8'))
    await writeFile(path, JSON.stringify({ ...file, v: 2 }), { mode: 0o600 })
    await expectKeyringError(RootKeyring.open(path), 'unsupported-format')
  })

  it('malformed keyrings are refused without quoting key material', async () => {
    await RootKeyring.open(path)
    const good = JSON.parse(await readFile(path, 'utf8'))
    const key = good.keys[0].key as string
    const cases = [
      `{"v":1,"keys":[{"version":1,"key":"${key}" "createdAt"}]}`, // invalid JSON around a key
      JSON.stringify({ v: 1, keys: [] }),
      JSON.stringify({ v: 1, keys: [{ ...good.keys[0], key: key.slice(0, 20) }] }),
      JSON.stringify({ v: 1, keys: [good.keys[0], good.keys[0]] }),
      JSON.stringify({ v: 1, keys: [{ ...good.keys[0], state: 'retired' }] }),
    ]
    for (const text of cases) {
      await writeFile(path, text, { mode: 0o600 })
      const err = await expectKeyringError(RootKeyring.open(path), 'keyring')
      const shown = `${err.message} ${err.stack} ${String(err.cause)}`
      expect(shown).not.toContain(key)
      expect(shown).not.toContain(key.slice(0, 20))
    }
  })

  it('inspect, toString and JSON.stringify never contain key material', async () => {
    const keyring = await RootKeyring.open(path)
    await keyring.rotate()
    const shown = [
      inspect(keyring, { depth: 10, showHidden: true }),
      String(keyring),
      `${keyring}`,
      JSON.stringify(keyring),
      JSON.stringify({ keyring }),
    ]
    for (const version of [1, 2]) {
      for (const form of keyForms(keyring.get(version))) {
        for (const text of shown) expect(text).not.toContain(form)
      }
    }
    expect(JSON.parse(JSON.stringify(keyring))).toEqual({ path, versions: keyring.versions() })
  })

  it('keys handed out are copies: scrubbing one does not damage the keyring', async () => {
    const keyring = await RootKeyring.open(path)
    const original = Buffer.from(keyring.get(1))
    keyring.get(1).fill(0)
    keyring.active().key.fill(0)
    expect(keyring.get(1).equals(original)).toBe(true)
  })
})
