/**
 * @module E2E: multipart uploads under SSE-KMS and DSSE-KMS (the key is made at
 * Create, each part write gets its own part key, a re-uploaded part never reuses a keystream,
 * ranged and partNumber reads across part boundaries), and the SSE-KMS rows of the copy matrix
 * (scope 7; docs/s3-sse-rules.md §4.4, §4.6, §4.11): SSE-S3 ↔ SSE-KMS, SSE-KMS key A → key B, SSE-C ↔ SSE-KMS,
 * DSSE, bucket-default destinations, for sizes 0, 1, 65535, 65537 bytes, 8 MiB and a multipart
 * source, by CopyObject and by UploadPartCopy. Every copy is a new encryption: the destination's
 * blob shares nothing with the source's.
 */
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  type KMSClient,
} from '@aws-sdk/client-kms'
import {
  AbortMultipartUploadCommand,
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
  type ServerSideEncryption,
} from '@aws-sdk/client-s3'
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectSdkError } from '../support/expect-s3.js'
import { contextHeader, kmsClient, newBlobs } from '../support/kms.js'
import { CHECKSUM_MODES, makeClient, startTestServer, type TestServer } from '../support/server.js'

const MiB = 1024 * 1024
const SIZES = [0, 1, 65535, 65537, 8 * MiB] as const
/** The multipart source: a 5 MiB part and a part just over one SR1 chunk. */
const MULTIPART = [5 * MiB, 65537] as const

const md5Hex = (b: Uint8Array | string) => createHash('md5').update(b).digest('hex')
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex')
const unquote = (etag: string | undefined) => (etag ?? '').replace(/"/g, '')
const bytesOf = async (res: { Body?: { transformToByteArray(): Promise<Uint8Array> } }) =>
  Buffer.from(await res.Body!.transformToByteArray())
/**
 * SR1 size of a part blob of `plain` bytes (crypto/README.md §5): 64 KiB chunks, a 16-byte tag each, one tag for 0
 * bytes.
 */
const sr1Size = (plain: number) => plain + 16 * Math.max(1, Math.ceil(plain / 65536))

/** Customer keys K1 and K3 of docs/s3-sse-rules.md §0.3, as SDK input (the SDK base64-encodes and hashes raw bytes). */
const K1 = Buffer.from('1234567890abcdef1234567890abcdef')
const K3 = Buffer.from('6b+WOZ1T3cqZMxgThRcXAQBrS5mXKdDUphvpxptl9/4=', 'base64')
const ssec = (k: Buffer) => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: k as never })
const copySsec = (k: Buffer) => ({ CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: k as never })
const md5B64 = (k: Buffer) => createHash('md5').update(k).digest('base64')

type SourceMode = 'SSE-S3' | 'SSE-KMS' | 'SSE-C'
type SizeName = `${number}` | 'multipart'

interface Source {
  key: string
  data: Buffer
  blobs: Buffer[]
}

/** What a destination response and its reads must show. */
interface Expect {
  sse?: string
  arn?: 'A' | 'B'
  bucketKey?: boolean
  customer?: Buffer
}

interface Dest {
  name: string
  /** 'default-kms' / 'default-dsse': the bucket whose default gives the encryption; else the source bucket. */
  bucket: 'same' | 'default-kms' | 'default-dsse'
  write: Record<string, unknown>
  read: Record<string, unknown>
  want: Expect
  /** Source modes this destination is tested from (the non-KMS → non-KMS rows live in copy-matrix.test.ts). */
  from: SourceMode[]
}

