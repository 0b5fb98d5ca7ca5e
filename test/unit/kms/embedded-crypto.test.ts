/**
 * @module Unit tests of the embedded KMS's cryptographic operations, CiphertextBlob format and
 * tamper/context cases, and key material sealed by the root keyring (docs/s3-sse-rules.md §6.3–§6.5).
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { CryptoError } from '../../../crypto/errors.js'
import { openBlob, readBlobHeader, sealBlob } from '../../../kms/embedded/blob.js'
import { BLOB_HEADER_SIZE } from '../../../kms/embedded/format.js'
import { newSealedMaterial, openMaterial, sealMaterial } from '../../../kms/embedded/material.js'
import { EmbeddedKms } from '../../../kms/embedded/service.js'
import { canonicalContext } from '../../../kms/types.js'
import { ACCOUNT, FakeKeyring, REGION, arn, expectFault, harness } from './helpers.js'

async function withKey() {
  const h = await harness()
  const m = (await h.kms.createKey({})).KeyMetadata
  return Object.assign(h, { m })
}

describe('EmbeddedKms Encrypt/Decrypt (KAPI-10..15, 35)', () => {
  it('KAPI-10 Encrypt answers a CiphertextBlob, KeyId = key ARN, EncryptionAlgorithm SYMMETRIC_DEFAULT', async () => {
    const { kms, m } = await withKey()
    await kms.createAlias({ AliasName: 'alias/enc', TargetKeyId: m.KeyId })
    const out = await kms.encrypt({ KeyId: 'alias/enc', Plaintext: Buffer.from('hello') })
    expect(out.KeyId).toBe(m.Arn)
    expect(out.EncryptionAlgorithm).toBe('SYMMETRIC_DEFAULT')
    expect(out.CiphertextBlob.length).toBe(BLOB_HEADER_SIZE + 5 + 16)
    expect(readBlobHeader(out.CiphertextBlob)).toEqual({ keyId: m.KeyId, materialVersion: 1 })
  })

  it('KAPI-11 Decrypt without KeyId returns the plaintext and the key ARN (the key comes from the blob)', async () => {
    const { kms, m } = await withKey()
    const ctx = { department: 'finance' }
    const { CiphertextBlob } = await kms.encrypt({
      KeyId: m.KeyId,
      Plaintext: Buffer.from('secret'),
      EncryptionContext: ctx,
    })
    const out = await kms.decrypt({ CiphertextBlob, EncryptionContext: { department: 'finance' } })
    expect(out).toEqual({ KeyId: m.Arn, Plaintext: Buffer.from('secret'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' })
    expect((await kms.decrypt({ CiphertextBlob, KeyId: m.Arn, EncryptionContext: ctx })).Plaintext.toString()).toBe(
      'secret',
    )
  })

  it('KAPI-12 Decrypt with a missing, extra or different context pair is InvalidCiphertextException with an empty message', async () => {
    const { kms, m } = await withKey()
    const ctx = { a: '1', b: '2' }
    const { CiphertextBlob } = await kms.encrypt({
      KeyId: m.KeyId,
      Plaintext: Buffer.from('x'),
      EncryptionContext: ctx,
    })
    const wrongs: Array<Record<string, string> | undefined> = [
      undefined,
      {},
      { a: '1' },
      { a: '1', b: '2', c: '3' },
      { a: '1', b: '3' },
      { A: '1', b: '2' },
    ]
    for (const wrong of wrongs) {
      await expectFault(kms.decrypt({ CiphertextBlob, EncryptionContext: wrong }), 'InvalidCiphertextException', '')
    }
    // Order-insensitive (§6.4).
    expect((await kms.decrypt({ CiphertextBlob, EncryptionContext: { b: '2', a: '1' } })).Plaintext.toString()).toBe(
      'x',
    )
  })

  it('an empty context is the same as none (§6.4)', async () => {
    const { kms, m } = await withKey()
    const { CiphertextBlob } = await kms.encrypt({ KeyId: m.KeyId, Plaintext: Buffer.from('x'), EncryptionContext: {} })
    expect((await kms.decrypt({ CiphertextBlob })).Plaintext.toString()).toBe('x')
  })

  it('KAPI-13 Decrypt of random bytes (short or long) is InvalidCiphertextException', async () => {
    const { kms } = await withKey()
    for (const n of [1, 20, 100, 6144]) {
      await expectFault(kms.decrypt({ CiphertextBlob: randomBytes(n) }), 'InvalidCiphertextException', '')
    }
    await expectFault(
      kms.decrypt({ CiphertextBlob: randomBytes(6145) }),
      'ValidationException',
      /less than or equal to 6144/,
    )
    await expectFault(
      kms.decrypt({}),
      'ValidationException',
      "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null",
    )
  })

  it('every single-byte change of a blob (header, body, tag) and every truncation is InvalidCiphertextException', async () => {
    const { kms, m } = await withKey()
    const { CiphertextBlob } = await kms.encrypt({
      KeyId: m.KeyId,
      Plaintext: Buffer.from('tamper me'),
      EncryptionContext: { k: 'v' },
    })
    for (let i = 0; i < CiphertextBlob.length; i++) {
      const bad = Buffer.from(CiphertextBlob)
      bad[i] ^= 0x01
      const err = await expectFault(
        kms.decrypt({ CiphertextBlob: bad, EncryptionContext: { k: 'v' } }),
        'InvalidCiphertextException',
      )
      expect(err.kmsMessage).toBe('')
    }
    for (const len of [CiphertextBlob.length - 1, BLOB_HEADER_SIZE + 16, BLOB_HEADER_SIZE]) {
      await expectFault(
        kms.decrypt({ CiphertextBlob: CiphertextBlob.subarray(0, len), EncryptionContext: { k: 'v' } }),
        'InvalidCiphertextException',
      )
    }
  })

  it('a blob re-labelled to another key or material version does not open (header is in the AAD)', async () => {
    const { kms, m } = await withKey()
    const other = (await kms.createKey({})).KeyMetadata
    const { CiphertextBlob } = await kms.encrypt({ KeyId: m.KeyId, Plaintext: Buffer.from('x') })
    const relabelled = Buffer.from(CiphertextBlob)
    Buffer.from(other.KeyId.replace(/-/g, ''), 'hex').copy(relabelled, 4)
    await expectFault(kms.decrypt({ CiphertextBlob: relabelled }), 'InvalidCiphertextException')
    const foreign = await harness()
    await expectFault(foreign.kms.decrypt({ CiphertextBlob }), 'InvalidCiphertextException')
  })

  it('KAPI-14 Decrypt with KeyId of another key is IncorrectKeyException', async () => {
    const { kms, m } = await withKey()
    const other = (await kms.createKey({})).KeyMetadata
    const { CiphertextBlob } = await kms.encrypt({ KeyId: m.KeyId, Plaintext: Buffer.from('x') })
    await expectFault(
      kms.decrypt({ CiphertextBlob, KeyId: other.KeyId }),
      'IncorrectKeyException',
      'The key ID in the request does not identify a CMK that can perform this operation.',
    )
    await expectFault(
      kms.decrypt({ CiphertextBlob, KeyId: 'fake-key-id' }),
      'NotFoundException',
      "Invalid keyId 'fake-key-id'",
    )
  })

  it('Decrypt under a disabled key is DisabledException; pending deletion is KMSInvalidStateException', async () => {
    const { kms, m } = await withKey()
    const { CiphertextBlob } = await kms.encrypt({ KeyId: m.KeyId, Plaintext: Buffer.from('x') })
    await kms.disableKey({ KeyId: m.KeyId })
    await expectFault(kms.decrypt({ CiphertextBlob }), 'DisabledException', `${m.Arn} is disabled.`)
    await kms.enableKey({ KeyId: m.KeyId })
    await kms.scheduleKeyDeletion({ KeyId: m.KeyId })
    await expectFault(kms.decrypt({ CiphertextBlob }), 'KMSInvalidStateException', `${m.Arn} is pending deletion.`)
  })

  it('KAPI-15 Encrypt of 4097 bytes is ValidationException (length less than or equal to 4096); 4096 works', async () => {
    const { kms, m } = await withKey()
    await expectFault(
      kms.encrypt({ KeyId: m.KeyId, Plaintext: randomBytes(4097) }),
      'ValidationException',
      "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096",
    )
    const big = await kms.encrypt({ KeyId: m.KeyId, Plaintext: randomBytes(4096) })
    expect(big.CiphertextBlob.length).toBeLessThanOrEqual(6144)
    await expectFault(
      kms.encrypt({ KeyId: m.KeyId, Plaintext: Buffer.alloc(0) }),
      'ValidationException',
      /greater than or equal to 1/,
    )
    await expectFault(kms.encrypt({ KeyId: m.KeyId }), 'ValidationException', /Value null at 'plaintext'/)
    await expectFault(
      kms.encrypt({ KeyId: m.KeyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' }),
      'ValidationException',
    )
  })

  it("KAPI-35 Encrypt without KeyId is ValidationException Value null at 'keyId'", async () => {
    const { kms } = await withKey()
    await expectFault(
      kms.encrypt({ Plaintext: Buffer.from('x') }),
      'ValidationException',
      "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null",
    )
  })

  it('DryRun answers DryRunOperationException after the checks', async () => {
    const { kms, m } = await withKey()
    await expectFault(
      kms.encrypt({ KeyId: m.KeyId, Plaintext: Buffer.from('x'), DryRun: true }),
      'DryRunOperationException',
    )
  })
})

describe('EmbeddedKms data keys and ReEncrypt (KAPI-16..20)', () => {
  it('KAPI-16 GenerateDataKey AES_256 gives 32 bytes that Decrypt returns from the blob', async () => {
    const { kms, m } = await withKey()
    const ctx = { 'aws:s3:arn': 'arn:aws:s3:::b/k' }
    const dk = await kms.generateDataKey({ KeyId: m.KeyId, KeySpec: 'AES_256', EncryptionContext: ctx })
    expect(dk.Plaintext).toHaveLength(32)
    expect(dk.KeyId).toBe(m.Arn)
    const back = await kms.decrypt({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ctx })
    expect(back.Plaintext.equals(dk.Plaintext)).toBe(true)
    expect((await kms.generateDataKey({ KeyId: m.KeyId, KeySpec: 'AES_128' })).Plaintext).toHaveLength(16)
    expect((await kms.generateDataKey({ KeyId: m.KeyId, NumberOfBytes: 1024 })).Plaintext).toHaveLength(1024)
  })

  it('KAPI-17 GenerateDataKey with neither or both KeySpec/NumberOfBytes is ValidationException; bad values too', async () => {
    const { kms, m } = await withKey()
    const msg = 'Please specify either number of bytes or key spec.'
    await expectFault(kms.generateDataKey({ KeyId: m.KeyId }), 'ValidationException', msg)
    await expectFault(
      kms.generateDataKey({ KeyId: m.KeyId, KeySpec: 'AES_256', NumberOfBytes: 32 }),
      'ValidationException',
      msg,
    )
    await expectFault(
      kms.generateDataKey({ KeyId: m.KeyId, NumberOfBytes: 0 }),
      'ValidationException',
      "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1",
    )
    await expectFault(
      kms.generateDataKey({ KeyId: m.KeyId, NumberOfBytes: 1025 }),
      'ValidationException',
      /less than or equal to 1024/,
    )
    await expectFault(kms.generateDataKey({ KeyId: m.KeyId, KeySpec: 'AES_512' }), 'ValidationException', /keySpec/)
  })

  it('KAPI-18 GenerateDataKeyWithoutPlaintext has no Plaintext member; its blob decrypts', async () => {
    const { kms, m } = await withKey()
    const out = await kms.generateDataKeyWithoutPlaintext({
      KeyId: m.KeyId,
      KeySpec: 'AES_256',
      EncryptionContext: { a: 'b' },
    })
    expect(Object.keys(out).sort()).toEqual(['CiphertextBlob', 'KeyId'])
    expect(
      (await kms.decrypt({ CiphertextBlob: out.CiphertextBlob, EncryptionContext: { a: 'b' } })).Plaintext,
    ).toHaveLength(32)
  })

  it('KAPI-19 ReEncrypt to key B decrypts under B with its new context; SourceKeyId = A ARN, KeyId = B ARN', async () => {
    const { kms, m: a } = await withKey()
    const b = (await kms.createKey({})).KeyMetadata
    const { CiphertextBlob } = await kms.encrypt({
      KeyId: a.KeyId,
      Plaintext: Buffer.from('move me'),
      EncryptionContext: { v: '1' },
    })
    const out = await kms.reEncrypt({
      CiphertextBlob,
      SourceEncryptionContext: { v: '1' },
      DestinationKeyId: b.Arn,
      DestinationEncryptionContext: { v: '2' },
    })
    expect(out).toMatchObject({
      SourceKeyId: a.Arn,
      KeyId: b.Arn,
      SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    })
    expect(readBlobHeader(out.CiphertextBlob)?.keyId).toBe(b.KeyId)
    expect(
      (await kms.decrypt({ CiphertextBlob: out.CiphertextBlob, EncryptionContext: { v: '2' } })).Plaintext.toString(),
    ).toBe('move me')
    await expectFault(kms.reEncrypt({ CiphertextBlob, DestinationKeyId: b.KeyId }), 'InvalidCiphertextException')
    await expectFault(kms.reEncrypt({ CiphertextBlob }), 'ValidationException', /Value null at 'destinationKeyId'/)
  })

  it('KAPI-20 ReEncrypt with a wrong SourceKeyId is IncorrectKeyException', async () => {
    const { kms, m: a } = await withKey()
    const b = (await kms.createKey({})).KeyMetadata
    const { CiphertextBlob } = await kms.encrypt({ KeyId: a.KeyId, Plaintext: Buffer.from('x') })
    await expectFault(
      kms.reEncrypt({ CiphertextBlob, SourceKeyId: b.KeyId, DestinationKeyId: b.KeyId }),
      'IncorrectKeyException',
    )
  })
})

describe('EmbeddedKms rotation and key material at rest (KAPI-27, crypto/README §9)', () => {
  it('KAPI-27 rotateKeyMaterial, then an old ciphertext still decrypts and new ones use the new version', async () => {
    const h = await withKey()
    const old = await h.kms.generateDataKey({ KeyId: h.m.KeyId, KeySpec: 'AES_256', EncryptionContext: { o: '1' } })
    expect(await h.kms.rotateKeyMaterial(h.m.Arn)).toEqual({ keyId: h.m.KeyId, materialVersion: 2 })
    const fresh = await h.kms.encrypt({ KeyId: h.m.KeyId, Plaintext: Buffer.from('new') })
    expect(readBlobHeader(fresh.CiphertextBlob)?.materialVersion).toBe(2)
    await h.reopen()
    expect(
      (await h.kms.decrypt({ CiphertextBlob: old.CiphertextBlob, EncryptionContext: { o: '1' } })).Plaintext.equals(
        old.Plaintext,
      ),
    ).toBe(true)
    expect((await h.kms.decrypt({ CiphertextBlob: fresh.CiphertextBlob })).Plaintext.toString()).toBe('new')
    expect(await h.kms.rotateKeyOnDemand({ KeyId: h.m.KeyId })).toEqual({ KeyId: h.m.KeyId })
    await h.kms.disableKey({ KeyId: h.m.KeyId })
    await expectFault(h.kms.rotateKeyMaterial(h.m.KeyId), 'DisabledException')
  })

  it('material survives a root key rotation and stays sealed under the root key it was made with', async () => {
    const h = await withKey()
    const { CiphertextBlob } = await h.kms.encrypt({ KeyId: h.m.KeyId, Plaintext: Buffer.from('x') })
    h.keyring.rotate()
    await h.kms.rotateKeyMaterial(h.m.KeyId)
    const stored = JSON.parse(h.store.keys.get(h.m.KeyId)!)
    expect(stored.materials.map((x: { rootKeyVersion: number }) => x.rootKeyVersion)).toEqual([1, 2])
    await h.reopen()
    expect((await h.kms.decrypt({ CiphertextBlob })).Plaintext.toString()).toBe('x')
  })

  it('without the root key that sealed the material the KMS answers KMSInternalException, never plaintext', async () => {
    const h = await withKey()
    const { CiphertextBlob } = await h.kms.encrypt({ KeyId: h.m.KeyId, Plaintext: Buffer.from('x') })
    h.keyring.keys.set(1, randomBytes(32)) // the root key of version 1 is not the one that sealed it
    await h.reopen()
    const err = await expectFault(h.kms.decrypt({ CiphertextBlob }), 'KMSInternalException')
    expect(err.reason).toBe('unavailable')
  })

  it('sealed material opens only for its key id and version, and only with its root key', () => {
    const keyring = new FakeKeyring()
    const id = '11111111-2222-4333-8444-555555555555'
    const material = randomBytes(32)
    const sealed = sealMaterial(keyring, id, 3, material, 0)
    expect(openMaterial(keyring, id, sealed).equals(material)).toBe(true)
    expect(() => openMaterial(keyring, id.replace('1111', '9999'), sealed)).toThrow(CryptoError)
    expect(() => openMaterial(keyring, id, { ...sealed, version: 4 })).toThrow(CryptoError)
    expect(() => openMaterial(new FakeKeyring(), id, sealed)).toThrow(CryptoError)
    expect(() => openMaterial(keyring, id, { ...sealed, nonce: 'AAAA' })).toThrow(/wrong size/)
    expect(newSealedMaterial(keyring, id, 1, 0).ciphertext).not.toBe(newSealedMaterial(keyring, id, 1, 0).ciphertext)
  })

  it('blob layout: magic SRK, version 1, key UUID, BE32 material version, nonce; AAD = header ‖ canonical context', () => {
    const material = randomBytes(32)
    const id = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee'
    const blob = sealBlob(material, { keyId: id, materialVersion: 7 }, Buffer.from('p'), { b: '2', a: '1' })
    expect(blob.subarray(0, 4).toString('latin1')).toBe('SRK\x01')
    expect(blob.subarray(4, 20).toString('hex')).toBe(id.replace(/-/g, ''))
    expect(blob.readUInt32BE(20)).toBe(7)
    expect(openBlob(material, blob, { a: '1', b: '2' })?.toString()).toBe('p')
    expect(openBlob(material, blob, { a: '1' })).toBeUndefined()
    expect(canonicalContext({ b: '2', a: '1' })).toBe('{"a":"1","b":"2"}')
    expect(canonicalContext(undefined)).toBe('{}')
  })

  it('the LevelDB store keeps keys across reopen and holds no plaintext material or data key', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'strongroom-kms-'))
    try {
      const keyring = new FakeKeyring()
      const opts = { keyring, region: REGION, accountId: ACCOUNT }
      let kms = await EmbeddedKms.openDir(dir, opts)
      const m = (await kms.createKey({ Description: 'persisted' })).KeyMetadata
      await kms.createAlias({ AliasName: 'alias/p', TargetKeyId: m.KeyId })
      const dk = await kms.generateDataKey({ KeyId: 'alias/p', KeySpec: 'AES_256' })
      await kms.close()
      let bytes = Buffer.alloc(0)
      for (const f of await readdir(dir)) bytes = Buffer.concat([bytes, await readFile(path.join(dir, f))])
      expect(bytes.includes(dk.Plaintext)).toBe(false)
      kms = await EmbeddedKms.openDir(dir, opts)
      expect((await kms.describeKey({ KeyId: 'alias/p' })).KeyMetadata).toMatchObject({
        KeyId: m.KeyId,
        Description: 'persisted',
        Arn: arn(m.KeyId),
      })
      expect((await kms.decrypt({ CiphertextBlob: dk.CiphertextBlob })).Plaintext.equals(dk.Plaintext)).toBe(true)
      await kms.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
