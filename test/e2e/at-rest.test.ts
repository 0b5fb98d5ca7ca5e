/**
 * @module Encryption at rest, seen from the data directory (docs/s3-sse-rules.md §4.13, REST-01 and REST-02):
 * no plaintext object bytes in any file the server writes, and a flipped ciphertext byte never
 * reaches a client as data.
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'
import { mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHECKSUM_MODES, makeClient, startTestServer, type TestServer } from '../support/server.js'

const KiB = 1024
const MiB = 1024 * KiB
/** SR1 (crypto/README.md §5): 64 KiB plaintext per chunk, stored as ciphertext ‖ 16-byte tag. */
const CHUNK_PLAIN = 65536
const CHUNK_STORED = CHUNK_PLAIN + 16

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** Every regular file under `dir`, recursively (LevelDB files, logs, keyring, blobs, tmp). */
async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name))
}

/** Blob files of a data directory: `blobs/<2 hex>/<id>` (docs/architecture.md#storage-on-disk). */
async function blobFiles(dataDir: string): Promise<string[]> {
  const root = path.join(dataDir, 'blobs')
  const out: string[] = []
  for (const shard of await readdir(root)) {
    if (!/^[0-9a-f]{2}$/.test(shard)) continue
    for (const name of await readdir(path.join(root, shard))) out.push(path.join(root, shard, name))
  }
  return out.sort()
}

/**
 * The encodings of `marker` whose presence in a file would mean the plaintext leaked: the raw
 * bytes, hex (both cases), a decimal byte list (JSON of a Buffer), and base64 / base64url at each
 * of the three alignments it could have inside a longer encoded run (the characters that depend
 * only on marker bytes).
 */
function leakForms(marker: Buffer): Array<{ form: string; bytes: Buffer }> {
  const forms = [
    { form: 'raw', bytes: marker },
    { form: 'hex', bytes: Buffer.from(marker.toString('hex')) },
    { form: 'HEX', bytes: Buffer.from(marker.toString('hex').toUpperCase()) },
    { form: 'decimal list', bytes: Buffer.from([...marker].join(',')) },
  ]
  for (const enc of ['base64', 'base64url'] as const) {
    for (let shift = 0; shift < 3; shift++) {
      const text = Buffer.concat([Buffer.alloc(shift), marker])
        .toString(enc)
        .replace(/=+$/, '')
      // Drop the first group (it mixes in preceding bytes) and the last (it mixes in following ones).
      forms.push({ form: `${enc} (alignment ${shift})`, bytes: Buffer.from(text.slice(4, -4)) })
    }
  }
  return forms
}

/** Files of `dir` containing any leak form of `marker`; also how many files and bytes were read. */
async function findLeaks(dir: string, marker: Buffer): Promise<{ leaks: string[]; files: number; bytes: number }> {
  const forms = leakForms(marker)
  const leaks: string[] = []
  let bytes = 0
  const files = await allFiles(dir)
  for (const file of files) {
    const content = await readFile(file)
    bytes += content.length
    for (const { form, bytes: needle } of forms) {
      const at = content.indexOf(needle)
      if (at >= 0) leaks.push(`${path.relative(dir, file)}: ${form} at byte ${at}`)
    }
  }
  return { leaks, files: files.length, bytes }
}

/** `data` with `marker` written at each offset. */
function withMarkers(data: Buffer, marker: Buffer, offsets: number[]): Buffer {
  for (const off of offsets) marker.copy(data, off)
  return data
}

async function getBytes(client: S3Client, Bucket: string, Key: string): Promise<Buffer> {
  const res = await client.send(new GetObjectCommand({ Bucket, Key }))
  return Buffer.from(await res.Body!.transformToByteArray())
}

