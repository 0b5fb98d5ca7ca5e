/** @module The test vectors of crypto/README.md §8, hard-coded here exactly as printed there. */
import { createHash, createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { decryptPart } from '../../../crypto/aead-stream.js'
import { deriveKek, derivePartKey, unsealObjectKey } from '../../../crypto/keys.js'
import { manifestInput } from '../../../crypto/manifest.js'
import type { ObjectKey, SealBinding, SealedKey } from '../../../crypto/types.js'
import { byteRange, collect, encrypt, inPieces } from './helpers.js'

const EK = byteRange(0x00, 0x20)
const SEAL_IV = byteRange(0x20, 0x40)
const NONCE = byteRange(0x40, 0x4c)
const OEK = byteRange(0x60, 0x80) as ObjectKey
const PART_SALT = byteRange(0x80, 0xa0)
const BINDING: SealBinding = {
  mode: 'SSE-S3',
  bucket: 'example-bucket',
  key: 'photos/2026/café ☕.jpg',
  generation: 'AAECAwQFBgcICQoLDA0ODw',
}
const KEK = '5f28ea462a53b88cfa4646f335ab6b6274f06750179aea594cc00396018c9d72'
const SEALED_OEK =
  '87a26ac34078ee81a5b54f0b171eee9f7d716e3acef9c3dd534800382670cdd9' + '3b368968d44eb8f95dd71be94f06709c'
const SEALED: SealedKey = {
  sealIV: 'ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=',
  nonce: 'QEFCQ0RFRkdISUpL',
  ciphertext: 'h6Jqw0B47oGltU8LFx7un31xbjrO+cPdU0gAOCZwzdk7Nolo1E64+V3XG+lPBnCc',
}
const PK = '64b0b993328fed29c5da8e39200406d425b5049e0e2eef4e003f3fd2400a1b5e'
const partKey = () => derivePartKey(OEK, 7, PART_SALT)

describe('README test vectors', () => {
  it('the vector generation is base64url of bytes 00..0f', () => {
    expect(byteRange(0, 16).toString('base64url')).toBe(BINDING.generation)
  })

  it('the KEK derivation input is laid out byte for byte as the README prints it', () => {
    const input = Buffer.concat([
      Buffer.from(
        '7374726f6e67726f6f6d2f7365616c2f7631' + '5353452d5333' + '00' + '6578616d706c652d6275636b6574' + '00',
        'hex',
      ),
      Buffer.from('70686f746f732f323032362f636166c3a920e298952e6a7067' + '00', 'hex'),
      Buffer.from('41414543417751464267634943516f4c4441304f4477', 'hex'),
      SEAL_IV,
    ])
    expect(input.subarray(0, 18).toString()).toBe('strongroom/seal/v1')
    // HMAC over the printed bytes, bypassing deriveKek's encoding: both must give the vector KEK.
    expect(createHmac('sha256', EK).update(input).digest('hex')).toBe(KEK)
  })

  it('the KEK of the seal vector matches', () => {
    expect(deriveKek(EK, BINDING, SEAL_IV).toString('hex')).toBe(KEK)
  })

  it('the sealed OEK of the seal vector opens to the vector OEK', () => {
    expect(Buffer.from(SEALED.sealIV, 'base64').equals(SEAL_IV)).toBe(true)
    expect(Buffer.from(SEALED.nonce, 'base64').equals(NONCE)).toBe(true)
    expect(Buffer.from(SEALED.ciphertext, 'base64').toString('hex')).toBe(SEALED_OEK)
    // AES-GCM is deterministic for a fixed key and nonce: a verified open of exactly this
    // ciphertext means sealing OEK under the vector KEK and nonce produces exactly these bytes.
    expect(unsealObjectKey(EK, BINDING, SEALED).equals(OEK)).toBe(true)
  })

  it('the part key vector matches', () => {
    expect(partKey().toString('hex')).toBe(PK)
  })

  it('the short chunk vector matches and decrypts', async () => {
    const plain = Buffer.from('strongroom SR1 test vector\n')
    const stored = await encrypt(partKey(), plain)
    expect(stored.toString('hex')).toBe(
      'ae0f23fd42cf65895f43a13a1614ec9790da9e4238ffd4dd5e4367' + '3e8c27009ae8f0b75ba516bdcfa99781',
    )
    expect((await collect(decryptPart(partKey(), { plainSize: plain.length })(inPieces(stored)))).equals(plain)).toBe(
      true,
    )
  })

  it('the empty part vector is one 16-byte chunk', async () => {
    expect((await encrypt(partKey(), Buffer.alloc(0))).toString('hex')).toBe('201ea076593999bdf707718c77665cf7')
  })

  it('the two-chunk vector matches (a non-final full chunk, then a final 1-byte chunk)', async () => {
    const plain = Buffer.from(Array.from({ length: 65537 }, (_, i) => i % 251))
    const stored = await encrypt(partKey(), plain)
    expect(stored.length).toBe(65569)
    expect(createHash('sha256').update(stored).digest('hex')).toBe(
      '2c339cfb49698d4f71a37031ae7863bc1b2256488a097ac04464c8918ad3b81d',
    )
    expect(stored.subarray(65536, 65552).toString('hex')).toBe('a0f7980cf7d227d3244d563af9363b82')
    expect(stored.subarray(65552).toString('hex')).toBe('623ec80d416f7c45d9a8722cfc4bd28a03')
  })
})

describe('README test vectors, format SR2 (§11)', () => {
  const VERSION_ID = '0123456789abcdef0123456789abcdef'
  const V2: SealBinding = { ...BINDING, versionId: VERSION_ID }
  const at = { bucket: BINDING.bucket, key: BINDING.key, versionId: VERSION_ID }
  const parts = [
    { partNumber: 1, size: 65537, salt: byteRange(0x80, 0xa0).toString('base64') },
    { partNumber: 3, size: 0, salt: byteRange(0xa0, 0xc0).toString('base64') },
  ]

  it('the SR2 KEK binds the version id; the sealed OEK opens only there', () => {
    const kek = deriveKek(EK, V2, SEAL_IV)
    expect(kek.toString('hex')).toBe('ec49293a7a36f07e1c4e7a84451bb1adee26ba05e5acd720320f18138fa952eb')
    const sealed: SealedKey = {
      sealIV: SEALED.sealIV,
      nonce: SEALED.nonce,
      ciphertext: 'P3+SyjgNXJmIvdC6z44tvtdiC0bZdSKKd1Glqz2SN8w2B5hINxDjsMeYSWzikiWa',
    }
    expect(Buffer.from(sealed.ciphertext, 'base64').toString('hex')).toBe(
      '3f7f92ca380d5c9988bdd0bacf8e2dbed7620b46d975228a7751a5ab3d9237cc' + '360798483710e3b0c798496ce292259a',
    )
    expect(unsealObjectKey(EK, V2, sealed).equals(OEK)).toBe(true)
    expect(() => unsealObjectKey(EK, { ...V2, versionId: 'f'.repeat(32) }, sealed)).toThrow()
    expect(() => unsealObjectKey(EK, BINDING, sealed)).toThrow()
  })

  it('the placement tag input and tag are as the README prints them', () => {
    const input = manifestInput({ mode: 'SSE-S3', binding: V2 }, at, parts)
    expect(input.toString('hex')).toBe(
      '7374726f6e67726f6f6d2f6d616e69666573742f7632' +
        '00000006' +
        '5353452d5333' +
        '0000000e' +
        '6578616d706c652d6275636b6574' +
        '00000019' +
        '70686f746f732f323032362f636166c3a920e298952e6a7067' +
        '00000020' +
        Buffer.from(VERSION_ID).toString('hex') +
        '00000016' +
        '41414543417751464267634943516f4c4441304f4477' +
        '00000002' +
        '00000001' +
        '0000000000010001' +
        byteRange(0x80, 0xa0).toString('hex') +
        '00000003' +
        '0000000000000000' +
        byteRange(0xa0, 0xc0).toString('hex'),
    )
    expect(createHmac('sha256', EK).update(input).digest('hex')).toBe(
      '15c8f6f1187a5037439d29b2477614ffa3344a08c24bf4675264cdbbf45191bc',
    )
  })
})
