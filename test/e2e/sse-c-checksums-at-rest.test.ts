/**
 * @module SSE-C checksums at rest (crypto/README.md §10): after SSE-C PUTs, copies and multipart
 * uploads (with and without x-amz-checksum-sha256 / crc32 / a declared algorithm), no digest of
 * their plaintext — the CRC64NVME every object gets, the client's SHA-256 or CRC32, any part's —
 * is anywhere in the data directory outside the blobs (the LevelDB files above all): not as base64,
 * hex or raw bytes. While the server runs every write is still in LevelDB's log, uncompressed
 * (the test writes far less than a memtable holds), so the file scan then sees every value ever
 * written, deleted upload parts included; after a restart has rewritten the log into
 * Snappy-compressed tables, every stored key and value is scanned through LevelDB instead. A GET
 * or HEAD with the key and ChecksumMode ENABLED still answers the right checksum; without the key
 * it is refused as before. The SSE-S3 objects beside them are the scanner's positive control.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type ChecksumAlgorithm,
  type S3Client,
} from '@aws-sdk/client-s3'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'
import { Level } from 'level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LevelMetadataStore } from '../../storage/level/metadata.js'
import { allFiles } from '../support/data-dir.js'
import { expectSdkError, expectSdkHeadError } from '../support/expect-s3.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'
import { K1, K2, MSG, sdkCopySsec, sdkSsec } from '../support/sse-c.js'

const MiB = 1024 * 1024
const BUCKET = 'sealed-sums'

const b64 = (b: Buffer) => b.toString('base64')
const sha256 = (b: Buffer) => b64(createHash('sha256').update(b).digest())
const sha1 = (b: Buffer) => b64(createHash('sha1').update(b).digest())
const md5 = (b: Buffer) => b64(createHash('md5').update(b).digest())
const crc32 = (b: Buffer) => {
  const out = Buffer.alloc(4)
  out.writeUInt32BE(zlib.crc32(b) >>> 0)
  return b64(out)
}

/**
 * The forms in which a checksum value (base64, COMPOSITE ones with `-N`) would sit in a file: as
 * sent, without padding, its digest as raw bytes and as hex in either case.
 */
function leakForms(value: string): Buffer[] {
  const digest = value.replace(/-\d+$/, '')
  const raw = Buffer.from(digest, 'base64')
  return [value, digest, digest.replace(/=+$/, ''), raw.toString('hex'), raw.toString('hex').toUpperCase()]
    .map((s) => Buffer.from(s))
    .concat([raw])
}

/** Files of the data directory outside blobs/ (whose ciphertext the REST suites scan) holding any form of a value. */
async function leaks(dataDir: string, values: Iterable<string>): Promise<string[]> {
  const needles = [...new Set(values)].flatMap((v) => leakForms(v).map((n) => ({ v, n })))
  const out: string[] = []
  for (const file of await allFiles(dataDir)) {
    if (path.relative(dataDir, file).startsWith(`blobs${path.sep}`)) continue
    const data = await readFile(file)
    for (const { v, n } of needles)
      if (data.includes(n)) out.push(`${path.relative(dataDir, file)} holds ${v} (${n.length} bytes)`)
  }
  return [...new Set(out)]
}