const ALL: SourceMode[] = ['SSE-S3', 'SSE-KMS', 'SSE-C']
const DESTS: Dest[] = [
  {
    name: 'aws:kms key B',
    bucket: 'same',
    write: { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/mc-b' },
    read: {},
    want: { sse: 'aws:kms', arn: 'B' },
    from: ALL,
  },
  {
    name: 'aws:kms key B with a bucket key',
    bucket: 'same',
    write: { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/mc-b', BucketKeyEnabled: true },
    read: {},
    want: { sse: 'aws:kms', arn: 'B', bucketKey: true },
    from: ALL,
  },
  {
    name: 'aws:kms:dsse key B',
    bucket: 'same',
    write: { ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: 'alias/mc-b' },
    read: {},
    want: { sse: 'aws:kms:dsse', arn: 'B' },
    from: ALL,
  },
  {
    name: 'bucket default aws:kms key B + bucket key',
    bucket: 'default-kms',
    write: {},
    read: {},
    want: { sse: 'aws:kms', arn: 'B', bucketKey: true },
    from: ALL,
  },
  {
    name: 'bucket default aws:kms:dsse key B',
    bucket: 'default-dsse',
    write: {},
    read: {},
    want: { sse: 'aws:kms:dsse', arn: 'B' },
    from: ALL,
  },
  {
    name: 'aws:kms key A (the source key)',
    bucket: 'same',
    write: { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/mc-a' },
    read: {},
    want: { sse: 'aws:kms', arn: 'A' },
    from: ['SSE-KMS'],
  },
  {
    name: 'AES256 header',
    bucket: 'same',
    write: { ServerSideEncryption: 'AES256' },
    read: {},
    want: { sse: 'AES256' },
    from: ['SSE-KMS'],
  },
  {
    name: 'implicit bucket default (SSE-S3)',
    bucket: 'same',
    write: {},
    read: {},
    want: { sse: 'AES256' },
    from: ['SSE-KMS'],
  },
  { name: 'SSE-C K3', bucket: 'same', write: ssec(K3), read: ssec(K3), want: { customer: K3 }, from: ['SSE-KMS'] },
]

/** The source-side input of a copy from `mode`. */
const sourceRead = (mode: SourceMode) => (mode === 'SSE-C' ? ssec(K1) : {})
const sourceCopy = (mode: SourceMode) => (mode === 'SSE-C' ? copySsec(K1) : {})
/** How a source is written in each mode (the KMS source carries a client context that copies must not inherit). */
const sourceWrite = (mode: SourceMode): Record<string, unknown> =>
  mode === 'SSE-KMS'
    ? {
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'alias/mc-a',
        SSEKMSEncryptionContext: contextHeader({ source: 'yes' }),
      }
    : mode === 'SSE-C'
      ? ssec(K1)
      : { ServerSideEncryption: 'AES256' }

/** A copy's one new blob is a fresh encryption: SR1 size, and nothing in common with any source blob. */
function expectFreshBlob(blobs: Buffer[], size: number, source: Source): void {
  expect(blobs).toHaveLength(1)
  expect(blobs[0].length).toBe(sr1Size(size))
  for (const s of source.blobs) {
    expect(blobs[0].equals(s)).toBe(false)
    expect(blobs[0].subarray(0, 32).equals(s.subarray(0, 32))).toBe(false)
  }
}

describe.each(CHECKSUM_MODES)('SSE-KMS multipart and copy matrix (requestChecksumCalculation %s)', (checksumMode) => {
  let srv: TestServer
  let s3: S3Client
  let kms: KMSClient
  const arn: Record<'A' | 'B', string> = { A: '', B: '' }
  const tag = checksumMode === 'WHEN_SUPPORTED' ? 'ws' : 'wr'
  const bucket = `mc-${tag}`
  const buckets = { same: bucket, 'default-kms': `mc-${tag}-kmsdef`, 'default-dsse': `mc-${tag}-dssedef` }
  const sources = new Map<string, Source>()
  const srcId = (mode: SourceMode, size: SizeName) => `${mode}/${size}`

  /** Asserts a write response's SSE headers against `want`. */
  function expectSse(res: Record<string, unknown>, want: Expect, what: string): void {
    if (want.customer) {
      expect(res.ServerSideEncryption, what).toBeUndefined()
      expect(res.SSECustomerKeyMD5, what).toBe(md5B64(want.customer))
      return
    }
    expect(res.ServerSideEncryption, what).toBe(want.sse)
    expect(res.SSEKMSKeyId, what).toBe(want.arn ? arn[want.arn] : undefined)
    expect(res.BucketKeyEnabled, what).toBe(want.bucketKey ? true : undefined)
  }

  async function putSource(key: string, mode: SourceMode, size: SizeName): Promise<Source> {
    if (size !== 'multipart') {
      const data = randomBytes(Number(size))
      const { blobs } = await newBlobs(srv.dataDir, () =>
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ...sourceWrite(mode) })),
      )
      return { key, data, blobs }
    }
    const parts = MULTIPART.map((n) => randomBytes(n))
    const { blobs } = await newBlobs(srv.dataDir, async () => {
      const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...sourceWrite(mode) }))
      const done = []
      for (const [i, body] of parts.entries()) {
        const up = await s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: create.UploadId,
            PartNumber: i + 1,
            Body: body,
            ...sourceRead(mode),
          }),
        )
        done.push({ PartNumber: i + 1, ETag: up.ETag })
      }
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: create.UploadId,
          MultipartUpload: { Parts: done },
        }),
      )
    })
    return { key, data: Buffer.concat(parts), blobs }
  }

  beforeAll(async () => {
    srv = await startTestServer({ args: ['--allow-sse-c-on-new-buckets'] })
    s3 = makeClient(srv.endpoint, { requestChecksumCalculation: checksumMode, maxAttempts: 1 })
    kms = kmsClient(srv.endpoint)
    for (const name of ['A', 'B'] as const) {
      const m = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!
      arn[name] = m.Arn!
      await kms.send(new CreateAliasCommand({ AliasName: `alias/mc-${name.toLowerCase()}`, TargetKeyId: m.KeyId }))
    }
    for (const b of Object.values(buckets)) await s3.send(new CreateBucketCommand({ Bucket: b }))
    const rule = (SSEAlgorithm: string, BucketKeyEnabled: boolean) => ({
      Rules: [
        {
          ApplyServerSideEncryptionByDefault: {
            SSEAlgorithm: SSEAlgorithm as ServerSideEncryption,
            KMSMasterKeyID: 'alias/mc-b',
          },
          BucketKeyEnabled,
        },
      ],
    })
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: buckets['default-kms'],
        ServerSideEncryptionConfiguration: rule('aws:kms', true),
      }),
    )
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: buckets['default-dsse'],
        ServerSideEncryptionConfiguration: rule('aws:kms:dsse', true),
      }),
    )
    for (const mode of ALL) {
      for (const size of [...SIZES.map((s) => `${s}` as SizeName), 'multipart' as const]) {
        sources.set(srcId(mode, size), await putSource(`src-${mode}-${size}`, mode, size))
      }
    }
  })
  afterAll(async () => {
    s3?.destroy()
    kms?.destroy()
    await srv?.close()
  })

  describe('multipart under SSE-KMS (scope 8)', () => {
    const p1 = randomBytes(5 * MiB)
    const p2 = randomBytes(5 * MiB)
    const p3 = randomBytes(70_000)
    const whole = Buffer.concat([p1, p2, p3])

    const variants: Array<{ name: string; write: Record<string, unknown>; want: Expect }> = [
      {
        name: 'aws:kms key A',
        write: { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/mc-a' },
        want: { sse: 'aws:kms', arn: 'A' } as Expect,
      },
      {
        name: 'aws:kms key A + bucket key + context',
        write: {
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: 'alias/mc-a',
          BucketKeyEnabled: true,
          SSEKMSEncryptionContext: contextHeader({ a: 'b' }),
        },
        want: { sse: 'aws:kms', arn: 'A', bucketKey: true } as Expect,
      },
      {
        name: 'aws:kms:dsse key B',
        write: { ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: 'alias/mc-b' },
        want: { sse: 'aws:kms:dsse', arn: 'B' } as Expect,
      },
    ]
    for (const variant of variants) {
      it(`KMS-19 ${variant.name}: Create, UploadPart, Complete answer the SSE headers; GET, ranges across part boundaries and partNumber reads return the right bytes`, async () => {
        const key = `mp-${variant.name.replace(/[^a-z0-9]+/gi, '-')}`
        const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...variant.write }))
        expectSse(create as never, variant.want, 'create')
        const parts = []
        for (const [i, body] of [p1, p2, p3].entries()) {
          const up = await s3.send(
            new UploadPartCommand({
              Bucket: bucket,
              Key: key,
              UploadId: create.UploadId,
              PartNumber: i + 1,
              Body: body,
            }),
          )
          expectSse(up as never, variant.want, `part ${i + 1}`)
          expect(unquote(up.ETag)).not.toBe(md5Hex(body))
          parts.push({ PartNumber: i + 1, ETag: up.ETag })
        }
        const done = await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId: create.UploadId,
            MultipartUpload: { Parts: parts },
          }),
        )
        expectSse(done as never, variant.want, 'complete')
        expect(unquote(done.ETag)).toMatch(/^[0-9a-f]{32}-3$/)
        const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
        expectSse(get as never, variant.want, 'get')
        expect(sha256(await bytesOf(get))).toBe(sha256(whole))
        const b1 = 5 * MiB
        const b2 = 10 * MiB
        for (const [start, end] of [
          [b1 - 10, b1 + 9],
          [b1 - 1, b2],
          [b1 - 65536 - 3, b2 + 65536 + 7],
          [0, 0],
          [whole.length - 1, whole.length - 1],
          [b2, b2 + 69_999],
        ]) {
          const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end}` }))
          expect(r.ContentRange).toBe(`bytes ${start}-${end}/${whole.length}`)
          expectSse(r as never, variant.want, `range ${start}-${end}`)
          expect((await bytesOf(r)).equals(whole.subarray(start, end + 1)), `range ${start}-${end}`).toBe(true)
        }
        const suffix = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=-70010' }))
        expect((await bytesOf(suffix)).equals(whole.subarray(whole.length - 70010))).toBe(true)
        let offset = 0
        for (const [i, body] of [p1, p2, p3].entries()) {
          const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: i + 1 }))
          expect(r.PartsCount).toBe(3)
          expect(r.ContentRange).toBe(`bytes ${offset}-${offset + body.length - 1}/${whole.length}`)
          expectSse(r as never, variant.want, `partNumber ${i + 1}`)
          expect((await bytesOf(r)).equals(body), `partNumber ${i + 1}`).toBe(true)
          const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber: i + 1 }))
          expect(h.ContentLength).toBe(body.length)
          expectSse(h as never, variant.want, `HEAD partNumber ${i + 1}`)
          offset += body.length
        }
      })
    }

    it('re-uploading a part number with different data works, and the two ciphertexts share no keystream (no (key, nonce) reuse)', async () => {
      const key = 'mp-reupload'
      const create = await s3.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: 'alias/mc-a',
          BucketKeyEnabled: true,
        }),
      )
      const x = randomBytes(100_000)
      const y = randomBytes(100_000)
      const first = await newBlobs(srv.dataDir, () =>
        s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: create.UploadId, PartNumber: 1, Body: x })),
      )
      const second = await newBlobs(srv.dataDir, () =>
        s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: create.UploadId, PartNumber: 1, Body: y })),
      )
      expect(first.blobs).toHaveLength(1)
      expect(second.blobs).toHaveLength(1)
      // Same part key and nonce would make ct1 ⊕ ct2 = x ⊕ y; a fresh part salt makes them unrelated.
      const xor = (a: Buffer, b: Buffer) => Buffer.from(a.subarray(0, 4096).map((v, i) => v ^ b[i]))
      expect(xor(first.blobs[0], second.blobs[0]).equals(xor(x, y))).toBe(false)
      // Same data uploaded again still gives a different ciphertext.
      const third = await newBlobs(srv.dataDir, () =>
        s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: create.UploadId, PartNumber: 1, Body: y })),
      )
      expect(third.blobs[0].equals(second.blobs[0])).toBe(false)
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: create.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: third.result.ETag }] },
        }),
      )
      expect(done.SSEKMSKeyId).toBe(arn.A)
      expect((await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })))).equals(y)).toBe(true)
    })

    it('SSE-08 SSE-KMS headers on UploadPart answer 400 InvalidArgument (E1, E2, E3)', async () => {
      const create = await s3.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: 'mp-e1',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: 'alias/mc-a',
        }),
      )
      const base = { Bucket: bucket, Key: 'mp-e1', UploadId: create.UploadId, PartNumber: 1, Body: 'x' }
      // The SDK's UploadPart has no SSE members: a build-step middleware adds the header.
      s3.middlewareStack.add(
        (next) => async (args) => {
          const req = args.request as { headers: Record<string, string> }
          if ((args.input as { Key?: string }).Key === 'mp-e1') req.headers['x-amz-server-side-encryption'] = 'aws:kms'
          return next(args)
        },
        { step: 'build', name: 'addSseHeaderForE1' },
      )
      try {
        await expectSdkError(s3.send(new UploadPartCommand(base)), {
          status: 400,
          code: 'InvalidArgument',
          message: 'x-amz-server-side-encryption header is not supported for this operation.',
        })
      } finally {
        s3.middlewareStack.remove('addSseHeaderForE1')
      }
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mp-e1', UploadId: create.UploadId }))
    })

    it('an upload keeps the key resolved at Create: disabling the key fails UploadPart with KMS.DisabledException; re-enabled, the upload completes (docs/s3-sse-rules.md §4.6 [I])', async () => {
      const m = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!
      const create = await s3.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: 'mp-disabled',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: m.KeyId,
        }),
      )
      await kms.send(new DisableKeyCommand({ KeyId: m.KeyId }))
      await expectSdkError(
        s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: 'mp-disabled',
            UploadId: create.UploadId,
            PartNumber: 1,
            Body: 'x',
          }),
        ),
        {
          status: 400,
          code: 'KMS.DisabledException',
          message: `${m.Arn} is disabled.`,
        },
      )
      await expectSdkError(
        s3.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: 'mp-disabled',
            UploadId: create.UploadId,
            PartNumber: 1,
            CopySource: `${bucket}/src-SSE-S3-1`,
          }),
        ),
        { status: 400, code: 'KMS.DisabledException' },
      )
      await kms.send(new EnableKeyCommand({ KeyId: m.KeyId }))
      const up = await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: 'mp-disabled',
          UploadId: create.UploadId,
          PartNumber: 1,
          Body: 'x',
        }),
      )
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'mp-disabled',
          UploadId: create.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: up.ETag }] },
        }),
      )
      expect(done.SSEKMSKeyId).toBe(m.Arn)
    })
  })

  describe('CopyObject: the SSE-KMS rows of the copy matrix (scope 7)', () => {
    for (const mode of ALL) {
      for (const dest of DESTS.filter((d) => d.from.includes(mode))) {
        it.each([...SIZES.map((s) => `${s}` as SizeName), 'multipart' as const])(
          `${mode} -> ${dest.name}, source size %s: re-encrypted under the destination's key, data intact`,
          async (size) => {
            const src = sources.get(srcId(mode, size))!
            const dstBucket = buckets[dest.bucket]
            const dstKey = `copy-${mode}-${dest.name.replace(/[^a-z0-9]+/gi, '-')}-${size}`
            const { result: copy, blobs } = await newBlobs(srv.dataDir, () =>
              s3.send(
                new CopyObjectCommand({
                  Bucket: dstBucket,
                  Key: dstKey,
                  CopySource: `${bucket}/${src.key}`,
                  ...sourceCopy(mode),
                  ...dest.write,
                }),
              ),
            )
            expectSse(copy as never, dest.want, 'copy')
            // The source's client context is never carried over (KMS-20): nothing is echoed.
            expect(copy.SSEKMSEncryptionContext).toBeUndefined()
            const etag = unquote(copy.CopyObjectResult?.ETag)
            if (dest.want.sse === 'AES256') expect(etag).toBe(md5Hex(src.data))
            else expect(etag).not.toBe(md5Hex(src.data))
            expectFreshBlob(blobs, src.data.length, src)
            const head = await s3.send(new HeadObjectCommand({ Bucket: dstBucket, Key: dstKey, ...dest.read }))
            expectSse(head as never, dest.want, 'head')
            expect(head.ContentLength).toBe(src.data.length)
            expect(head.PartsCount).toBeUndefined()
            const get = await s3.send(new GetObjectCommand({ Bucket: dstBucket, Key: dstKey, ...dest.read }))
            expectSse(get as never, dest.want, 'get')
            expect(sha256(await bytesOf(get))).toBe(sha256(src.data))
            if (src.data.length > 2) {
              const r = await s3.send(
                new GetObjectCommand({
                  Bucket: dstBucket,
                  Key: dstKey,
                  Range: `bytes=1-${src.data.length - 2}`,
                  ...dest.read,
                }),
              )
              expect(sha256(await bytesOf(r))).toBe(sha256(src.data.subarray(1, src.data.length - 1)))
            }
            // The source still reads back with its own encryption.
            if (size === '1')
              expect(
                (
                  await bytesOf(
                    await s3.send(new GetObjectCommand({ Bucket: bucket, Key: src.key, ...sourceRead(mode) })),
                  )
                ).equals(src.data),
              ).toBe(true)
          },
        )
      }
    }

    it('an SSE-KMS source copied with a wrong copy-source SSE-C trio answers 400 InvalidRequest (not applicable, SSEC-31)', async () => {
      await expectSdkError(
        s3.send(
          new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: `${bucket}/src-SSE-KMS-1`, ...copySsec(K1) }),
        ),
        {
          status: 400,
          code: 'InvalidRequest',
          message: 'The encryption parameters are not applicable to this object.',
        },
      )
    })
  })

  describe('UploadPartCopy from and into SSE-KMS (scope 7)', () => {
    const uploadModes: Array<{
      name: string
      create: Record<string, unknown>
      part: Record<string, unknown>
      want: Expect
      from: SourceMode[]
    }> = [
      {
        name: 'aws:kms key B',
        create: { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/mc-b' },
        part: {},
        want: { sse: 'aws:kms', arn: 'B' },
        from: ALL,
      },
      {
        name: 'aws:kms key B + bucket key',
        create: { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/mc-b', BucketKeyEnabled: true },
        part: {},
        want: { sse: 'aws:kms', arn: 'B', bucketKey: true },
        from: ['SSE-KMS'],
      },
      {
        name: 'aws:kms:dsse key B',
        create: { ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: 'alias/mc-b' },
        part: {},
        want: { sse: 'aws:kms:dsse', arn: 'B' },
        from: ['SSE-KMS'],
      },
      { name: 'SSE-S3', create: {}, part: {}, want: { sse: 'AES256' }, from: ['SSE-KMS'] },
      { name: 'SSE-C K3', create: ssec(K3), part: ssec(K3), want: { customer: K3 }, from: ['SSE-KMS'] },
    ]
    for (const mode of ALL) {
      for (const up of uploadModes.filter((u) => u.from.includes(mode))) {
        it.each([...SIZES.map((s) => `${s}` as SizeName), 'multipart' as const])(
          `${mode} source -> ${up.name} upload, source size %s: whole-source part, then a ranged part across a chunk boundary`,
          async (size) => {
            const src = sources.get(srcId(mode, size))!
            const key = `upc-${mode}-${up.name.replace(/[^a-z0-9]+/gi, '-')}-${size}`
            const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...up.create }))
            const base = {
              Bucket: bucket,
              Key: key,
              UploadId: create.UploadId,
              CopySource: `${bucket}/${src.key}`,
              ...sourceCopy(mode),
              ...up.part,
            }
            const len = src.data.length
            // Part 1 is the whole source when it is at least 5 MiB or when it is the only part.
            const ranged = len >= 5 * MiB
            const { result: c1, blobs } = await newBlobs(srv.dataDir, () =>
              s3.send(new UploadPartCopyCommand({ ...base, PartNumber: 1 })),
            )
            expectSse(c1 as never, up.want, 'part 1')
            expectFreshBlob(blobs, len, src)
            const parts = [{ PartNumber: 1, ETag: c1.CopyPartResult?.ETag }]
            let expected = src.data
            if (ranged) {
              const start = 65536 - 5
              const end = Math.min(len - 1, 3 * 65536 + 10)
              const c2 = await s3.send(
                new UploadPartCopyCommand({ ...base, PartNumber: 2, CopySourceRange: `bytes=${start}-${end}` }),
              )
              expectSse(c2 as never, up.want, 'part 2')
              parts.push({ PartNumber: 2, ETag: c2.CopyPartResult?.ETag })
              expected = Buffer.concat([src.data, src.data.subarray(start, end + 1)])
            }
            const done = await s3.send(
              new CompleteMultipartUploadCommand({
                Bucket: bucket,
                Key: key,
                UploadId: create.UploadId,
                MultipartUpload: { Parts: parts },
              }),
            )
            if (!up.want.customer) expectSse(done as never, up.want, 'complete')
            const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...up.part }))
            expectSse(get as never, up.want, 'get')
            expect(sha256(await bytesOf(get))).toBe(sha256(expected))
          },
        )
      }
    }
  })
})
