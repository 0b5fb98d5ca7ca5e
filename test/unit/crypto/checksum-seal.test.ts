/** @module Sealed checksums (crypto/README.md §10): the test vector as printed there, binding, tampering. */
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { checksumAad, openChecksum, sealChecksum, type ChecksumPlace } from '../../../crypto/checksum-seal.js'
import { CryptoError } from '../../../crypto/errors.js'
import type { ObjectKey } from '../../../crypto/types.js'
import { byteRange } from './helpers.js'

const OEK = byteRange(0x60, 0x80) as ObjectKey
const PLACE: ChecksumPlace = { bucket: 'example-bucket', key: 'photos/2026/café ☕.jpg', algorithm: 'SHA256', slot: 3 }
const VALUE = 'MUCIYOdKF1o8QBYgZ0mW6FOF78FxwXtp2kkZJxDejNM='
const CK = 'e0f176439a79d79a85b5e28bbae2c561a63efc2f9765490afd39429fbde62848'
const AAD =
  '7374726f6e67726f6f6d2f636865636b73756d2f7631' +
  '00000003' +
  '534841323536' +
  '00' +
  '6578616d706c652d6275636b6574' +
  '00' +
  '70686f746f732f323032362f636166c3a920e298952e6a7067'
const SEALED = 'oKGio6SlpqeoqaqrCDcXT6D6tts4msjHSYMvjSYI2X7Ie8O5doIvR83818AKsoYKmlzbGSS69G/NcXJzv+OpzeGSEbBKYwdG'

function expectTampered(fn: () => unknown): void {
  let caught: unknown
  try {
    fn()
  } catch (err) {
    caught = err
  }
  expect(caught).toBeInstanceOf(CryptoError)
  expect((caught as CryptoError).reason).toBe('tampered')
}

describe('sealed checksums: README §10 test vector', () => {
  it('the value is the base64 SHA-256 of the §8 plaintext', () => {
    expect(createHash('sha256').update('strongroom SR1 test vector\n').digest('base64')).toBe(VALUE)
  })

  it('CK is HMAC(OEK, "strongroom/checksum/v1")', () => {
    expect(createHmac('sha256', OEK).update('strongroom/checksum/v1').digest('hex')).toBe(CK)
  })

  it('the AAD is laid out byte for byte as the README prints it', () => {
    expect(checksumAad(PLACE).toString('hex')).toBe(AAD)
  })

  it('the printed sealed value opens to the value, and starts with the printed nonce', () => {
    expect(openChecksum(OEK, PLACE, SEALED)).toBe(VALUE)
    expect(Buffer.from(SEALED, 'base64').subarray(0, 12)).toEqual(byteRange(0xa0, 0xac))
    expect(Buffer.from(SEALED, 'base64')).toHaveLength(12 + VALUE.length + 16)
  })
})

describe('sealed checksums: binding and tampering', () => {
  const oek = randomBytes(32) as ObjectKey
  const place: ChecksumPlace = { bucket: 'b', key: 'k\0with nul', algorithm: 'CRC64NVME', slot: 0 }

  it('round-trips every slot and COMPOSITE values, with a fresh nonce each time', () => {
    for (const slot of [0, 1, 10000]) {
      for (const value of ['AAAAAAAAAAA=', 'q1w2e3r4-10000', '']) {
        const a = sealChecksum(oek, { ...place, slot }, value)
        const b = sealChecksum(oek, { ...place, slot }, value)
        expect(a).not.toBe(b)
        expect(openChecksum(oek, { ...place, slot }, a)).toBe(value)
      }
    }
  })

  it('a sealed checksum moved to another slot, algorithm, bucket or key, or under another object key, does not open', () => {
    const sealed = sealChecksum(oek, place, 'AAAAAAAAAAA=')
    expectTampered(() => openChecksum(oek, { ...place, slot: 1 }, sealed))
    expectTampered(() => openChecksum(oek, { ...place, algorithm: 'CRC32' }, sealed))
    expectTampered(() => openChecksum(oek, { ...place, bucket: 'c' }, sealed))
    expectTampered(() => openChecksum(oek, { ...place, key: 'k' }, sealed))
    expectTampered(() => openChecksum(randomBytes(32) as ObjectKey, place, sealed))
  })

  it('any flipped byte, truncation or garbage is tampered', () => {
    const bytes = Buffer.from(sealChecksum(oek, place, 'AAAAAAAAAAA='), 'base64')
    for (let i = 0; i < bytes.length; i++) {
      const flipped = Buffer.from(bytes)
      flipped[i] ^= 0x01
      expectTampered(() => openChecksum(oek, place, flipped.toString('base64')))
    }
    expectTampered(() => openChecksum(oek, place, bytes.subarray(0, 27).toString('base64')))
    expectTampered(() => openChecksum(oek, place, bytes.subarray(0, bytes.length - 1).toString('base64')))
    expectTampered(() => openChecksum(oek, place, ''))
    expectTampered(() => openChecksum(oek, place, undefined as unknown as string))
  })

  it('Precondition: the slot is 0..10000, algorithm and bucket contain no NUL, the key is well-formed Unicode', () => {
    for (const bad of [
      { slot: -1 },
      { slot: 10001 },
      { slot: 1.5 },
      { algorithm: '' },
      { algorithm: 'A\0' },
      { bucket: 'a\0b' },
      { key: '\uD800' },
    ]) {
      expect(() => sealChecksum(oek, { ...place, ...bad }, 'x')).toThrow(/Precondition/)
    }
  })
})
