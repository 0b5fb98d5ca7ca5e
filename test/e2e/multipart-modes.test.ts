/**
 * @module E2E: multipart uploads under SSE-S3 and SSE-C — every UploadPart repeats the customer
 * key, re-uploading a part number never reuses a (key, nonce) pair (fresh part salt, crypto/README.md §4),
 * and ranged / partNumber reads across part boundaries (docs/s3-sse-rules.md §3.14, §4.8
 * "Multipart", §8.13 SSEC-18..23). SSE-KMS uploads belong to the SSE-KMS suite.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LevelMetadataStore } from '../../storage/level/metadata.js'
import { expectRawError, expectSdkError, expectSdkHeadError } from '../support/expect-s3.js'
import { parseXml, signedSend } from '../support/raw-s3.js'
import {
  K1,
  K3,
  MSG,
  SSE_C_KEY_MD5,
  blobFiles,
  md5Hex,
  newBlobs,
  sdkSsec,
  sha256Hex,
  sr1Size,
  ssecHeaders,
} from '../support/sse-c.js'
import { CHECKSUM_MODES, makeClient, startTestServer, type TestServer } from '../support/server.js'

const MiB = 1024 * 1024
const ALLOW = ['--allow-sse-c-on-new-buckets']

const bytesOf = async (res: { Body?: { transformToByteArray(): Promise<Uint8Array> } }) =>
  Buffer.from(await res.Body!.transformToByteArray())
const multipartEtag = (partEtags: string[]) =>
  `"${md5Hex(Buffer.concat(partEtags.map((e) => Buffer.from(e.replace(/"/g, ''), 'hex'))))}-${partEtags.length}"`

describe.each(CHECKSUM_MODES)('SSE-C multipart (requestChecksumCalculation %s)', (checksumMode) => {
  let srv: TestServer
  let s3: S3Client
  const bucket = checksumMode === 'WHEN_SUPPORTED' ? 'mpc-ws' : 'mpc-wr'

  beforeAll(async () => {
    srv = await startTestServer({ args: ALLOW })
    s3 = makeClient(srv.endpoint, { requestChecksumCalculation: checksumMode, maxAttempts: 1 })
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain-src', Body: 'plain source' }))
  })
  afterAll(async () => {
    await srv?.close()
  })

  it('SSEC-18 SSEC-22 Create with K1 answers the C headers; every UploadPart with K1 too; Complete without the trio answers 200, no C headers, ETag -N', async () => {
    const key = 'ssec-18'
    const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...sdkSsec(K1) }))
    expect([create.SSECustomerAlgorithm, create.SSECustomerKeyMD5, create.ServerSideEncryption]).toEqual([
      'AES256',
      K1.md5,
      undefined,
    ])
    const { UploadId } = create
    const bodies = [randomBytes(5 * MiB), randomBytes(5 * MiB + 3), randomBytes(1000)]
    const etags: string[] = []
    for (const [i, Body] of bodies.entries()) {
      const r = await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body, ...sdkSsec(K1) }),
      )
      expect([r.SSECustomerAlgorithm, r.SSECustomerKeyMD5, r.ServerSideEncryption]).toEqual([
        'AES256',
        K1.md5,
        undefined,
      ])
      expect(r.ETag).toMatch(/^"[0-9a-f]{32}"$/)
      expect(r.ETag).not.toBe(`"${md5Hex(Body)}"`)
      etags.push(r.ETag!)
    }
    const done = await signedSend(srv.port, {
      method: 'POST',
      path: `/${bucket}/${key}`,
      query: { uploadId: UploadId! },
      body: `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`,
    })
    expect(done.status).toBe(200)
    expect(Object.keys(done.headers).filter((h) => h.startsWith('x-amz-server-side-encryption'))).toEqual([])
    expect(parseXml(done.text).CompleteMultipartUploadResult.ETag).toBe(multipartEtag(etags))
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...sdkSsec(K1) }))
    expect(head.ETag).toBe(multipartEtag(etags))
    expect(head.SSECustomerKeyMD5).toBe(K1.md5)
    const got = await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...sdkSsec(K1) })))
    expect(sha256Hex(got)).toBe(sha256Hex(Buffer.concat(bodies)))
  })

  it('SSEC-19 UploadPart and UploadPartCopy without the trio on a K1 upload answer 400 InvalidRequest (initiate requested encryption)', async () => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'ssec-19', ...sdkSsec(K1) }),
    )
    await expectSdkError(
      s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'ssec-19', UploadId, PartNumber: 1, Body: 'x' })),
      {
        status: 400,
        code: 'InvalidRequest',
        message: MSG.initiateRequested,
      },
    )
    await expectSdkError(
      s3.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: 'ssec-19',
          UploadId,
          PartNumber: 1,
          CopySource: `${bucket}/plain-src`,
        }),
      ),
      {
        status: 400,
        code: 'InvalidRequest',
        message: MSG.initiateRequested,
      },
    )
  })

  it('SSEC-20 UploadPart and UploadPartCopy with the trio on a non-SSE-C upload answer 400 InvalidRequest (initiate requested encryption)', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'ssec-20' }))
    await expectSdkError(
      s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: 'ssec-20', UploadId, PartNumber: 1, Body: 'x', ...sdkSsec(K1) }),
      ),
      {
        status: 400,
        code: 'InvalidRequest',
        message: MSG.initiateRequested,
      },
    )
    await expectSdkError(
      s3.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: 'ssec-20',
          UploadId,
          PartNumber: 1,
          CopySource: `${bucket}/plain-src`,
          ...sdkSsec(K1),
        }),
      ),
      {
        status: 400,
        code: 'InvalidRequest',
        message: MSG.initiateRequested,
      },
    )
  })

  it('SSEC-21 UploadPart and UploadPartCopy with K3 on a K1 upload answer 400 InvalidRequest (did not match); a bad key MD5 answers its own 400', async () => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'ssec-21', ...sdkSsec(K1) }),
    )
    await expectSdkError(
      s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: 'ssec-21', UploadId, PartNumber: 1, Body: 'x', ...sdkSsec(K3) }),
      ),
      {
        status: 400,
        code: 'InvalidRequest',
        message: MSG.didNotMatch,
      },
    )
    await expectSdkError(
      s3.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: 'ssec-21',
          UploadId,
          PartNumber: 1,
          CopySource: `${bucket}/plain-src`,
          ...sdkSsec(K3),
        }),
      ),
      {
        status: 400,
        code: 'InvalidRequest',
        message: MSG.didNotMatch,
      },
    )
    const badMd5 = await signedSend(srv.port, {
      method: 'PUT',
      path: `/${bucket}/ssec-21`,
      query: { partNumber: '1', uploadId: UploadId! },
      headers: { ...ssecHeaders(K1), [SSE_C_KEY_MD5]: K3.md5 },
      body: 'x',
    })
    expectRawError(badMd5, { status: 400, code: 'InvalidArgument', message: MSG.md5Mismatch })
    // None of the refused parts was stored.
    expect((await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'ssec-21', UploadId }))).Parts ?? []).toEqual([])
  })

  it('SSEC-23 ListParts without the trio answers 200 with the parts (no checksum algorithm declared)', async () => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'ssec-23', ...sdkSsec(K1) }),
    )
    const p = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: 'ssec-23', UploadId, PartNumber: 3, Body: 'abc', ...sdkSsec(K1) }),
    )
    const list = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'ssec-23', UploadId }))
    expect(list.Parts?.map((x) => [x.PartNumber, x.ETag, x.Size])).toEqual([[3, p.ETag, 3]])
    const raw = await signedSend(srv.port, {
      method: 'GET',
      path: `/${bucket}/ssec-23`,
      query: { uploadId: UploadId! },
    })
    expect(raw.status).toBe(200)
    expect(Object.keys(raw.headers).filter((h) => h.startsWith('x-amz-server-side-encryption'))).toEqual([])
  })

  it('SSEC-22 with a checksum algorithm declared at Create, Complete and ListParts need the key: none -> 400 (initiate…), K3 -> 400 (did not match), K1 -> 200 (contract-defined, not AWS-verified)', async () => {
    const key = 'ssec-22-cks'
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: 'CRC32', ...sdkSsec(K1) }),
    )
    const body = randomBytes(1000)
    const p = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber: 1,
        Body: body,
        ChecksumAlgorithm: 'CRC32',
        ...sdkSsec(K1),
      }),
    )
    const parts = { Parts: [{ PartNumber: 1, ETag: p.ETag, ChecksumCRC32: p.ChecksumCRC32 }] }
    await expectSdkError(s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId })), {
      status: 400,
      code: 'InvalidRequest',
      message: MSG.initiateRequested,
    })
    await expectSdkError(s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId, ...sdkSsec(K3) })), {
      status: 400,
      code: 'InvalidRequest',
      message: MSG.didNotMatch,
    })
    expect(
      (await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId, ...sdkSsec(K1) }))).Parts,
    ).toHaveLength(1)
    await expectSdkError(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: parts })),
      {
        status: 400,
        code: 'InvalidRequest',
        message: MSG.initiateRequested,
      },
    )
    await expectSdkError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          MultipartUpload: parts,
          ...sdkSsec(K3),
        }),
      ),
      {
        status: 400,
        code: 'InvalidRequest',
        message: MSG.didNotMatch,
      },
    )
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: parts,
        ...sdkSsec(K1),
      }),
    )
    expect(done.ETag).toBe(multipartEtag([p.ETag!]))
    expect(
      (await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...sdkSsec(K1) })))).equals(body),
    ).toBe(true)
  })

  it('lib-storage Upload with SSE-C (11 MiB, 5 MiB parts) round-trips; the object needs the key', async () => {
    const body = randomBytes(11 * MiB)
    const up = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: 'lib-storage', Body: body, ...sdkSsec(K1) },
      partSize: 5 * MiB,
      queueSize: 2,
    })
    const res = await up.done()
    expect(res.ETag).toMatch(/-3"$/)
    const got = await bytesOf(
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'lib-storage', ...sdkSsec(K1) })),
    )
    expect(sha256Hex(got)).toBe(sha256Hex(body))
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'lib-storage' })), {
      status: 400,
      code: 'InvalidRequest',
      message: MSG.storedWithSse,
    })
  })
})

describe.each(['SSE-S3', 'SSE-C'] as const)(
  '%s: re-uploading a part number never reuses a (key, nonce) pair (crypto/README.md §4, MPU-04)',
  (mode) => {
    let dataDir: string
    let srv: TestServer | undefined
    const bucket = 'reupload'
    const key = 'obj'
    const sse = mode === 'SSE-C' ? sdkSsec(K1) : {}
    let uploadId: string
    const client = () => makeClient(srv!.endpoint, { maxAttempts: 1 })

    /** Stops the server, reads the upload's (or object's) stored part records, starts it again. */
    async function storedParts(): Promise<Array<{ partNumber: number; salt: string; blobId: string }>> {
      await srv!.close()
      srv = undefined
      const meta = await LevelMetadataStore.open(path.join(dataDir, 'meta'))
      try {
        const up = await meta.getUpload(bucket, key, uploadId)
        const parts = up ? await meta.getParts(uploadId) : (await meta.getObject(bucket, key))!.parts
        return parts.map((p) => ({ partNumber: p.partNumber, salt: p.salt, blobId: p.blobId }))
      } finally {
        await meta.close()
        srv = await startTestServer({ dataDir, args: ALLOW })
      }
    }

    beforeAll(async () => {
      dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-reupload-'))
      srv = await startTestServer({ dataDir, args: ALLOW })
      await client().send(new CreateBucketCommand({ Bucket: bucket }))
      uploadId = (await client().send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...sse }))).UploadId!
    })
    afterAll(async () => {
      await srv?.close()
      await rm(dataDir, { recursive: true, force: true })
    })

    it('three writes of part 1 (A, A changed after its first 64 KiB, A again) leave blobs that differ in their first 32 bytes and part salts that differ; the last write wins', async () => {
      const a = randomBytes(5 * MiB)
      const b = Buffer.from(a)
      b[70_000] ^= 1 // same first chunk of plaintext as A, different data
      const writes: Array<{ blob: Buffer; salt: string; etag: string }> = []
      for (const body of [a, b, a]) {
        const { result, blobs } = await newBlobs(dataDir, () =>
          client().send(
            new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 1, Body: body, ...sse }),
          ),
        )
        expect(blobs).toHaveLength(1)
        expect(blobs[0].length).toBe(sr1Size(body.length))
        const [part] = await storedParts()
        expect(part.partNumber).toBe(1)
        writes.push({ blob: blobs[0], salt: part.salt, etag: result.ETag! })
      }
      for (let i = 0; i < writes.length; i++) {
        for (let j = i + 1; j < writes.length; j++) {
          // Identical first 64 KiB of plaintext: equal ciphertext there would mean the same key and nonce.
          expect(writes[i].blob.subarray(0, 32).equals(writes[j].blob.subarray(0, 32)), `writes ${i} and ${j}`).toBe(
            false,
          )
          expect(
            writes[i].blob.subarray(65536, 65552).equals(writes[j].blob.subarray(65536, 65552)),
            `tags of chunk 0, writes ${i} and ${j}`,
          ).toBe(false)
          expect(writes[i].salt).not.toBe(writes[j].salt)
        }
      }
      if (mode === 'SSE-S3')
        expect(writes.map((w) => w.etag)).toEqual([`"${md5Hex(a)}"`, `"${md5Hex(b)}"`, `"${md5Hex(a)}"`])
      // Part 2, then Complete: the object is the third write of part 1 followed by part 2.
      const tail = randomBytes(65537)
      const p2 = await client().send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 2, Body: tail, ...sse }),
      )
      const list = await client().send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
      expect(list.Parts?.map((p) => [p.PartNumber, p.ETag])).toEqual([
        [1, writes[2].etag],
        [2, p2.ETag],
      ])
      const done = await client().send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: writes[2].etag },
              { PartNumber: 2, ETag: p2.ETag },
            ],
          },
          ...sse,
        }),
      )
      expect(done.ETag).toBe(multipartEtag([writes[2].etag, p2.ETag!]))
      const got = await bytesOf(await client().send(new GetObjectCommand({ Bucket: bucket, Key: key, ...sse })))
      expect(sha256Hex(got)).toBe(sha256Hex(Buffer.concat([a, tail])))
      // Each part of the object has its own salt, and only its two blobs remain (replaced ones were released).
      const parts = await storedParts()
      expect(parts.map((p) => p.partNumber)).toEqual([1, 2])
      expect(parts[0].salt).toBe(writes[2].salt)
      expect(parts[0].salt).not.toBe(parts[1].salt)
      expect((await blobFiles(dataDir)).map((f) => path.basename(f)).sort()).toEqual(parts.map((p) => p.blobId).sort())
    })
  },
)

