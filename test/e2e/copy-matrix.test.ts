/**
 * @module E2E: the copy matrix — CopyObject and UploadPartCopy from SSE-S3 and SSE-C sources to
 * SSE-S3, SSE-C and bucket-default destinations, for sizes around the SR1 chunk size, 8 MiB and a
 * multipart source; every copy is re-encrypted under the destination's own key (its blob differs
 * from the source's), also the SSE-C in-place key rotation, which writes the data again under a
 * fresh object key and deletes the old blobs, as AWS re-encrypts (checklist rows SSEC-25/26 and SELF-*).
 * SSE-KMS sources and destinations belong to the SSE-KMS suite.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectSdkError } from '../support/expect-s3.js'
import {
  K1,
  K2,
  K3,
  MSG,
  blobFiles,
  md5Hex,
  newBlobs,
  sdkCopySsec,
  sdkSsec,
  sha256Hex,
  sr1Size,
  type CustomerKeyVector,
} from '../support/sse-c.js'
import { CHECKSUM_MODES, makeClient, startTestServer, type TestServer } from '../support/server.js'

const MiB = 1024 * 1024
const SIZES = [0, 1, 65535, 65537, 8 * MiB] as const
/** The multipart source: a 5 MiB part and a part just over one SR1 chunk. */
const MULTIPART = [5 * MiB, 65537] as const

type Mode = 'SSE-S3' | 'SSE-C'
type SourceName = `${number}` | 'multipart'

interface Source {
  key: string
  data: Buffer
  /** The blob files written for the source (one per part). */
  blobs: Buffer[]
}

/** A destination: how CreateMultipartUpload/CopyObject ask for it, what UploadPart(Copy) repeats, what reads need. */
interface Dest {
  name: string
  mode: Mode
  /** Bucket with an explicit AES256 default (PutBucketEncryption) instead of the implicit one. */
  explicitDefault: boolean
  write: Record<string, unknown>
  part: Record<string, unknown>
  read: Record<string, unknown>
  key?: CustomerKeyVector
}

const DESTS: Dest[] = [
  {
    name: 'AES256 header',
    mode: 'SSE-S3',
    explicitDefault: false,
    write: { ServerSideEncryption: 'AES256' },
    part: {},
    read: {},
  },
  {
    name: 'SSE-C K3',
    mode: 'SSE-C',
    explicitDefault: false,
    write: sdkSsec(K3),
    part: sdkSsec(K3),
    read: sdkSsec(K3),
    key: K3,
  },
  { name: 'implicit bucket default', mode: 'SSE-S3', explicitDefault: false, write: {}, part: {}, read: {} },
  { name: 'explicit bucket default AES256', mode: 'SSE-S3', explicitDefault: true, write: {}, part: {}, read: {} },
]

const bytesOf = async (res: { Body?: { transformToByteArray(): Promise<Uint8Array> } }) =>
  Buffer.from(await res.Body!.transformToByteArray())

/**
 * The copy's one new blob is a fresh encryption: SR1 size of the plaintext, and neither equal to
 * nor sharing its first 32 bytes with any blob of the source (same plaintext under the same key
 * and nonce would give the same bytes).
 */
function expectFreshBlob(blobs: Buffer[], plainSize: number, source: Source): void {
  expect(blobs, 'one new blob for the copy').toHaveLength(1)
  const blob = blobs[0]
  expect(blob.length).toBe(sr1Size(plainSize))
  for (const s of source.blobs) {
    const n = Math.min(32, blob.length, s.length)
    expect(blob.subarray(0, n).equals(s.subarray(0, n)), 'copy blob starts like a source blob').toBe(false)
  }
}

