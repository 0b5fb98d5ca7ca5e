/** @module Tests of object-key sealing, part keys and the SSE-S3 / SSE-C mode helpers. */
import { AssertionError } from 'node:assert'
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { CryptoError } from '../../../crypto/errors.js'
import type { RootKey, RootKeySource } from '../../../crypto/keyring.js'
import {
  deriveKek,
  derivePartKey,
  generateObjectKey,
  newGeneration,
  newPartSalt,
  sealObjectKey,
  unsealObjectKey,
} from '../../../crypto/keys.js'
import { openSseC, sealForSseC } from '../../../crypto/modes/sse-c.js'
import { openSseS3, sealForSseS3 } from '../../../crypto/modes/sse-s3.js'
import type { EncryptionRecord, SealBinding, SealedKey } from '../../../crypto/types.js'

const binding: SealBinding = { mode: 'SSE-S3', bucket: 'bucket-a', key: 'dir/object.txt', generation: newGeneration() }

function expectCryptoError(fn: () => unknown, reason: CryptoError['reason']): void {
  let thrown: unknown
  try {
    fn()
  } catch (err) {
    thrown = err
  }
  expect(thrown).toBeInstanceOf(CryptoError)
  expect((thrown as CryptoError).reason).toBe(reason)
}

function flipBase64(value: string, at: number): string {
  const bytes = Buffer.from(value, 'base64')
  bytes[at] ^= 0x01
  return bytes.toString('base64')
}

/** A fixed in-memory keyring with versions 1 and 2; 2 is active. */
function fakeKeyring(): RootKeySource {
  const keys = new Map([
    [1, randomBytes(32)],
    [2, randomBytes(32)],
  ])
  return {
    active: (): RootKey => ({ version: 2, key: Buffer.from(keys.get(2)!) }),
    get: (version) => {
      const key = keys.get(version)
      if (!key) throw new CryptoError('missing-root-key')
      return Buffer.from(key)
    },
  }
}

describe('generateObjectKey, newGeneration, newPartSalt', () => {
  it('object keys are 32 random bytes', () => {
    const a = generateObjectKey()
    expect(a.length).toBe(32)
    expect(a.equals(generateObjectKey())).toBe(false)
  })

  it('a generation is 16 random bytes as 22 base64url characters', () => {
    const g = newGeneration()
    expect(g).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(Buffer.from(g, 'base64url').length).toBe(16)
    expect(g).not.toBe(newGeneration())
  })

  it('a part salt is 32 random bytes', () => {
    expect(newPartSalt().length).toBe(32)
    expect(newPartSalt().equals(newPartSalt())).toBe(false)
  })
})