describe.each(['SSE-S3', 'SSE-C'] as const)(
  '%s: ranged and partNumber reads across part boundaries (docs/s3-sse-rules.md §3.8.1, §3.8.2, SSEC-29)',
  (mode) => {
    let srv: TestServer
    let s3: S3Client
    const bucket = 'mp-reads'
    const key = 'three-parts'
    const sizes = [5 * MiB, 5 * MiB + 3, 1000]
    const sse = mode === 'SSE-C' ? sdkSsec(K1) : {}
    let data: Buffer
    let etag: string

    beforeAll(async () => {
      srv = await startTestServer({ args: ALLOW })
      s3 = makeClient(srv.endpoint, { maxAttempts: 1 })
      await s3.send(new CreateBucketCommand({ Bucket: bucket }))
      const bodies = sizes.map((n) => randomBytes(n))
      data = Buffer.concat(bodies)
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...sse }))
      const parts = []
      for (const [i, Body] of bodies.entries()) {
        const r = await s3.send(
          new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body, ...sse }),
        )
        parts.push({ PartNumber: i + 1, ETag: r.ETag })
      }
      etag = (
        await s3.send(
          new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }),
        )
      ).ETag!
    })
    afterAll(async () => {
      await srv?.close()
    })

    const P1 = 5 * MiB
    const P2 = 10 * MiB + 3
    it.each([
      ['across the part 1|2 boundary', `bytes=${P1 - 10}-${P1 + 9}`, P1 - 10, P1 + 9],
      ['all of part 2 plus one byte on each side', `bytes=${P1 - 1}-${P2}`, P1 - 1, P2],
      ['the first byte of part 2 only', `bytes=${P1}-${P1}`, P1, P1],
      ['a chunk boundary inside part 2', `bytes=${P1 + 65535}-${P1 + 65536}`, P1 + 65535, P1 + 65536],
      ['suffix spanning parts 2 and 3', 'bytes=-1500', P2 + 1000 - 1500, P2 + 999],
      ['open-ended from inside part 2', `bytes=${P2 - 7}-`, P2 - 7, P2 + 999],
      ['the whole object', `bytes=0-${P2 + 999}`, 0, P2 + 999],
    ])('Range %s answers 206 with the exact bytes', async (_label, range, a, b) => {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range, ...sse }))
      expect(got.ContentRange).toBe(`bytes ${a}-${b}/${data.length}`)
      expect(got.ContentLength).toBe(b - a + 1)
      expect(sha256Hex(await bytesOf(got))).toBe(sha256Hex(data.subarray(a, b + 1)))
      if (mode === 'SSE-C') expect(got.SSECustomerKeyMD5).toBe(K1.md5)
    })

    it.each([1, 2, 3])(
      "partNumber=%i answers 206 with that part, its Content-Range, x-amz-mp-parts-count 3 and the whole object's ETag; HEAD too",
      async (n) => {
        const start = sizes.slice(0, n - 1).reduce((x, y) => x + y, 0)
        const end = start + sizes[n - 1] - 1
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: n, ...sse }))
        expect([got.ContentRange, got.PartsCount, got.ETag, got.ContentLength]).toEqual([
          `bytes ${start}-${end}/${data.length}`,
          3,
          etag,
          sizes[n - 1],
        ])
        expect(sha256Hex(await bytesOf(got))).toBe(sha256Hex(data.subarray(start, end + 1)))
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber: n, ...sse }))
        expect([head.ContentLength, head.PartsCount, head.ETag]).toEqual([sizes[n - 1], 3, etag])
      },
    )

    it('partNumber=4 answers 416 InvalidPartNumber; partNumber with Range answers 400 InvalidRequest', async () => {
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: 4, ...sse })), {
        status: 416,
        code: 'InvalidPartNumber',
        fields: { PartNumberRequested: 4, ActualPartCount: 3 },
      })
      await expectSdkError(
        s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: 1, Range: 'bytes=0-1', ...sse })),
        {
          status: 400,
          code: 'InvalidRequest',
          message: 'Cannot specify both Range header and partNumber query parameter',
        },
      )
    })

    it(
      mode === 'SSE-C'
        ? 'SSEC-03 SSEC-05 ranged and partNumber reads need the key: none -> 400, K3 -> 403 (HEAD: status only)'
        : 'SSEC-15 ranged and partNumber reads of an SSE-S3 object with a trio answer 400 InvalidRequest (not applicable)',
      async () => {
        if (mode === 'SSE-S3') {
          await expectSdkError(
            s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: 2, ...sdkSsec(K1) })),
            { status: 400, code: 'InvalidRequest', message: MSG.notApplicable },
          )
          await expectSdkError(
            s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=0-1', ...sdkSsec(K1) })),
            { status: 400, code: 'InvalidRequest', message: MSG.notApplicable },
          )
          return
        }
        await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: 2 })), {
          status: 400,
          code: 'InvalidRequest',
          message: MSG.storedWithSse,
        })
        await expectSdkError(
          s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: 2, ...sdkSsec(K3) })),
          { status: 403, code: 'AccessDenied', message: MSG.wrongKey },
        )
        await expectSdkError(
          s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${P1 - 10}-${P1 + 9}` })),
          { status: 400, code: 'InvalidRequest', message: MSG.storedWithSse },
        )
        await expectSdkError(
          s3.send(
            new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${P1 - 10}-${P1 + 9}`, ...sdkSsec(K3) }),
          ),
          { status: 403, code: 'AccessDenied', message: MSG.wrongKey },
        )
        await expectSdkHeadError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber: 3 })), 400)
        await expectSdkHeadError(
          s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber: 3, ...sdkSsec(K3) })),
          403,
        )
      },
    )
  },
)
