/** @module Tests of SR1 chunked encryption: round trips, piece delivery, tamper detection. */
import { AssertionError } from 'node:assert'
import { randomBytes } from 'node:crypto'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import { ciphertextSize, decryptPart, encryptPart } from '../../../crypto/aead-stream.js'
import { CHUNK_PLAIN, CHUNK_STORED } from '../../../crypto/format.js'
import {
  KiB,
  MiB,
  collect,
  encrypt,
  expectTampered,
  inPieces,
  randomPartKey,
  randomSizes,
  runCollecting,
} from './helpers.js'

const SIZES = [0, 1, 65535, 65536, 65537, 131072, 3 * MiB + 17]

async function decrypt(
  pk: ReturnType<typeof randomPartKey>,
  stored: Uint8Array,
  plainSize: number,
  nextSize?: () => number,
) {
  return collect(decryptPart(pk, { plainSize })(inPieces(stored, nextSize)))
}

describe('encryptPart / decryptPart round trips', () => {
  for (const size of SIZES) {
    it(`a ${size}-byte part round-trips and stores ciphertextSize(${size}) bytes`, async () => {
      const pk = randomPartKey()
      const plain = randomBytes(size)
      const stored = await encrypt(pk, plain)
      expect(stored.length).toBe(ciphertextSize(size))
      expect((await decrypt(pk, stored, size)).equals(plain)).toBe(true)
    })
  }

  it('an empty part is exactly one final chunk of 16 bytes', async () => {
    const stored = await encrypt(randomPartKey(), Buffer.alloc(0))
    expect(stored.length).toBe(16)
  })

  it('a part of exactly 64 KiB is one full final chunk, with no empty chunk after it', async () => {
    const pk = randomPartKey()
    const chunks: Buffer[] = []
    for await (const c of encryptPart(pk)(inPieces(randomBytes(CHUNK_PLAIN)))) chunks.push(c)
    expect(chunks.map((c) => c.length)).toEqual([CHUNK_STORED])
  })

  it('the encryptor yields one Buffer per chunk: ciphertext and tag together', async () => {
    const chunks: Buffer[] = []
    for await (const c of encryptPart(randomPartKey())(inPieces(randomBytes(2 * CHUNK_PLAIN + 5), randomSizes(1000)))) {
      chunks.push(c)
    }
    expect(chunks.map((c) => c.length)).toEqual([CHUNK_STORED, CHUNK_STORED, 5 + 16])
  })

  for (const [name, nextSize] of [
    ['1-byte', () => 1],
    ['7-byte', () => 7],
    ['odd random (1..1000 bytes)', randomSizes(1000)],
    ['odd random (1..200 KiB)', randomSizes(200 * KiB)],
  ] as const) {
    it(`input and stored data delivered in ${name} pieces give the same result`, async () => {
      const pk = randomPartKey()
      // 1-byte pieces are slow per byte: keep that case a little over two chunks.
      const size = name === '1-byte' ? 2 * CHUNK_PLAIN + 3 : 3 * MiB + 17
      const plain = randomBytes(size)
      const reference = await encrypt(pk, plain)
      expect((await encrypt(pk, plain, nextSize)).equals(reference)).toBe(true)
      expect((await decrypt(pk, reference, size, nextSize)).equals(plain)).toBe(true)
    })
  }

  it('empty pieces in the source are ignored', async () => {
    const pk = randomPartKey()
    const plain = randomBytes(70_000)
    async function* withEmpties() {
      yield new Uint8Array(0)
      yield plain.subarray(0, 30_000)
      yield new Uint8Array(0)
      yield plain.subarray(30_000)
      yield new Uint8Array(0)
    }
    expect((await collect(encryptPart(pk)(withEmpties()))).equals(await encrypt(pk, plain))).toBe(true)
  })

  it('works inside stream.pipeline and with Readable.from', async () => {
    const pk = randomPartKey()
    const plain = randomBytes(200_000)
    const stored: Buffer[] = []
    await pipeline(
      Readable.from(inPieces(plain, () => 4096)),
      encryptPart(pk),
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          stored.push(chunk)
          cb()
        },
      }),
    )
    const out = await collect(Readable.from(decryptPart(pk, { plainSize: plain.length })(Readable.from(stored))))
    expect(out.equals(plain)).toBe(true)
  })

  it('the same plaintext under another part key gives other ciphertext', async () => {
    const plain = randomBytes(100)
    expect((await encrypt(randomPartKey(), plain)).equals(await encrypt(randomPartKey(), plain))).toBe(false)
  })

  it('Precondition: the chunks asked for exist in the part', () => {
    expect(() => decryptPart(randomPartKey(), { plainSize: 10, firstChunk: 1 })).toThrow(AssertionError)
    expect(() => decryptPart(randomPartKey(), { plainSize: CHUNK_PLAIN + 1, firstChunk: 1, lastChunk: 0 })).toThrow(
      AssertionError,
    )
  })

  it('Precondition: the source yields bytes', async () => {
    const strings = (async function* () {
      yield 'text'
    })() as unknown as AsyncIterable<Uint8Array>
    await expect(collect(encryptPart(randomPartKey())(strings))).rejects.toThrow(TypeError)
  })
})