describe('sealObjectKey / unsealObjectKey', () => {
  const ek = randomBytes(32)

  it('a sealed key opens with the same key and binding', () => {
    const oek = generateObjectKey()
    const sealed = sealObjectKey(ek, binding, oek)
    expect(Buffer.from(sealed.sealIV, 'base64').length).toBe(32)
    expect(Buffer.from(sealed.nonce, 'base64').length).toBe(12)
    expect(Buffer.from(sealed.ciphertext, 'base64').length).toBe(48)
    expect(unsealObjectKey(ek, binding, sealed).equals(oek)).toBe(true)
  })

  it('sealing the same key twice gives different sealed keys (fresh sealIV and nonce)', () => {
    const oek = generateObjectKey()
    expect(sealObjectKey(ek, binding, oek)).not.toEqual(sealObjectKey(ek, binding, oek))
  })

  const moves: [string, Partial<SealBinding>][] = [
    ['another bucket', { bucket: 'bucket-b' }],
    ['another key', { key: 'dir/object.txt2' }],
    ['another generation', { generation: newGeneration() }],
    ['another mode', { mode: 'SSE-KMS' }],
    ['a bucket/key boundary shifted by one character', { bucket: 'bucket-ad', key: 'ir/object.txt' }],
  ]
  for (const [name, change] of moves) {
    it(`a sealed key moved to ${name} fails with tampered`, () => {
      const sealed = sealObjectKey(ek, binding, generateObjectKey())
      expectCryptoError(() => unsealObjectKey(ek, { ...binding, ...change }, sealed), 'tampered')
    })
  }

  it('Precondition: the bucket name contains no NUL', () => {
    expect(() => sealObjectKey(ek, { ...binding, bucket: 'bucket-a\0dir' }, generateObjectKey())).toThrow(
      AssertionError,
    )
  })

  it('a key containing NUL bytes is bound as a whole (mode, bucket, generation delimit it)', () => {
    const nulKey = { ...binding, key: 'a\u0000b' }
    const sealed = sealObjectKey(ek, nulKey, generateObjectKey())
    expectCryptoError(() => unsealObjectKey(ek, { ...binding, key: 'a' }, sealed), 'tampered')
    expect(deriveKek(ek, nulKey, randomBytes(32)).length).toBe(32)
  })

  it('a sealed key opened with another EK fails with tampered outside SSE-C', () => {
    const sealed = sealObjectKey(ek, binding, generateObjectKey())
    expectCryptoError(() => unsealObjectKey(randomBytes(32), binding, sealed), 'tampered')
  })

  it('an SSE-C sealed key opened with another customer key fails with wrong-key', () => {
    const ssec = { ...binding, mode: 'SSE-C' as const }
    const sealed = sealObjectKey(ek, ssec, generateObjectKey())
    expectCryptoError(() => unsealObjectKey(randomBytes(32), ssec, sealed), 'wrong-key')
  })

  const damage: [string, (s: SealedKey) => SealedKey][] = [
    ['a flipped ciphertext byte', (s) => ({ ...s, ciphertext: flipBase64(s.ciphertext, 3) })],
    ['a flipped tag byte', (s) => ({ ...s, ciphertext: flipBase64(s.ciphertext, 40) })],
    ['a flipped nonce byte', (s) => ({ ...s, nonce: flipBase64(s.nonce, 0) })],
    ['a flipped sealIV byte', (s) => ({ ...s, sealIV: flipBase64(s.sealIV, 31) })],
    [
      'a short ciphertext',
      (s) => ({ ...s, ciphertext: Buffer.from(s.ciphertext, 'base64').subarray(0, 47).toString('base64') }),
    ],
    ['a missing nonce', (s) => ({ ...s, nonce: '' })],
  ]
  for (const [name, change] of damage) {
    it(`a sealed key with ${name} fails with tampered`, () => {
      const sealed = change(sealObjectKey(ek, binding, generateObjectKey()))
      expectCryptoError(() => unsealObjectKey(ek, binding, sealed), 'tampered')
    })
  }

  it('Precondition: the external key is 32 bytes', () => {
    expect(() => sealObjectKey(randomBytes(16), binding, generateObjectKey())).toThrow(AssertionError)
  })

  it('Precondition: the generation is non-empty and contains no NUL', () => {
    expect(() => sealObjectKey(ek, { ...binding, generation: '' }, generateObjectKey())).toThrow(AssertionError)
    expect(() => sealObjectKey(ek, { ...binding, generation: 'a\0' }, generateObjectKey())).toThrow(AssertionError)
  })

  it('Precondition: the object key is well-formed Unicode', () => {
    expect(() => sealObjectKey(ek, { ...binding, key: 'bad\uD800' }, generateObjectKey())).toThrow(AssertionError)
  })

  it('error messages never contain key material', () => {
    const oek = generateObjectKey()
    const sealed = sealObjectKey(ek, { ...binding, mode: 'SSE-C' }, oek)
    const wrong = randomBytes(32)
    let thrown: unknown
    try {
      unsealObjectKey(wrong, { ...binding, mode: 'SSE-C' }, sealed)
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(CryptoError)
    const text = `${String(thrown)} ${JSON.stringify(thrown)} ${(thrown as Error).stack} ${String((thrown as Error).cause)}`
    for (const secret of [ek, oek, wrong]) {
      expect(text).not.toContain(secret.toString('hex'))
      expect(text).not.toContain(secret.toString('base64'))
    }
  })
})

describe('derivePartKey', () => {
  const oek = generateObjectKey()
  const salt = newPartSalt()

  it('part keys differ by part number, salt and object key', () => {
    const pk = derivePartKey(oek, 1, salt)
    expect(pk.length).toBe(32)
    expect(derivePartKey(oek, 1, salt).equals(pk)).toBe(true)
    expect(derivePartKey(oek, 2, salt).equals(pk)).toBe(false)
    expect(derivePartKey(oek, 1, newPartSalt()).equals(pk)).toBe(false)
    expect(derivePartKey(generateObjectKey(), 1, salt).equals(pk)).toBe(false)
  })

  it('Precondition: part numbers are 1..10000', () => {
    for (const bad of [0, 10001, 1.5, -1, Number.NaN]) {
      expect(() => derivePartKey(oek, bad, salt)).toThrow(AssertionError)
    }
    expect(derivePartKey(oek, 10000, salt).length).toBe(32)
  })

  it('Precondition: the part salt is 32 bytes', () => {
    expect(() => derivePartKey(oek, 1, salt.subarray(0, 31))).toThrow(AssertionError)
  })
})

describe('SSE-S3 mode', () => {
  const at = { bucket: 'photos', key: 'cat.jpg' }

  it('sealForSseS3 seals under the active root key and openSseS3 opens it', () => {
    const keyring = fakeKeyring()
    const { oek, record } = sealForSseS3(keyring, at)
    expect(record).toMatchObject({
      format: 'SR1',
      mode: 'SSE-S3',
      rootKeyVersion: 2,
      binding: { mode: 'SSE-S3', ...at },
    })
    expect(record.binding.generation).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(openSseS3(keyring, record, at).equals(oek)).toBe(true)
  })

  it('a caller-chosen generation is used as given', () => {
    const { record } = sealForSseS3(fakeKeyring(), { ...at, generation: 'upload-123' })
    expect(record.binding.generation).toBe('upload-123')
  })

  it('a record read from another bucket or key fails with tampered, whatever the record names', () => {
    const keyring = fakeKeyring()
    const { record } = sealForSseS3(keyring, at)
    expectCryptoError(() => openSseS3(keyring, record, { ...at, key: 'dog.jpg' }), 'tampered')
    expectCryptoError(() => openSseS3(keyring, record, { ...at, bucket: 'other' }), 'tampered')
    const relabelled = { ...record, binding: { ...record.binding, key: 'dog.jpg' } }
    expectCryptoError(() => openSseS3(keyring, relabelled, { ...at, key: 'dog.jpg' }), 'tampered')
  })

  it('a record naming an absent root key version fails with missing-root-key', () => {
    const keyring = fakeKeyring()
    const { record } = sealForSseS3(keyring, at)
    expectCryptoError(() => openSseS3(keyring, { ...record, rootKeyVersion: 9 }, at), 'missing-root-key')
    expectCryptoError(() => openSseS3(keyring, { ...record, rootKeyVersion: 1 }, at), 'tampered')
    expectCryptoError(
      () => openSseS3(keyring, { ...record, rootKeyVersion: undefined } as unknown as EncryptionRecord, at),
      'tampered',
    )
  })

  it('a record of another format fails with unsupported-format', () => {
    const keyring = fakeKeyring()
    const { record } = sealForSseS3(keyring, at)
    const sr3 = { ...record, format: 'SR3' } as unknown as EncryptionRecord
    expectCryptoError(() => openSseS3(keyring, sr3, at), 'unsupported-format')
    // An SR1 record relabelled SR2 (or the reverse) does not open: the seal labels differ.
    const sr2 = { ...record, format: 'SR2' } as unknown as EncryptionRecord
    expectCryptoError(() => openSseS3(keyring, sr2, { ...at, versionId: 'a'.repeat(32) }), 'tampered')
    const v2 = sealForSseS3(keyring, { ...at, versionId: 'a'.repeat(32) }).record
    expect(v2.format).toBe('SR2')
    expect(() => openSseS3(keyring, v2, { ...at, versionId: 'a'.repeat(32) })).not.toThrow()
    expectCryptoError(() => openSseS3(keyring, v2, { ...at, versionId: 'b'.repeat(32) }), 'tampered')
    expectCryptoError(() => openSseS3(keyring, { ...v2, format: 'SR1' }, at), 'tampered')
  })

  it('an SSE-C record cannot be opened as SSE-S3 with the same key bytes', () => {
    const keyring = fakeKeyring()
    const { record } = sealForSseC(keyring.get(2), at)
    expectCryptoError(() => openSseS3(keyring, { ...record, mode: 'SSE-S3', rootKeyVersion: 2 }, at), 'tampered')
  })
})

describe('SSE-C mode', () => {
  const at = { bucket: 'vault', key: 'secret.bin' }
  const customerKey = randomBytes(32)

  it('sealForSseC / openSseC round-trip with the customer key, storing nothing derived from it alone', () => {
    const { oek, record } = sealForSseC(customerKey, at)
    expect(record.mode).toBe('SSE-C')
    expect(record.rootKeyVersion).toBeUndefined()
    expect(Object.keys(record).sort()).toEqual(['binding', 'format', 'mode', 'sealed'])
    expect(openSseC(customerKey, record, at).equals(oek)).toBe(true)
  })

  it('openSseC with the wrong customer key fails with wrong-key', () => {
    const { record } = sealForSseC(customerKey, at)
    expectCryptoError(() => openSseC(randomBytes(32), record, at), 'wrong-key')
  })

  it('an SSE-C record moved to another key fails', () => {
    const { record } = sealForSseC(customerKey, at)
    expectCryptoError(() => openSseC(customerKey, record, { ...at, key: 'copy.bin' }), 'wrong-key')
  })

  it('Precondition: the SSE-C customer key is 32 bytes', () => {
    expect(() => sealForSseC(randomBytes(31), at)).toThrow(AssertionError)
  })
})
