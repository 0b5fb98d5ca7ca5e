/**
 * @module Measures `keys rewrap` (objects per second): N small SSE-S3 objects committed straight
 * into a LevelDB metadata store (no blobs: rewrap never reads them), a rotation, then the same
 * rewrap the CLI runs. The records are SR1 (sealed without a version id), so every one is also
 * upgraded to SR2. With `locked`, every object is under COMPLIANCE retention (rewrap re-seals it
 * in place). Usage: npx tsx bench/rewrap.ts [N=100000] [concurrency=64] [locked]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { RootKeyring } from '../crypto/keyring.js'
import { sealForSseS3 } from '../crypto/modes/sse-s3.js'
import { rewrap } from '../server/admin/rewrap.js'
import { LevelMetadataStore } from '../storage/level/metadata.js'
import { newVersionId } from '../storage/versions.js'

/** A part salt of the size a record must carry (32 bytes); rewrap never uses it. */
const SALT = Buffer.alloc(32, 7).toString('base64')
const n = Number(process.argv[2] ?? 100_000)
const concurrency = Number(process.argv[3] ?? 64)
const locked = process.argv[4] === 'locked'
const dir = await mkdtemp(path.join(tmpdir(), 'bench-rewrap-'))
try {
  const keyring = await RootKeyring.open(path.join(dir, 'keyring.json'))
  const meta = await LevelMetadataStore.open(path.join(dir, 'meta'))
  await meta.createBucket({
    v: 1,
    name: 'bench',
    region: 'us-east-1',
    ownerAccountId: '000000000000',
    createdAt: Date.now(),
    blockedEncryptionTypes: [],
  })
  let t = performance.now()
  const inFlight = new Set<Promise<unknown>>()
  for (let i = 0; i < n; i++) {
    const key = `obj/${String(i).padStart(7, '0')}`
    const { oek, record } = sealForSseS3(keyring, { bucket: 'bench', key })
    oek.fill(0)
    const p = meta.commitObject({
      v: 2,
      bucket: 'bench',
      key,
      versionId: newVersionId(),
      size: 10,
      etag: 'e'.repeat(32),
      lastModified: Date.now(),
      ownerAccountId: '000000000000',
      encryption: record,
      parts: [
        { partNumber: 1, blobId: `blob${i}`, size: 10, etag: 'e'.repeat(32), salt: SALT, lastModified: Date.now() },
      ],
      contentType: 'binary/octet-stream',
      headers: {},
      userMeta: {},
      storageClass: 'STANDARD',
      ...(locked ? { retention: { mode: 'COMPLIANCE' as const, retainUntil: Date.now() + 86_400_000 } } : {}),
    })
    inFlight.add(p)
    void p.finally(() => inFlight.delete(p))
    if (inFlight.size >= 256) await Promise.race(inFlight)
  }
  await Promise.all(inFlight)
  console.log(`created ${n} objects in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  await keyring.rotate()
  t = performance.now()
  const res = await rewrap(meta, keyring, [], { concurrency })
  const secs = (performance.now() - t) / 1000
  if (res.failed.length > 0) console.log(`first failure: ${res.failed[0].reason}`)
  console.log(
    `rewrapped ${res.rewrapped}/${res.total} (upgraded SR1→SR2 ${res.upgraded}, failed ${res.failed.length}) in ${secs.toFixed(2)} s: ${Math.round(res.rewrapped / secs)} objects/s (concurrency ${concurrency}${locked ? ', every object under COMPLIANCE retention' : ''})`,
  )
  await meta.close()
} finally {
  await rm(dir, { recursive: true, force: true })
}