describe.each(CHECKSUM_MODES)('copy matrix (requestChecksumCalculation %s)', (checksumMode) => {
  let srv: TestServer
  let s3: S3Client
  const bucket = checksumMode === 'WHEN_SUPPORTED' ? 'matrix-ws' : 'matrix-wr'
  const explicitBucket = `${bucket}-enc`
  const sources = new Map<string, Source>()
  const sourceKey = (mode: Mode, name: SourceName) => `src/${mode}/${name}`
  const srcCopy = (mode: Mode) => (mode === 'SSE-C' ? sdkCopySsec(K1) : {})
  const destBucket = (d: Dest) => (d.explicitDefault ? explicitBucket : bucket)

  beforeAll(async () => {
    srv = await startTestServer({ args: ['--allow-sse-c-on-new-buckets'] })
    s3 = makeClient(srv.endpoint, { requestChecksumCalculation: checksumMode, maxAttempts: 1 })
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    await s3.send(new CreateBucketCommand({ Bucket: explicitBucket }))
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: explicitBucket,
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
      }),
    )
    for (const mode of ['SSE-S3', 'SSE-C'] as const) {
      const write = mode === 'SSE-C' ? sdkSsec(K1) : { ServerSideEncryption: 'AES256' as const }
      for (const size of SIZES) {
        const key = sourceKey(mode, `${size}`)
        const data = randomBytes(size)
        const { blobs } = await newBlobs(srv.dataDir, () =>
          s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ...write })),
        )
        expect(blobs).toHaveLength(1)
        sources.set(key, { key, data, blobs })
      }
      const key = sourceKey(mode, 'multipart')
      const parts = MULTIPART.map((n) => randomBytes(n))
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...write }))
      const part = mode === 'SSE-C' ? sdkSsec(K1) : {}
      const { result: etags, blobs } = await newBlobs(srv.dataDir, async () => {
        const out = []
        for (const [i, body] of parts.entries()) {
          const r = await s3.send(
            new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: body, ...part }),
          )
          out.push({ PartNumber: i + 1, ETag: r.ETag })
        }
        return out
      })
      expect(blobs).toHaveLength(2)
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: etags },
          ...part,
        }),
      )
      sources.set(key, { key, data: Buffer.concat(parts), blobs })
    }
  })
  afterAll(async () => {
    await srv?.close()
  })

  /** Reads the destination back, checks its mode on HEAD, and (SSE-C) that the source key does not open it. */
  async function expectDestination(d: Dest, key: string, src: Source, srcMode: Mode): Promise<void> {
    const got = await s3.send(new GetObjectCommand({ Bucket: destBucket(d), Key: key, ...d.read }))
    const bytes = await bytesOf(got)
    expect(bytes.length).toBe(src.data.length)
    expect(sha256Hex(bytes), 'byte-exact read back').toBe(sha256Hex(src.data))
    if (d.mode === 'SSE-C') {
      expect([got.SSECustomerKeyMD5, got.ServerSideEncryption]).toEqual([d.key!.md5, undefined])
      if (srcMode === 'SSE-C') {
        await expectSdkError(s3.send(new GetObjectCommand({ Bucket: destBucket(d), Key: key, ...sdkSsec(K1) })), {
          status: 403,
          code: 'AccessDenied',
          message: MSG.wrongKey,
        })
      }
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: destBucket(d), Key: key })), {
        status: 400,
        code: 'InvalidRequest',
        message: MSG.storedWithSse,
      })
    } else {
      expect([got.ServerSideEncryption, got.SSECustomerAlgorithm]).toEqual(['AES256', undefined])
    }
  }

  const cases = (['SSE-S3', 'SSE-C'] as const).flatMap((srcMode) =>
    [...SIZES.map((s) => `${s}` as SourceName), 'multipart' as const].flatMap((name) =>
      DESTS.map((d) => ({ srcMode, name, d })),
    ),
  )

  it.each(cases)(
    'CopyObject $srcMode source of $name bytes -> $d.name: re-encrypted, right headers and ETag, byte-exact (SSEC-25, SSEC-26, CPY-08)',
    async ({ srcMode, name, d }) => {
      const src = sources.get(sourceKey(srcMode, name))!
      const key = `copy/${srcMode}/${name}/${d.name}`
      const { result, blobs } = await newBlobs(srv.dataDir, () =>
        s3.send(
          new CopyObjectCommand({
            Bucket: destBucket(d),
            Key: key,
            CopySource: `${bucket}/${src.key}`,
            ...srcCopy(srcMode),
            ...d.write,
          }),
        ),
      )
      expectFreshBlob(blobs, src.data.length, src)
      const etag = result.CopyObjectResult?.ETag
      if (d.mode === 'SSE-C') {
        expect([result.SSECustomerAlgorithm, result.SSECustomerKeyMD5, result.ServerSideEncryption]).toEqual([
          'AES256',
          d.key!.md5,
          undefined,
        ])
        expect(etag).toMatch(/^"[0-9a-f]{32}"$/)
        expect(etag).not.toBe(`"${md5Hex(src.data)}"`)
      } else {
        expect([result.ServerSideEncryption, result.SSECustomerAlgorithm]).toEqual(['AES256', undefined])
        // A copy is a new single-part object: SSE-S3 gives the plaintext MD5, also for a multipart source (CPY-08).
        expect(etag).toBe(`"${md5Hex(src.data)}"`)
      }
      await expectDestination(d, key, src, srcMode)
    },
  )

  it.each(cases)(
    'UploadPartCopy $srcMode source of $name bytes -> upload with $d.name: the part is re-encrypted, the completed object byte-exact',
    async ({ srcMode, name, d }) => {
      const src = sources.get(sourceKey(srcMode, name))!
      const key = `part-copy/${srcMode}/${name}/${d.name}`
      const Bucket = destBucket(d)
      const create = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: key, ...d.write }))
      expect(d.mode === 'SSE-C' ? create.SSECustomerKeyMD5 : create.ServerSideEncryption).toBe(
        d.mode === 'SSE-C' ? d.key!.md5 : 'AES256',
      )
      const { UploadId } = create
      const { result: part, blobs } = await newBlobs(srv.dataDir, () =>
        s3.send(
          new UploadPartCopyCommand({
            Bucket,
            Key: key,
            UploadId,
            PartNumber: 1,
            CopySource: `${bucket}/${src.key}`,
            ...srcCopy(srcMode),
            ...d.part,
          }),
        ),
      )
      expectFreshBlob(blobs, src.data.length, src)
      const partEtag = part.CopyPartResult!.ETag!
      if (d.mode === 'SSE-C') {
        expect([part.SSECustomerAlgorithm, part.SSECustomerKeyMD5, part.ServerSideEncryption]).toEqual([
          'AES256',
          d.key!.md5,
          undefined,
        ])
        expect(partEtag).not.toBe(`"${md5Hex(src.data)}"`)
      } else {
        expect(part.ServerSideEncryption).toBe('AES256')
        expect(partEtag).toBe(`"${md5Hex(src.data)}"`)
      }
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: partEtag }] },
        }),
      )
      expect(done.ETag).toBe(`"${md5Hex(Buffer.from(partEtag.replace(/"/g, ''), 'hex'))}-1"`)
      expect(done.ServerSideEncryption).toBe(d.mode === 'SSE-C' ? undefined : 'AES256')
      await expectDestination(d, key, src, srcMode)
    },
  )

  it.each(['SSE-S3', 'SSE-C'] as const)(
    'UploadPartCopy with x-amz-copy-source-range across the part boundary of a multipart %s source, into an SSE-C upload',
    async (srcMode) => {
      const src = sources.get(sourceKey(srcMode, 'multipart'))!
      const key = `range-copy/${srcMode}`
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...sdkSsec(K2) }))
      // Part 1: 5 MiB that straddle the source's part boundary; part 2: the last bytes, inside source part 2.
      const ranges = [
        [65537, 65537 + 5 * MiB - 1],
        [5 * MiB + 1000, 5 * MiB + 65536],
      ]
      const etags = []
      for (const [i, [a, b]] of ranges.entries()) {
        const r = await s3.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: key,
            UploadId,
            PartNumber: i + 1,
            CopySource: `${bucket}/${src.key}`,
            CopySourceRange: `bytes=${a}-${b}`,
            ...srcCopy(srcMode),
            ...sdkSsec(K2),
          }),
        )
        etags.push({ PartNumber: i + 1, ETag: r.CopyPartResult?.ETag })
      }
      await s3.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: etags } }),
      )
      const want = Buffer.concat(ranges.map(([a, b]) => src.data.subarray(a, b + 1)))
      const got = await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...sdkSsec(K2) })))
      expect(sha256Hex(got)).toBe(sha256Hex(want))
    },
  )

  it.each([0, 65537, 'multipart'] as const)(
    'CopyObject SSE-C K1 -> K1 (same key, other object) of %s bytes still re-encrypts under a new object key',
    async (name) => {
      const src = sources.get(sourceKey('SSE-C', `${name}` as SourceName))!
      const key = `same-key/${name}`
      const { result, blobs } = await newBlobs(srv.dataDir, () =>
        s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: key,
            CopySource: `${bucket}/${src.key}`,
            ...sdkCopySsec(K1),
            ...sdkSsec(K1),
          }),
        ),
      )
      expectFreshBlob(blobs, src.data.length, src)
      expect(result.SSECustomerKeyMD5).toBe(K1.md5)
      expect(
        sha256Hex(await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...sdkSsec(K1) })))),
      ).toBe(sha256Hex(src.data))
    },
  )
})

