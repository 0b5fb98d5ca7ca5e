/**
 * @module Measures version listings: K keys × V versions committed straight into a LevelDB
 * metadata store (SSE-S3 records, no blobs), then a full ListObjectVersions (pages of 1000), a
 * full ListObjects of the current versions, and one page of each; then the same after every key
 * got a delete marker. Usage: npx tsx bench/versions.ts [keys=1000] [versions=100]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { RootKeyring } from '../crypto/keyring.js'
import { sealForSseS3 } from '../crypto/modes/sse-s3.js'
import { LevelMetadataStore } from '../storage/level/metadata.js'
import { newVersionId } from '../storage/versions.js'

const keys = Number(process.argv[2] ?? 1000)
const versions = Number(process.argv[3] ?? 100)
const dir = await mkdtemp(path.join(tmpdir(), 'bench-versions-'))
const secs = (t: number) => ((performance.now() - t) / 1000).toFixed(2)
try {
  const keyring = await RootKeyring.open(path.join(dir, 'keyring.json'))
  const meta = await LevelMetadataStore.open(path.join(dir, 'meta'))
  const owner = '000000000000'
  await meta.createBucket({
    v: 1,
    name: 'bench',
    region: 'us-east-1',
    ownerAccountId: owner,
    createdAt: Date.now(),
    blockedEncryptionTypes: [],
  })
  await meta.putBucket({
    v: 1,
    name: 'bench',
    region: 'us-east-1',
    ownerAccountId: owner,
    createdAt: Date.now(),
    blockedEncryptionTypes: [],
    versioning: 'Enabled',
  })
  let t = performance.now()
  for (let v = 0; v < versions; v++) {
    await Promise.all(
      Array.from({ length: keys }, (_, i) => {
        const key = `obj/${String(i).padStart(6, '0')}`
        const versionId = newVersionId()
        const { oek, record } = sealForSseS3(keyring, { bucket: 'bench', key, versionId })
        oek.fill(0)
        return meta.commitObject({
          v: 2,
          bucket: 'bench',
          key,
          versionId,
          size: 10,
          etag: 'e'.repeat(32),
          lastModified: Date.now(),
          ownerAccountId: owner,
          encryption: record,
          parts: [
            {
              partNumber: 1,
              blobId: `b${v}-${i}`,
              size: 10,
              etag: 'e'.repeat(32),
              salt: 'c2FsdA==',
              lastModified: Date.now(),
            },
          ],
          contentType: 'binary/octet-stream',
          headers: {},
          userMeta: {},
          storageClass: 'STANDARD',
        })
      }),
    )
  }
  console.log(`committed ${keys * versions} versions (${keys} keys × ${versions}) in ${secs(t)} s`)
  const listAll = async (label: string) => {
    let t0 = performance.now()
    let n = 0
    let pages = 0
    let keyMarker: string | undefined
    let versionIdMarker: string | undefined
    for (;;) {
      const r = await meta.listObjectVersions('bench', { keyMarker, versionIdMarker, limit: 1000 })
      n += r.entries.length
      pages++
      if (!r.isTruncated) break
      keyMarker = r.nextKeyMarker
      versionIdMarker = r.nextVersionIdMarker
    }
    console.log(`${label}: ListObjectVersions of all ${n} entries in ${pages} pages: ${secs(t0)} s`)
    t0 = performance.now()
    let objects = 0
    let after: string | undefined
    for (;;) {
      const r = await meta.listObjects('bench', { after, limit: 1000 })
      objects += r.entries.length
      if (!r.isTruncated) break
      after = r.last
    }
    console.log(
      `${label}: ListObjects of the ${objects} current objects: ${secs(t0)} s (entries read so far ${meta.stats.entriesRead})`,
    )
    t0 = performance.now()
    await meta.listObjects('bench', { limit: 1000 })
    console.log(`${label}: one ListObjects page of 1000: ${secs(t0)} s`)
  }
  await listAll('versions')
  t = performance.now()
  await Promise.all(
    Array.from({ length: keys }, (_, i) => meta.deleteObject('bench', `obj/${String(i).padStart(6, '0')}`)),
  )
  console.log(`${keys} delete markers in ${secs(t)} s`)
  await listAll('all deleted')
  await meta.close()
} finally {
  await rm(dir, { recursive: true, force: true })
}
