/**
 * @module A data directory as a build before versions and SR2 left it — an SR1 object record at
 * the old `o\0<bucket>\0<key>` place, its blob written with the SR1 part key — is readable by the
 * server (migrated to the key's null version), and `strongroom keys rewrap` upgrades it to SR2
 * (saying how many), after which it still reads byte-exact and is bound to its version.
 */
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Level } from 'level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptPart } from '../../crypto/aead-stream.js'
import { RootKeyring } from '../../crypto/keyring.js'
import { derivePartKey, newPartSalt } from '../../crypto/keys.js'
import { sealForSseS3 } from '../../crypto/modes/sse-s3.js'
import { FsBlobStore } from '../../storage/fs/blobs.js'
import { LevelMetadataStore } from '../../storage/level/metadata.js'
import { signedSend } from '../support/raw-s3.js'
import { startTestServer, type TestServer } from '../support/server.js'

const REPO = path.resolve(import.meta.dirname, '../..')
const TSX = path.join(REPO, 'node_modules/.bin/tsx')
const BUCKET = 'legacy-data'

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(TSX, ['server/main.ts', ...args], { cwd: REPO, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err)
      else resolve({ code: err ? Number(err.code) : 0, stdout, stderr })
    })
  })
}

describe('old-format data: readable, then upgraded by rewrap', () => {
  let dataDir: string
  let server: TestServer | undefined
  const data = randomBytes(150_000)

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-legacy-'))
    // A first start lays out the data directory (keyring, meta, blobs) and creates the bucket.
    server = await startTestServer({ dataDir })
    expect((await signedSend(server.port, { method: 'PUT', path: `/${BUCKET}` })).status).toBe(200)
    await server.close()
    server = undefined

    const keyring = await RootKeyring.open(path.join(dataDir, 'keyring.json'))
    const { oek, record } = sealForSseS3(keyring, { bucket: BUCKET, key: 'old' })
    expect(record.format).toBe('SR1')
    const blobs = await FsBlobStore.open(dataDir)
    const blobId = blobs.newId()
    const salt = newPartSalt()
    await blobs.write(
      blobId,
      encryptPart(derivePartKey(oek, 1, salt))(
        (async function* () {
          yield data
        })(),
      ),
    )
    const etag = createHash('md5').update(data).digest('hex')
    const v1 = {
      v: 1,
      bucket: BUCKET,
      key: 'old',
      size: data.length,
      etag,
      lastModified: 1_717_171_717_000,
      ownerAccountId: '000000000000',
      encryption: record,
      parts: [
        {
          partNumber: 1,
          blobId,
          size: data.length,
          etag,
          salt: salt.toString('base64'),
          lastModified: 1_717_171_717_000,
        },
      ],
      contentType: 'binary/octet-stream',
      headers: {},
      userMeta: {},
      storageClass: 'STANDARD',
    }
    const db = new Level<Buffer, string>(path.join(dataDir, 'meta'), { keyEncoding: 'buffer', valueEncoding: 'utf8' })
    await db.open()
    await db.put(Buffer.from(`o\0${BUCKET}\0old`, 'utf8'), JSON.stringify(v1))
    await db.close()
    server = await startTestServer({ dataDir })
  }, 60_000)
  afterAll(async () => {
    await server?.close()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('the SR1 object reads byte-exact as the null version', async () => {
    const res = await signedSend(server!.port, { method: 'GET', path: `/${BUCKET}/old` })
    expect(res.status).toBe(200)
    expect(res.body.equals(data)).toBe(true)
    const list = await signedSend(server!.port, { method: 'GET', path: `/${BUCKET}`, query: { versions: '' } })
    expect(list.text).toMatch(/<VersionId>null<\/VersionId>/)
  })

  it('keys rewrap upgrades it to SR2 and says so; it still reads, now bound to its version', async () => {
    await server!.close()
    server = undefined
    const r = await cli('keys', 'rewrap', '--data-dir', dataDir)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/rewrapped 1 of 1 records.*1 upgraded from format SR1 to SR2/)
    const meta = await LevelMetadataStore.open(path.join(dataDir, 'meta'))
    try {
      const rec = (await meta.getObject(BUCKET, 'old'))!
      expect(rec.encryption.format).toBe('SR2')
      expect(rec.encryption.binding.versionId).toBe(rec.versionId)
      expect(rec.encryption.manifest?.tag).toMatch(/^[A-Za-z0-9+/]{43}=$/)
    } finally {
      await meta.close()
    }
    expect((await cli('keys', 'rewrap', '--data-dir', dataDir)).stdout).toMatch(/rewrapped 0 of 0/)
    server = await startTestServer({ dataDir })
    const res = await signedSend(server.port, { method: 'GET', path: `/${BUCKET}/old` })
    expect(res.status).toBe(200)
    expect(res.body.equals(data)).toBe(true)
  }, 90_000)
})