/** Keys and values of the (closed) metadata store holding any form of a value, read through LevelDB. */
async function storedLeaks(dataDir: string, values: Iterable<string>): Promise<string[]> {
  const needles = [...new Set(values)].flatMap((v) => leakForms(v).map((n) => ({ v, n })))
  const db = new Level<Buffer, Buffer>(path.join(dataDir, 'meta'), { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  const out: string[] = []
  try {
    for await (const [k, v] of db.iterator()) {
      for (const { v: value, n } of needles)
        if (k.includes(n) || v.includes(n)) out.push(`${k.toString('latin1')} holds ${value}`)
    }
  } finally {
    await db.close()
  }
  return [...new Set(out)]
}

async function bytesOf(res: { Body?: unknown }): Promise<Buffer> {
  return Buffer.from(await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray())
}

/** What GET/HEAD with ChecksumMode ENABLED must answer for an object. */
interface Expected {
  data: Buffer
  sse: Record<string, unknown>
  checksum: Partial<Record<`Checksum${ChecksumAlgorithm}`, string>>
  type: 'FULL_OBJECT' | 'COMPOSITE'
}

describe('SSE-C checksums are sealed at rest and answered only with the key', () => {
  let dataDir: string
  let server: TestServer | undefined
  let s3: S3Client
  /** Every checksum value of SSE-C plaintext the test saw or computed: none may be at rest. */
  const secret = new Set<string>()
  /** Checksums of SSE-S3 objects, which stay in the clear: the scanner must find them. */
  const control = new Set<string>()
  const expected = new Map<string, Expected>()

  const start = async () => {
    server = await startTestServer({ dataDir, args: ['--allow-sse-c-on-new-buckets'] })
    // WHEN_REQUIRED: the client sends exactly the checksums each call names, nothing by default.
    s3 = makeClient(server.endpoint, { requestChecksumCalculation: 'WHEN_REQUIRED', maxAttempts: 1 })
  }
  const stop = async () => {
    s3?.destroy()
    await server?.close({ keepData: true })
    server = undefined
  }
  /** Every digest of a plaintext: each algorithm S3 offers that node computes, and the MD5. */
  const digestsOf = (b: Buffer) => [sha256(b), sha1(b), crc32(b), md5(b)]

  /**
   * Uploads `parts` as a multipart object (through `client`, default the main server's);
   * `withKeyAtComplete` sends the SSE-C key to Complete. The part checksums the server answers go
   * into `secret`, or into `sums` when given.
   */
  async function multipart(
    Key: string,
    parts: Buffer[],
    opts: {
      sse: Record<string, unknown>
      algorithm?: ChecksumAlgorithm
      type?: 'FULL_OBJECT' | 'COMPOSITE'
      withKeyAtComplete?: boolean
      complete?: boolean
      client?: S3Client
      sums?: Set<string>
    },
  ) {
    const client = opts.client ?? s3
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        ...opts.sse,
        ChecksumAlgorithm: opts.algorithm,
        ChecksumType: opts.type,
      }),
    )
    const listed = []
    for (const [i, Body] of parts.entries()) {
      const r = await client.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key,
          UploadId,
          PartNumber: i + 1,
          Body,
          ...opts.sse,
          ChecksumAlgorithm: opts.algorithm,
        }),
      )
      const sums = Object.fromEntries(
        Object.entries(r).filter(([k, v]) => k.startsWith('Checksum') && typeof v === 'string'),
      )
      for (const v of Object.values(sums)) (opts.sums ?? secret).add(v as string)
      listed.push({ PartNumber: i + 1, ETag: r.ETag, ...sums })
    }
    if (opts.complete === false) return { UploadId }
    const done = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        MultipartUpload: { Parts: listed },
        ...(opts.withKeyAtComplete ? opts.sse : {}),
      }),
    )
    return { UploadId, done }
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-sealed-sums-'))
    await start()
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
    const ssec = sdkSsec(K1)

    // Single PUTs: no checksum sent (the server's CRC64NVME), a SHA-256, a CRC32.
    for (const [Key, extra] of [
      ['put-plain', {}],
      ['put-sha256', { ChecksumAlgorithm: 'SHA256' }],
      ['put-crc32', { ChecksumAlgorithm: 'CRC32' }],
    ] as const) {
      const data = randomBytes(100_000)
      const r = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: data, ...ssec, ...extra }))
      const checksum = Object.fromEntries(
        Object.entries(r).filter(([k, v]) => k.startsWith('Checksum') && k !== 'ChecksumType' && typeof v === 'string'),
      )
      expect(Object.keys(checksum), Key).toHaveLength(1)
      for (const v of [...Object.values(checksum), ...digestsOf(data)]) secret.add(v as string)
      expected.set(Key, { data, sse: ssec, checksum, type: 'FULL_OBJECT' })
    }
    expect(expected.get('put-sha256')!.checksum.ChecksumSHA256).toBe(sha256(expected.get('put-sha256')!.data))
    expect(expected.get('put-crc32')!.checksum.ChecksumCRC32).toBe(crc32(expected.get('put-crc32')!.data))

    // Multipart, no algorithm declared, completed without the key: the whole CRC64NVME is known
    // only once a read presents the key. Its twin — the same parts as an SSE-S3 upload declaring
    // CRC64NVME, on a server of its own (its clear checksums must not be in this data directory) —
    // gives the part and whole values independently of any seal.
    const parts = [randomBytes(5 * MiB), randomBytes(70_000)]
    const bare = await multipart('mp-no-key', parts, { sse: ssec })
    expect(bare.done!.ChecksumCRC64NVME).toBeUndefined()
    const twinServer = await startTestServer()
    const twinClient = makeClient(twinServer.endpoint, { requestChecksumCalculation: 'WHEN_REQUIRED', maxAttempts: 1 })
    const partSums = new Set<string>()
    let crcWhole: string
    try {
      await twinClient.send(new CreateBucketCommand({ Bucket: BUCKET }))
      const twin = await multipart('twin', parts, {
        sse: {},
        algorithm: 'CRC64NVME',
        type: 'FULL_OBJECT',
        client: twinClient,
        sums: partSums,
      })
      crcWhole = twin.done!.ChecksumCRC64NVME!
    } finally {
      twinClient.destroy()
      await twinServer.close()
    }
    expect(crcWhole).toMatch(/^[A-Za-z0-9+/]{11}=$/)
    expect(partSums.size).toBe(2)
    for (const v of [crcWhole, ...partSums]) secret.add(v)
    for (const p of parts) for (const d of digestsOf(p)) secret.add(d)
    for (const d of digestsOf(Buffer.concat(parts))) secret.add(d)
    expected.set('mp-no-key', {
      data: Buffer.concat(parts),
      sse: ssec,
      checksum: { ChecksumCRC64NVME: crcWhole },
      type: 'FULL_OBJECT',
    })
    // The same, completed with the key: Complete answers the checksum, as AWS does.
    const keyed = await multipart('mp-key', parts, { sse: ssec, withKeyAtComplete: true })
    expect(keyed.done!.ChecksumCRC64NVME).toBe(crcWhole)
    expected.set('mp-key', {
      data: Buffer.concat(parts),
      sse: ssec,
      checksum: { ChecksumCRC64NVME: crcWhole },
      type: 'FULL_OBJECT',
    })

    // Declared SHA-256 (COMPOSITE) and CRC32 (FULL_OBJECT): Complete needs the key and answers.
    const shaParts = [randomBytes(5 * MiB), randomBytes(1234)]
    const sha = await multipart('mp-sha256', shaParts, { sse: ssec, algorithm: 'SHA256', withKeyAtComplete: true })
    // COMPOSITE: the SHA-256 of the parts' SHA-256 digests, then -<part count>.
    const composite = sha256(Buffer.concat(shaParts.map((p) => createHash('sha256').update(p).digest())))
    expect(sha.done!.ChecksumSHA256).toBe(`${composite}-2`)
    secret.add(sha.done!.ChecksumSHA256!)
    for (const p of shaParts) for (const d of digestsOf(p)) secret.add(d)
    expected.set('mp-sha256', {
      data: Buffer.concat(shaParts),
      sse: ssec,
      checksum: { ChecksumSHA256: sha.done!.ChecksumSHA256 },
      type: 'COMPOSITE',
    })
    const crcParts = [randomBytes(5 * MiB), randomBytes(999)]
    const crc = await multipart('mp-crc32', crcParts, {
      sse: ssec,
      algorithm: 'CRC32',
      type: 'FULL_OBJECT',
      withKeyAtComplete: true,
    })
    expect(crc.done!.ChecksumCRC32).toBe(crc32(Buffer.concat(crcParts)))
    for (const p of crcParts) for (const d of digestsOf(p)) secret.add(d)
    for (const d of digestsOf(Buffer.concat(crcParts))) secret.add(d)
    expected.set('mp-crc32', {
      data: Buffer.concat(crcParts),
      sse: ssec,
      checksum: { ChecksumCRC32: crc.done!.ChecksumCRC32 },
      type: 'FULL_OBJECT',
    })

    // An upload left in progress: its parts' checksums are sealed too.
    const openParts = [randomBytes(3000), randomBytes(4000)]
    const open = await multipart('mp-open', openParts, { sse: ssec, algorithm: 'SHA256', complete: false })
    for (const p of openParts) for (const d of digestsOf(p)) secret.add(d)
    const listedParts = await s3.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: 'mp-open', UploadId: open.UploadId, ...ssec }),
    )
    expect(listedParts.Parts?.map((p) => p.ChecksumSHA256)).toEqual(openParts.map(sha256))

    // Copies: SSE-C to another key with a new customer key, and the in-place re-key of the
    // object completed without the key (its checksum is combined and sealed then).
    const copied = await s3.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'copy',
        CopySource: `${BUCKET}/put-sha256`,
        ...sdkCopySsec(K1),
        ...sdkSsec(K2),
      }),
    )
    expect(copied.CopyObjectResult?.ChecksumSHA256).toBe(sha256(expected.get('put-sha256')!.data))
    expected.set('copy', { ...expected.get('put-sha256')!, sse: sdkSsec(K2) })
    const rekeyed = await s3.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'mp-no-key',
        CopySource: `${BUCKET}/mp-no-key`,
        ...sdkCopySsec(K1),
        ...sdkSsec(K2),
      }),
    )
    expect(rekeyed.CopyObjectResult?.ChecksumCRC64NVME).toBe(crcWhole)
    expected.set('mp-no-key', { ...expected.get('mp-no-key')!, sse: sdkSsec(K2) })

    // Positive control: SSE-S3 checksums are kept in the clear, so the scanner must see them.
    const plain = randomBytes(50_000)
    const r = await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'control-s3', Body: plain, ChecksumAlgorithm: 'SHA256' }),
    )
    control.add(r.ChecksumSHA256!)
    const r2 = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'control-s3-crc', Body: randomBytes(1000) }))
    control.add(r2.ChecksumCRC64NVME!)
  }, 120_000)

  afterAll(async () => {
    await stop()
    await rm(dataDir, { recursive: true, force: true })
  })

  async function checkReads(): Promise<void> {
    for (const [Key, e] of expected) {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, ...e.sse, ChecksumMode: 'ENABLED' }))
      expect((await bytesOf(got)).equals(e.data), Key).toBe(true)
      expect(got, Key).toMatchObject({ ...e.checksum, ChecksumType: e.type })
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key, ...e.sse, ChecksumMode: 'ENABLED' }))
      expect(head, Key).toMatchObject({ ...e.checksum, ChecksumType: e.type })
      await expectSdkHeadError(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key, ChecksumMode: 'ENABLED' })), 400)
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, ChecksumMode: 'ENABLED' })), {
        status: 400,
        code: 'InvalidRequest',
        message: MSG.storedWithSse,
      })
    }
  }

  it('GET and HEAD with the key and ChecksumMode ENABLED answer each checksum; without the key they are refused', async () => {
    await checkReads()
  }, 60_000)

  it('no checksum of SSE-C plaintext is in the data directory outside the blobs; SSE-S3 ones are found', async () => {
    expect(secret.size).toBeGreaterThan(30)
    expect(await leaks(dataDir, secret)).toEqual([])
    for (const v of control) expect((await leaks(dataDir, [v])).length, v).toBeGreaterThan(0)
  }, 60_000)

  it('after a restart (the LevelDB log rewritten into tables) no stored value holds one, and every read still answers', async () => {
    await stop()
    // Open and close the store once more on its own, so the log is surely rewritten into tables.
    await (await LevelMetadataStore.open(path.join(dataDir, 'meta'))).close()
    expect(await storedLeaks(dataDir, secret)).toEqual([])
    for (const v of control) expect((await storedLeaks(dataDir, [v])).length, v).toBeGreaterThan(0)
    expect(await leaks(dataDir, secret)).toEqual([])
    await start()
    await checkReads()
  }, 60_000)

  it('records written before sealing (checksums in the clear) are still answered', async () => {
    await stop()
    const meta = await LevelMetadataStore.open(path.join(dataDir, 'meta'))
    const data = randomBytes(2000)
    const old = (await meta.getObject(BUCKET, 'put-plain'))!
    // An SSE-C record as older builds wrote it: the value beside algorithm and type, not sealed.
    await meta.commitObject({
      ...old,
      key: 'put-plain',
      checksum: { algorithm: 'SHA256', type: 'FULL_OBJECT', value: sha256(data) },
    })
    await meta.close()
    await start()
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: 'put-plain', ...sdkSsec(K1), ChecksumMode: 'ENABLED' }),
    )
    expect(head.ChecksumSHA256).toBe(sha256(data))
  }, 60_000)
})