describe('the leak scanner (self-check)', () => {
  it('finds a marker stored raw, as hex, and inside base64 at every alignment', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'strongroom-scan-'))
    try {
      const marker = randomBytes(64)
      await writeFile(path.join(dir, 'raw.bin'), Buffer.concat([randomBytes(1000), marker, randomBytes(7)]))
      await writeFile(path.join(dir, 'hex.txt'), `{"v":"${Buffer.concat([randomBytes(3), marker]).toString('hex')}"}`)
      for (let shift = 0; shift < 3; shift++) {
        await writeFile(
          path.join(dir, `b64-${shift}.log`),
          `x=${Buffer.concat([randomBytes(shift + 3), marker, randomBytes(2)]).toString('base64')}\n`,
        )
      }
      const { leaks, files } = await findLeaks(dir, marker)
      expect(files).toBe(5)
      // A file may match several forms (base64 and base64url agree when no '+' or '/' occurs).
      expect([...new Set(leaks.map((l) => l.split(':')[0]))].sort()).toEqual([
        'b64-0.log',
        'b64-1.log',
        'b64-2.log',
        'hex.txt',
        'raw.bin',
      ])
      expect((await findLeaks(dir, randomBytes(64))).leaks).toEqual([])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe.each(CHECKSUM_MODES)('REST-01 SSE-S3: no plaintext in the data directory (checksum mode %s)', (mode) => {
  let server: TestServer
  let client: S3Client
  const marker = randomBytes(64)
  const bucket = 'at-rest'
  const written = new Map<string, Buffer>()

  beforeAll(async () => {
    server = await startTestServer()
    client = makeClient(server.endpoint, { requestChecksumCalculation: mode })
    await client.send(new CreateBucketCommand({ Bucket: bucket }))

    // Metadata is never encrypted (docs/s3-sse-rules.md §3.15): the marker goes only into object bodies.
    const small = withMarkers(randomBytes(300), marker, [100])
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'small.bin', Body: small, Metadata: { purpose: 'rest-01' } }),
    )
    written.set('small.bin', small)

    // Offsets: start, across the chunk 0/1 boundary, chunk-aligned, mid-object, and the very end.
    const five = withMarkers(randomBytes(5 * MiB), marker, [
      0,
      CHUNK_PLAIN - 20,
      2 * CHUNK_PLAIN,
      MiB + 3,
      5 * MiB - 64,
    ])
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'five-mib.bin', Body: five }))
    written.set('five-mib.bin', five)

    // Multipart: the marker inside each part and once across the part boundary.
    const p1 = withMarkers(randomBytes(5 * MiB), marker, [1000, 3 * CHUNK_PLAIN - 1])
    const p2 = withMarkers(randomBytes(MiB + 5), marker, [77_777])
    const tail = Buffer.concat([p1, p2])
    marker.copy(tail, 5 * MiB - 32)
    const parts = [tail.subarray(0, 5 * MiB), tail.subarray(5 * MiB)]
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'multipart.bin' }))
    const etags = []
    for (const [i, body] of parts.entries()) {
      const r = await client.send(
        new UploadPartCommand({ Bucket: bucket, Key: 'multipart.bin', UploadId, PartNumber: i + 1, Body: body }),
      )
      etags.push({ PartNumber: i + 1, ETag: r.ETag })
    }
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'multipart.bin',
        UploadId,
        MultipartUpload: { Parts: etags },
      }),
    )
    written.set('multipart.bin', tail)

    for (const src of ['small.bin', 'five-mib.bin']) {
      await client.send(
        new CopyObjectCommand({ Bucket: bucket, Key: `copy-of-${src}`, CopySource: `${bucket}/${src}` }),
      )
      written.set(`copy-of-${src}`, written.get(src)!)
    }
  })

  afterAll(async () => {
    await server?.close({ keepData: true })
    if (server) await rm(server.dataDir, { recursive: true, force: true })
  })

  it('every object reads back with its markers (the data really went in)', async () => {
    for (const [key, data] of written) expect(sha256(await getBytes(client, bucket, key)), key).toBe(sha256(data))
  })

  it('no file under the data dir holds the marker raw, hex or base64 — while serving and after shutdown (REST-01)', async () => {
    const live = await findLeaks(server.dataDir, marker)
    expect(live.leaks).toEqual([])
    await server.close({ keepData: true })
    const cold = await findLeaks(server.dataDir, marker)
    expect(cold.leaks).toEqual([])
    // The scan covered the real thing: the keyring, LevelDB's files and at least all the ciphertext.
    const names = (await allFiles(server.dataDir)).map((f) => path.relative(server.dataDir, f))
    expect(names).toContain('keyring.json')
    expect(names).toContain(path.join('meta', 'CURRENT'))
    expect(names.some((n) => n.startsWith(`meta${path.sep}`) && /\.log$|\.ldb$/.test(n))).toBe(true)
    const plaintextBytes = [...written.values()].reduce((n, b) => n + b.length, 0)
    expect(cold.bytes).toBeGreaterThan(plaintextBytes)
    // One blob per part write: small, five-mib, 2 multipart parts, 2 copies (docs/architecture.md#storage-on-disk).
    expect(await blobFiles(server.dataDir)).toHaveLength(6)
  })

  it('the root keyring file has mode 0600 (crypto/README.md §7)', async () => {
    const st = await stat(path.join(server.dataDir, 'keyring.json'))
    expect((st.mode & 0o777).toString(8)).toBe('600')
  })
})

