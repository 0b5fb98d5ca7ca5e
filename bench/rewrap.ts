/**
 * @module Measures `keys rewrap` (objects per second): N small SSE-S3 objects committed straight
 * into a LevelDB metadata store (no blobs: rewrap never reads them), a rotation, then the same
 * rewrap the CLI runs. Usage: npx tsx bench/rewrap.ts [N=100000] [concurrency=64]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { RootKeyring } from '../crypto/keyring.js'
import { sealForSseS3 } from '../crypto/modes/sse-s3.js'
import { rewrap } from '../server/admin/rewrap.js'
import { LevelMetadataStore } from '../storage/level/metadata.js'
import { newVersionId } from '../storage/versions.js'

const n = Number(process.argv[2] ?? 100_000)
const concurrency = Number(process.argv[3] ?? 64)
const dir = await mkdtemp(path.join(tmpdir(), 'bench-rewrap-'))
try {
  const keyring = await RootKeyring.open(path.join(dir, 'keyring.json'))
  const meta = await LevelMetadataStore.open(path.join(dir, 'meta'))
  await meta.createBucket({ v: 1, name: 'bench', region: 'us-east-1', ownerAccountId: '000000000000', createdAt: Date.now(), blockedEncryptionTypes: [] })
  let t = performance.now()
  const inFlight = new Set<Promise<unknown>>()
  for (let i = 0; i < n; i++) {
    const key = `obj/${String(i).padStart(7, '0')}`
    const { oek, record } = sealForSseS3(keyring, { bucket: 'bench', key })
    oek.fill(0)
    const p = meta.commitObject({
      v: 2, bucket: 'bench', key, versionId: newVersionId(), size: 10, etag: 'e'.repeat(32), lastModified: Date.now(), ownerAccountId: '000000000000', encryption: record,
      parts: [{ partNumber: 1, blobId: `blob${i}`, size: 10, etag: 'e'.repeat(32), salt: 'c2FsdA==', lastModified: Date.now() }],
      contentType: 'binary/octet-stream', headers: {}, userMeta: {}, storageClass: 'STANDARD',
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
  console.log(`rewrapped ${res.rewrapped}/${res.total} (failed ${res.failed.length}) in ${secs.toFixed(2)} s: ${Math.round(res.rewrapped / secs)} objects/s (concurrency ${concurrency})`)
  await meta.close()
} finally {
  await rm(dir, { recursive: true, force: true })
}
