/** @module Rewrap: re-seals under the active root key, metadata only; resumable; counts; changed records left alone. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RootKeyring } from '../../../crypto/keyring.js'
import { openSseS3, sealForSseS3 } from '../../../crypto/modes/sse-s3.js'
import { countUsage, rewrap } from '../../../server/admin/rewrap.js'
import { checkPlacement } from '../../../crypto/manifest.js'
import { MemoryMetadataStore } from '../../../storage/memory/metadata.js'
import type { ObjectRecord } from '../../../storage/types.js'
import { bucketRecord, objectRecord, uploadRecord } from '../../contract/fixtures.js'

describe('keys rewrap', () => {
  let dir: string
  let keyring: RootKeyring
  let meta: MemoryMetadataStore
  const oeks = new Map<string, Buffer>()

  const put = async (key: string) => {
    const { oek, record } = sealForSseS3(keyring, { bucket: 'b', key })
    oeks.set(key, Buffer.from(oek))
    await meta.commitObject(objectRecord('b', key, { encryption: record }))
  }

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rewrap-'))
    keyring = await RootKeyring.open(path.join(dir, 'keyring.json'))
    meta = new MemoryMetadataStore()
    await meta.createBucket(bucketRecord('b'))
    oeks.clear()
    for (let i = 0; i < 20; i++) await put(`k${String(i).padStart(2, '0')}`)
    const { record } = sealForSseS3(keyring, { bucket: 'b', key: 'up' })
    await meta.createUpload(uploadRecord('b', 'up', 'u1', { encryption: record }))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const versions = async () =>
    Object.fromEntries([...(await countUsage(meta, []))].map(([v, u]) => [v, [u.objects, u.uploads]]))

  it('covers every version of a versioned bucket, noncurrent ones too, each re-sealed in place', async () => {
    await meta.createBucket(bucketRecord('vb'))
    await meta.putBucket(bucketRecord('vb', { versioning: 'Enabled' }))
    const keys: Buffer[] = []
    for (let i = 0; i < 3; i++) {
      const { oek, record } = sealForSseS3(keyring, { bucket: 'vb', key: 'doc' })
      keys.push(Buffer.from(oek))
      await meta.commitObject(objectRecord('vb', 'doc', { encryption: record }))
    }
    await keyring.rotate()
    const res = await rewrap(meta, keyring, [])
    expect(res).toMatchObject({ total: 24, rewrapped: 24, failed: [] })
    const list = await meta.listObjectVersions('vb', { limit: 10 })
    expect(list.entries).toHaveLength(3)
    const opened: Buffer[] = []
    for (const e of list.entries) {
      if (e.kind !== 'version' || e.record.deleteMarker) throw new Error('expected a version')
      expect(e.record.encryption.rootKeyVersion).toBe(2)
      opened.push(openSseS3(keyring, e.record.encryption, e.record))
    }
    expect(opened.reverse().map((k) => k.toString('hex'))).toEqual(keys.map((k) => k.toString('hex')))
  })

  it('re-seals a locked version in place (its data and lock unchanged) and its audit line says what held it', async () => {
    await meta.createBucket(bucketRecord('lb'))
    await meta.putBucket(bucketRecord('lb', { versioning: 'Enabled', objectLock: { enabled: true } }))
    const { oek, record } = sealForSseS3(keyring, { bucket: 'lb', key: 'held' })
    const rec = objectRecord('lb', 'held', {
      encryption: record,
      legalHold: true,
      retention: { mode: 'COMPLIANCE', retainUntil: Date.now() + 86_400_000 },
    })
    await meta.commitObject(rec)
    await keyring.rotate()
    const lines: Array<Record<string, unknown>> = []
    const res = await rewrap(meta, keyring, [], {
      audit: { audit: (e) => lines.push({ ...e }), close: async () => {} },
    })
    expect(res.failed).toEqual([])
    const after = await meta.getVersion('lb', 'held', rec.versionId)
    if (!after || after.deleteMarker) throw new Error('expected the version')
    expect(after.encryption.rootKeyVersion).toBe(2)
    expect(after).toMatchObject({ etag: rec.etag, parts: rec.parts, legalHold: true, retention: rec.retention })
    expect(openSseS3(keyring, after.encryption, after)).toEqual(Buffer.from(oek))
    expect(lines.find((l) => l.key === 'held')).toMatchObject({
      action: 'rewrap',
      outcome: 'ok',
      objectLock: 'legal-hold',
    })
    expect(lines.find((l) => l.key === 'k00')?.objectLock).toBeUndefined()
  })

  it('moves every object and upload to the active version, keeping each object key and all other fields', async () => {
    await keyring.rotate()
    await put('new')
    expect(await versions()).toEqual({ 1: [20, 1], 2: [1, 0] })
    const before = new Map<string, ObjectRecord>()
    for await (const o of meta.allObjects()) before.set(o.key, o)
    const res = await rewrap(meta, keyring, [])
    // The fixtures are format SR1: every object is also upgraded to SR2 (the upload is not: SR2
    // objects are made by Complete).
    expect(res).toMatchObject({
      toVersion: 2,
      total: 22,
      rewrapped: 22,
      upgraded: 21,
      changed: 0,
      failed: [],
      stopped: false,
    })
    expect(await versions()).toEqual({ 2: [21, 1] })
    for await (const o of meta.allObjects()) {
      expect(openSseS3(keyring, o.encryption, o).equals(oeks.get(o.key)!)).toBe(true)
      const { encryption: _a, ...rest } = o
      const { encryption: _b, ...old } = before.get(o.key)!
      expect(rest).toEqual(old)
      expect(o.encryption.binding).toEqual({ ...before.get(o.key)!.encryption.binding, versionId: o.versionId })
      expect(o.encryption.format).toBe('SR2')
      checkPlacement(keyring, o.encryption, o, o.parts)
      if (o.key !== 'new') expect(o.encryption.sealed.sealIV).not.toBe(before.get(o.key)!.encryption.sealed.sealIV)
    }
    expect((await rewrap(meta, keyring, [])).total).toBe(0)
  })

  it('stops after --limit or an abort, and a rerun finishes the rest', async () => {
    await keyring.rotate()
    const progress: number[] = []
    const first = await rewrap(meta, keyring, [], {
      limit: 7,
      concurrency: 3,
      onProgress: (p) => progress.push(p.done),
    })
    expect(first).toMatchObject({ total: 21, rewrapped: 7, stopped: true })
    expect(progress.at(-1)).toBe(7)
    const ac = new AbortController()
    const second = await rewrap(meta, keyring, [], {
      signal: ac.signal,
      concurrency: 1,
      onProgress: (p) => p.done === 5 && ac.abort(),
    })
    expect(second).toMatchObject({ total: 14, rewrapped: 5, stopped: true })
    const third = await rewrap(meta, keyring, [])
    expect(third).toMatchObject({ total: 9, rewrapped: 9, stopped: false })
    expect(await versions()).toEqual({ 2: [20, 1] })
  })

  it('--from-version only touches that version', async () => {
    await keyring.rotate()
    await put('v2')
    await keyring.rotate()
    const res = await rewrap(meta, keyring, [], { fromVersion: 2 })
    expect(res).toMatchObject({ total: 1, rewrapped: 1 })
    expect(await versions()).toEqual({ 1: [20, 1], 3: [1, 0] })
  })

  it('a record changed between read and commit is left to its writer', async () => {
    await keyring.rotate()
    const racing = Object.create(meta) as MemoryMetadataStore
    racing.commitObject = async (rec, opts) => {
      if (rec.key === 'k03') await meta.commitObject({ ...(await meta.getObject('b', 'k03'))!, etag: 'rewritten' })
      return meta.commitObject(rec, opts)
    }
    const res = await rewrap(racing, keyring, [])
    expect(res).toMatchObject({ rewrapped: 20, changed: 1 })
    expect((await meta.getObject('b', 'k03'))!.encryption.rootKeyVersion).toBe(1)
  })

  it('a record that does not open is reported, the rest still rewrapped', async () => {
    await keyring.rotate()
    const bad = (await meta.getObject('b', 'k05'))!
    await meta.commitObject({
      ...bad,
      encryption: { ...bad.encryption, binding: { ...bad.encryption.binding, generation: 'other' } },
    })
    const res = await rewrap(meta, keyring, [])
    expect(res.rewrapped).toBe(20)
    expect(res.failed).toEqual([{ what: 'object b/k05', reason: expect.stringMatching(/.+/) }])
  })

  it('an overwrite with the same ETag between scan and commit wins (another record, other blobs: live rewrap beside traffic)', async () => {
    await keyring.rotate()
    let scans = 0
    const overwritten = new Map<string, ObjectRecord>()
    const racing = Object.create(meta) as MemoryMetadataStore
    racing.allObjects = async function* () {
      const pass = ++scans
      for await (const o of meta.allObjects()) {
        if (pass === 2 && o.key === 'k03') {
          // a PUT of the same bytes lands after the rewrap read the record: same ETag, new blob, sealed by v2
          const { record } = sealForSseS3(keyring, { bucket: 'b', key: o.key })
          const next = objectRecord('b', o.key, { encryption: record, blobs: ['f'.repeat(32)], etag: o.etag })
          await meta.commitObject(next)
          overwritten.set(o.key, next)
        }
        yield o
      }
    }
    const res = await rewrap(racing, keyring, [])
    expect(res).toMatchObject({ total: 21, rewrapped: 20, changed: 1, failed: [] })
    expect(await meta.getObject('b', 'k03')).toEqual(overwritten.get('k03'))
  })
})