/** GET through a presigned URL with node:http, keeping whatever arrives before an abort. */
function rawGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; contentLength: number; body: Buffer; complete: boolean; error?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      const pieces: Buffer[] = []
      let settled = false
      const finish = (error?: string) => {
        if (settled) return
        settled = true
        resolve({
          status: res.statusCode ?? 0,
          contentLength: Number(res.headers['content-length']),
          body: Buffer.concat(pieces),
          complete: res.complete && !error,
          error,
        })
      }
      res.on('data', (b: Buffer) => pieces.push(b))
      res.on('end', () => finish())
      res.on('aborted', () => finish('aborted'))
      res.on('error', (e) => finish(e.message))
      res.on('close', () => finish(res.complete ? undefined : 'closed before the end'))
    })
    req.on('error', reject)
  })
}

async function flipByte(file: string, offset: number): Promise<void> {
  const fh = await open(file, 'r+')
  try {
    const b = Buffer.alloc(1)
    await fh.read(b, 0, 1, offset)
    b[0] ^= 0xff
    await fh.write(b, 0, 1, offset)
  } finally {
    await fh.close()
  }
}

describe('REST-02 SSE-S3: a flipped ciphertext byte is never served as data', () => {
  let server: TestServer
  let client: S3Client
  const bucket = 'tamper'

  /** PUTs an object and returns the one blob file that appeared for it. */
  async function putAndFindBlob(key: string, body: Buffer): Promise<string> {
    const before = new Set(await blobFiles(server.dataDir))
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))
    const added = (await blobFiles(server.dataDir)).filter((f) => !before.has(f))
    expect(added, 'a PUT writes exactly one blob file').toHaveLength(1)
    return added[0]
  }

  const presignedGet = (Key: string) =>
    getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key }), { expiresIn: 600 })

  beforeAll(async () => {
    server = await startTestServer()
    // No retries: a 500 is the answer under test, not a transient fault.
    client = makeClient(server.endpoint, { maxAttempts: 1 })
    await client.send(new CreateBucketCommand({ Bucket: bucket }))
  })

  afterAll(async () => {
    await server?.close()
  })

  it('small object (one chunk): GET answers 500 InternalError with the XML error and no object bytes', async () => {
    const data = randomBytes(1000)
    const blob = await putAndFindBlob('small.bin', data)
    expect((await stat(blob)).size).toBe(1000 + 16)
    expect(sha256(await getBytes(client, bucket, 'small.bin'))).toBe(sha256(data))
    await flipByte(blob, 500)

    const err = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'small.bin' })).then(
      () => undefined,
      (e: { name?: string; $metadata?: { httpStatusCode?: number } }) => e,
    )
    expect(err?.$metadata?.httpStatusCode).toBe(500)
    expect(err?.name).toBe('InternalError')

    const raw = await rawGet(await presignedGet('small.bin'))
    expect(raw.status).toBe(500)
    const text = raw.body.toString('utf8')
    expect(text).toContain('<Code>InternalError</Code>')
    expect(text).toContain('<Message>We encountered an internal error. Please try again.</Message>')
    expect(raw.body.indexOf(data.subarray(0, 16))).toBe(-1)
  })

  it('large object, byte flipped in chunk 10: the 200 response is aborted before chunk 10, never completed', async () => {
    const size = MiB + 100 // 17 chunks
    const data = randomBytes(size)
    const blob = await putAndFindBlob('large.bin', data)
    expect((await stat(blob)).size).toBe(size + 17 * 16)
    const badChunk = 10
    await flipByte(blob, badChunk * CHUNK_STORED + 1234)

    const raw = await rawGet(await presignedGet('large.bin'))
    // Chunk 0 authenticates, so the status line may already be out: then the body must be cut.
    if (raw.status === 200) {
      expect(raw.contentLength).toBe(size)
      expect(raw.complete, `response completed: ${raw.body.length} of ${size} bytes`).toBe(false)
      expect(raw.body.length).toBeLessThan(size)
    } else {
      expect(raw.status).toBe(500)
    }
    // What did arrive is a prefix of the object, and nothing of the tampered chunk or after it.
    if (raw.status === 200) {
      expect(raw.body.length).toBeLessThanOrEqual(badChunk * CHUNK_PLAIN)
      expect(raw.body.equals(data.subarray(0, raw.body.length))).toBe(true)
    }

    // The SDK sees an error (on the request or while reading the body), never the whole object.
    const sdkOutcome = await client
      .send(new GetObjectCommand({ Bucket: bucket, Key: 'large.bin' }))
      .then(
        async (res) => {
          const bytes = await res.Body!.transformToByteArray()
          return `completed with ${bytes.length} bytes`
        },
        (e: Error) => `failed: ${e.name}`,
      )
      .catch((e: Error) => `failed: ${e.name}`)
    expect(sdkOutcome).toMatch(/^failed: /)
  })

  it('byte flipped in chunk 0 of a large object: a clean 500 InternalError before any header', async () => {
    const data = randomBytes(300 * KiB)
    const blob = await putAndFindBlob('first-chunk.bin', data)
    await flipByte(blob, 7)
    const raw = await rawGet(await presignedGet('first-chunk.bin'))
    expect(raw.status).toBe(500)
    expect(raw.body.toString('utf8')).toContain('<Code>InternalError</Code>')
  })

  it('range reads: a range covering the bad chunk fails with 500; a range before it is served intact (crypto/README.md §5)', async () => {
    const data = randomBytes(5 * CHUNK_PLAIN)
    const blob = await putAndFindBlob('ranged.bin', data)
    await flipByte(blob, 3 * CHUNK_STORED + 10)

    const bad = await rawGet(await presignedGet('ranged.bin'), {
      Range: `bytes=${3 * CHUNK_PLAIN + 5}-${3 * CHUNK_PLAIN + 50}`,
    })
    expect(bad.status).toBe(500)
    expect(bad.body.toString('utf8')).toContain('<Code>InternalError</Code>')

    const good = await rawGet(await presignedGet('ranged.bin'), { Range: `bytes=100-${2 * CHUNK_PLAIN + 99}` })
    expect(good.status).toBe(206)
    expect(good.complete).toBe(true)
    expect(good.body.equals(data.subarray(100, 2 * CHUNK_PLAIN + 100))).toBe(true)
  })
})