describe('copy onto itself (docs/s3-sse-rules.md §4.11, §8.14 SELF-*)', () => {
  let srv: TestServer
  let s3: S3Client
  const bucket = 'self'

  /** PUTs `data` under `key` and returns the blob files it wrote. */
  async function put(key: string, data: Buffer, extra: Record<string, unknown>): Promise<Buffer[]> {
    return (
      await newBlobs(srv.dataDir, () =>
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ...extra })),
      )
    ).blobs
  }

  /**
   * A re-key by self-copy writes one new blob and deletes the replaced object's `removed` blobs
   * after the commit (polled a bounded number of times: the deletion follows the answer).
   */
  async function expectRekeyed(before: Record<string, string>, removed: number): Promise<void> {
    let now = await snapshot()
    for (let i = 0; i < 100 && Object.keys(before).filter((f) => !(f in now)).length < removed; i++) {
      await new Promise((r) => setTimeout(r, 20))
      now = await snapshot()
    }
    expect(
      Object.keys(now).filter((f) => !(f in before)),
      'one new blob',
    ).toHaveLength(1)
    expect(
      Object.keys(before).filter((f) => !(f in now)),
      'the old blobs are gone',
    ).toHaveLength(removed)
  }

  /** SHA-256 of every blob file, by path. */
  async function snapshot(): Promise<Record<string, string>> {
    const out: Record<string, string> = {}
    for (const f of await blobFiles(srv.dataDir)) out[f] = sha256Hex(await readFile(f))
    return out
  }

  beforeAll(async () => {
    srv = await startTestServer({ args: ['--allow-sse-c-on-new-buckets'] })
    s3 = makeClient(srv.endpoint, { maxAttempts: 1 })
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
  })
  afterAll(async () => {
    await srv?.close()
  })

  it("SELF-11 SSE-C K1 -> K3 by self-copy answers 200 with K3's MD5; GET needs K3 (K1: 403); the data is written again under a fresh object key and the old blob is gone", async () => {
    const data = randomBytes(3 * 65536 + 5)
    await put('rot', data, sdkSsec(K1))
    const before = await snapshot()
    const res = await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'rot',
        CopySource: `${bucket}/rot`,
        ...sdkCopySsec(K1),
        ...sdkSsec(K3),
      }),
    )
    expect([res.SSECustomerAlgorithm, res.SSECustomerKeyMD5, res.ServerSideEncryption]).toEqual([
      'AES256',
      K3.md5,
      undefined,
    ])
    expect(res.CopyObjectResult?.ETag).toMatch(/^"[0-9a-f]{32}"$/)
    await expectRekeyed(before, 1)
    expect(
      sha256Hex(await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rot', ...sdkSsec(K3) })))),
    ).toBe(sha256Hex(data))
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rot', ...sdkSsec(K1) })), {
      status: 403,
      code: 'AccessDenied',
      message: MSG.wrongKey,
    })
    // Rotating again with the old key as the copy source is the wrong key now.
    await expectSdkError(
      s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'rot',
          CopySource: `${bucket}/rot`,
          ...sdkCopySsec(K1),
          ...sdkSsec(K2),
        }),
      ),
      {
        status: 403,
        code: 'AccessDenied',
        message: MSG.wrongKey,
      },
    )
    const range = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'rot', Range: 'bytes=65530-131080', ...sdkSsec(K3) }),
    )
    expect((await bytesOf(range)).equals(data.subarray(65530, 131081))).toBe(true)
  })

  it('SELF-11 rotating a multipart SSE-C object re-encrypts it; the result is a single-part object of the whole data (inferred, §3.13 "a new single-part object")', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(70_000)]
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'rot-mp', ...sdkSsec(K1) }),
    )
    const etags = []
    for (const [i, Body] of parts.entries()) {
      const r = await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: 'rot-mp', UploadId, PartNumber: i + 1, Body, ...sdkSsec(K1) }),
      )
      etags.push({ PartNumber: i + 1, ETag: r.ETag })
    }
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'rot-mp',
        UploadId,
        MultipartUpload: { Parts: etags },
      }),
    )
    const before = await snapshot()
    const res = await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'rot-mp',
        CopySource: `${bucket}/rot-mp`,
        ...sdkCopySsec(K1),
        ...sdkSsec(K3),
      }),
    )
    expect(res.CopyObjectResult?.ETag).toMatch(/^"[0-9a-f]{32}"$/)
    await expectRekeyed(before, 2)
    const all = Buffer.concat(parts)
    expect(
      sha256Hex(await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rot-mp', ...sdkSsec(K3) })))),
    ).toBe(sha256Hex(all))
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'rot-mp', ...sdkSsec(K3) }))
    expect(head.ETag).toBe(res.CopyObjectResult?.ETag)
    const p1 = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rot-mp', PartNumber: 1, ...sdkSsec(K3) }))
    expect(p1.ContentRange).toBe(`bytes 0-${all.length - 1}/${all.length}`)
    expect(sha256Hex(await bytesOf(p1))).toBe(sha256Hex(all))
    await expectSdkError(
      s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rot-mp', PartNumber: 2, ...sdkSsec(K3) })),
      { status: 416, code: 'InvalidPartNumber' },
    )
  })

  it('SELF-02 SELF-11 an SSE-C rotation with x-amz-metadata-directive REPLACE takes the new metadata and re-encrypts', async () => {
    const data = randomBytes(500)
    await put('rot-meta', data, { ...sdkSsec(K1), Metadata: { old: '1' }, ContentType: 'text/old' })
    const before = await snapshot()
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'rot-meta',
        CopySource: `${bucket}/rot-meta`,
        MetadataDirective: 'REPLACE',
        Metadata: { fresh: '2' },
        ContentType: 'text/new',
        ...sdkCopySsec(K1),
        ...sdkSsec(K3),
      }),
    )
    await expectRekeyed(before, 1)
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rot-meta', ...sdkSsec(K3) }))
    expect([got.Metadata, got.ContentType]).toEqual([{ fresh: '2' }, 'text/new'])
    expect((await bytesOf(got)).equals(data)).toBe(true)
  })

  it('SELF-11 a self-copy that repeats the same SSE-C key is legal (a destination trio is an encryption header) and re-encrypts (inferred)', async () => {
    const data = randomBytes(1000)
    await put('same', data, sdkSsec(K1))
    const before = await snapshot()
    const res = await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'same',
        CopySource: `${bucket}/same`,
        ...sdkCopySsec(K1),
        ...sdkSsec(K1),
      }),
    )
    expect(res.SSECustomerKeyMD5).toBe(K1.md5)
    await expectRekeyed(before, 1)
    expect(
      (await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'same', ...sdkSsec(K1) })))).equals(
        data,
      ),
    ).toBe(true)
  })

  it('SELF-06 (SSE-C analogue) an SSE-C object self-copied with only the copy-source trio becomes SSE-S3 with the MD5 ETag and new ciphertext', async () => {
    const data = randomBytes(65537)
    const srcBlobs = await put('to-s3', data, sdkSsec(K1))
    const { result, blobs } = await newBlobs(srv.dataDir, () =>
      s3.send(
        new CopyObjectCommand({ Bucket: bucket, Key: 'to-s3', CopySource: `${bucket}/to-s3`, ...sdkCopySsec(K1) }),
      ),
    )
    expectFreshBlob(blobs, data.length, { key: 'to-s3', data, blobs: srcBlobs })
    expect(result.ServerSideEncryption).toBe('AES256')
    expect(result.CopyObjectResult?.ETag).toBe(`"${md5Hex(data)}"`)
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'to-s3' }))
    expect(got.ServerSideEncryption).toBe('AES256')
    expect((await bytesOf(got)).equals(data)).toBe(true)
    // The old blob is gone: the object's ciphertext was replaced, not shared.
    expect(Object.values(await snapshot())).not.toContain(sha256Hex(srcBlobs[0]))
  })

  it('SELF-05 an SSE-S3 object self-copied to SSE-C (destination trio) is re-encrypted: new blob, reads only with the key', async () => {
    const data = randomBytes(65535)
    const srcBlobs = await put('to-c', data, {})
    const { result, blobs } = await newBlobs(srv.dataDir, () =>
      s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'to-c', CopySource: `${bucket}/to-c`, ...sdkSsec(K2) })),
    )
    expectFreshBlob(blobs, data.length, { key: 'to-c', data, blobs: srcBlobs })
    expect(result.SSECustomerKeyMD5).toBe(K2.md5)
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'to-c' })), {
      status: 400,
      code: 'InvalidRequest',
      message: MSG.storedWithSse,
    })
    expect(
      (await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'to-c', ...sdkSsec(K2) })))).equals(
        data,
      ),
    ).toBe(true)
  })

  it('SELF-05 an SSE-S3 self-copy with x-amz-server-side-encryption: AES256 answers 200, keeps the MD5 ETag, and rewrites the data under a new object key', async () => {
    const data = randomBytes(70_000)
    const srcBlobs = await put('s3-s3', data, {})
    const { result, blobs } = await newBlobs(srv.dataDir, () =>
      s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 's3-s3',
          CopySource: `${bucket}/s3-s3`,
          ServerSideEncryption: 'AES256',
        }),
      ),
    )
    expectFreshBlob(blobs, data.length, { key: 's3-s3', data, blobs: srcBlobs })
    expect(result.CopyObjectResult?.ETag).toBe(`"${md5Hex(data)}"`)
  })

  it('SELF-01 SELF-08 an SSE-S3 self-copy with no change (or only x-amz-acl) answers 400 InvalidRequest', async () => {
    await put('nochange', randomBytes(10), {})
    await expectSdkError(
      s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'nochange', CopySource: `${bucket}/nochange` })),
      { status: 400, code: 'InvalidRequest', message: MSG.selfCopy },
    )
    await expectSdkError(
      s3.send(
        new CopyObjectCommand({ Bucket: bucket, Key: 'nochange', CopySource: `${bucket}/nochange`, ACL: 'private' }),
      ),
      {
        status: 400,
        code: 'InvalidRequest',
        message: MSG.selfCopy,
      },
    )
  })

  it('SELF-02 SELF-03 SELF-04 an SSE-C self-copy with REPLACE, a storage class or a redirect and the copy-source trio becomes SSE-S3 (no destination trio)', async () => {
    for (const [i, extra] of [
      { MetadataDirective: 'REPLACE' as const, Metadata: { m: 'v' } },
      { StorageClass: 'STANDARD' as const },
      { WebsiteRedirectLocation: '/x' },
    ].entries()) {
      const key = `c-self-${i}`
      await put(key, Buffer.from('abc'), sdkSsec(K1))
      const res = await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: key,
          CopySource: `${bucket}/${key}`,
          ...sdkCopySsec(K1),
          ...extra,
        }),
      )
      expect(res.ServerSideEncryption).toBe('AES256')
      expect((await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })))).toString()).toBe('abc')
    }
  })
})