describe('decryptPart tamper detection', () => {
  // Four chunks: three full, one of 1000 bytes.
  const size = 3 * CHUNK_PLAIN + 1000
  const pk = randomPartKey()
  const plain = randomBytes(size)
  const storedP = encrypt(pk, plain)
  const chunkAt = (i: number) => i * CHUNK_STORED

  it('a flipped byte in a tag fails, and only the chunks before it are released', async () => {
    const stored = Buffer.from(await storedP)
    stored[chunkAt(2) - 1] ^= 0x80 // last tag byte of chunk 1
    expect(await expectTampered(pk, plain, stored)).toBe(CHUNK_PLAIN)
  })

  it('a flipped byte in ciphertext fails, and only the chunks before it are released', async () => {
    const stored = Buffer.from(await storedP)
    stored[chunkAt(2) + 12345] ^= 0x01
    expect(await expectTampered(pk, plain, stored)).toBe(2 * CHUNK_PLAIN)
  })

  it('a flipped byte in the first chunk fails before any plaintext is released', async () => {
    const stored = Buffer.from(await storedP)
    stored[0] ^= 0x01
    expect(await expectTampered(pk, plain, stored)).toBe(0)
  })

  it('two swapped chunks fail', async () => {
    const s = await storedP
    const swapped = Buffer.concat([
      s.subarray(chunkAt(1), chunkAt(2)),
      s.subarray(0, chunkAt(1)),
      s.subarray(chunkAt(2)),
    ])
    expect(await expectTampered(pk, plain, swapped)).toBe(0)
  })

  it('dropping the last chunk fails (the source ends before the final chunk)', async () => {
    const s = await storedP
    await expectTampered(pk, plain, s.subarray(0, chunkAt(3)))
  })

  it('dropping the last chunk fails even when the plaintext size is adjusted to match (final flag)', async () => {
    const s = await storedP
    expect(await expectTampered(pk, plain, s.subarray(0, chunkAt(3)), 3 * CHUNK_PLAIN)).toBe(2 * CHUNK_PLAIN)
  })

  it('a cut in the middle of a chunk fails', async () => {
    const s = await storedP
    await expectTampered(pk, plain, s.subarray(0, chunkAt(2) + 100))
    await expectTampered(pk, plain, s.subarray(0, s.length - 1))
  })

  it('an appended chunk fails', async () => {
    const s = await storedP
    await expectTampered(pk, plain, Buffer.concat([s, s.subarray(chunkAt(1), chunkAt(2))]))
  })

  it('extra bytes after the final chunk fail', async () => {
    const s = await storedP
    await expectTampered(pk, plain, Buffer.concat([s, Buffer.of(0)]))
  })

  it('an extended part fails even when the plaintext size is adjusted to match (final flag)', async () => {
    const s = await storedP
    const other = await encrypt(pk, randomBytes(500))
    const grown = Buffer.concat([s, other])
    await expectTampered(pk, Buffer.concat([plain, randomBytes(500)]), grown, size + 500)
  })

  it('a chunk spliced in from another part at the same index fails', async () => {
    const s = Buffer.from(await storedP)
    const foreign = await encrypt(randomPartKey(), randomBytes(size))
    foreign.copy(s, chunkAt(1), chunkAt(1), chunkAt(2))
    expect(await expectTampered(pk, plain, s)).toBe(CHUNK_PLAIN)
  })

  it('a damaged empty part fails', async () => {
    const s = Buffer.from(await encrypt(pk, Buffer.alloc(0)))
    s[5] ^= 0x01
    await expectTampered(pk, Buffer.alloc(0), s)
    await expectTampered(pk, Buffer.alloc(0), Buffer.alloc(0))
  })

  it('decrypting with the wrong part key fails before any plaintext is released', async () => {
    const { yielded, error } = await runCollecting(decryptPart(randomPartKey(), { plainSize: size }), await storedP)
    expect(yielded).toEqual([])
    expect(error).toMatchObject({ name: 'CryptoError', reason: 'tampered' })
  })
})
