/**
 * @module E2E: SSE-C — writes and reads with the customer key, header validation in docs/s3-sse-rules.md's
 * order, copy-source keys, the TLS rule with its loopback exception, and what must never be stored
 * or logged (docs/s3-sse-rules.md §4.8, §4.9, §4.12, §8.13 SSEC-01..17, SSEC-24..32, §8.14 TLS-04/TLS-05;
 * crypto/README.md §1, docs/s3-behaviour.md).
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checksumOf } from '../../server/s3/checksums.js'
import { LevelMetadataStore } from '../../storage/level/metadata.js'
import { expectRawError, expectSdkError, expectSdkHeadError } from '../support/expect-s3.js'
import { signedSend, type RawResponse } from '../support/raw-s3.js'
import {
  COPY_SSE_C_ALGORITHM,
  K1,
  K2,
  K3,
  MSG,
  SSE,
  SSE_C_ALGORITHM,
  SSE_C_KEY,
  SSE_C_KEY_MD5,
  allFiles,
  copySourceHeaders,
  customerKey,
  md5Hex,
  sdkCopySsec,
  sdkSsec,
  sha256Hex,
  ssecHeaders,
  startChildServer,
  type ChildServer,
  type CustomerKeyVector,
} from '../support/sse-c.js'
import { CHECKSUM_MODES, makeClient, startTestServer, type TestServer, withServer } from '../support/server.js'

const ALLOW = ['--allow-sse-c-on-new-buckets']
const MiB = 1024 * 1024

/** GET of a (presigned) URL with extra headers. */
function httpGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
        res.on('error', reject)
      })
      .on('error', reject)
  })
}

const bytesOf = async (res: { Body?: { transformToByteArray(): Promise<Uint8Array> } }) =>
  Buffer.from(await res.Body!.transformToByteArray())

/** A key of `n` random bytes with its correct MD5 (for the length rules of §4.8 step 8 and SSEC-14). */
const keyOfLength = (n: number): CustomerKeyVector => customerKey(randomBytes(n))

/** SSE response header names present on a raw answer. */
const sseHeaderNames = (res: RawResponse) =>
  Object.keys(res.headers)
    .filter((h) => h.startsWith(SSE))
    .sort()

describe('SSE-C', () => {
  const srv = withServer({ args: ALLOW })

  describe.each(CHECKSUM_MODES)('with requestChecksumCalculation %s', (mode) => {
    let s3: S3Client
    const bucket = mode === 'WHEN_SUPPORTED' ? 'ssec-ws' : 'ssec-wr'
    const data = Buffer.from('test-sse')

    beforeAll(async () => {
      s3 = makeClient(srv.endpoint, { requestChecksumCalculation: mode, maxAttempts: 1 })
      await s3.send(new CreateBucketCommand({ Bucket: bucket }))
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'k1', Body: data, Metadata: { color: 'blue' }, ...sdkSsec(K1) }),
      )
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: data }))
    })

    it("SSEC-01 PUT with K1 answers 200 with the customer algorithm and K1's MD5, and no x-amz-server-side-encryption", async () => {
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ssec-01', Body: data, ...sdkSsec(K1) }))
      expect(put.SSECustomerAlgorithm).toBe('AES256')
      expect(put.SSECustomerKeyMD5).toBe('JMwgiexXqwuPqIPjYFmIZQ==')
      expect(put.ServerSideEncryption).toBeUndefined()
      // The same through raw HTTP: exactly the two C headers (docs/s3-sse-rules.md §4.3).
      const raw = await signedSend(srv.port, {
        method: 'PUT',
        path: `/${bucket}/ssec-01-raw`,
        headers: ssecHeaders(K1),
        body: data,
      })
      expect(raw.status).toBe(200)
      expect(sseHeaderNames(raw)).toEqual([SSE_C_ALGORITHM, SSE_C_KEY_MD5])
      expect(raw.headers[SSE_C_KEY_MD5]).toBe(K1.md5)
    })

    it('SSEC-02 GET and HEAD with K1 answer 200, the body intact, the C headers and the user metadata', async () => {
      const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k1', ...sdkSsec(K1) }))
      expect((await bytesOf(get)).equals(data)).toBe(true)
      expect([get.SSECustomerAlgorithm, get.SSECustomerKeyMD5, get.ServerSideEncryption]).toEqual([
        'AES256',
        K1.md5,
        undefined,
      ])
      expect(get.Metadata).toEqual({ color: 'blue' })
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k1', ...sdkSsec(K1) }))
      expect([
        head.SSECustomerAlgorithm,
        head.SSECustomerKeyMD5,
        head.ServerSideEncryption,
        head.ContentLength,
      ]).toEqual(['AES256', K1.md5, undefined, data.length])
      expect(head.Metadata).toEqual({ color: 'blue' })
    })

    it('SSEC-03 GET without the trio answers 400 InvalidRequest (stored using a form of Server Side Encryption)', async () => {
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k1' })), {
        status: 400,
        code: 'InvalidRequest',
        message: MSG.storedWithSse,
      })
    })

    it('SSEC-04 HEAD without the trio answers 400 with no body', async () => {
      await expectSdkHeadError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k1' })), 400)
    })

    it('SSEC-05 GET with K3 (valid, wrong) answers 403 AccessDenied (must provide the correct secret key)', async () => {
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k1', ...sdkSsec(K3) })), {
        status: 403,
        code: 'AccessDenied',
        message: MSG.wrongKey,
      })
    })

    it('SSEC-06 HEAD with K3 answers 403 with no body', async () => {
      await expectSdkHeadError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k1', ...sdkSsec(K3) })), 403)
    })

    it('SSEC-15 GET and HEAD of an SSE-S3 object with the trio answer 400 InvalidRequest (not applicable to this object)', async () => {
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain', ...sdkSsec(K1) })), {
        status: 400,
        code: 'InvalidRequest',
        message: MSG.notApplicable,
      })
      await expectSdkHeadError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'plain', ...sdkSsec(K1) })), 400)
    })

    it('SSEC-17 ETAG-03 the ETag of an SSE-C PUT is 32 hex digits, not the plaintext MD5, and differs between two equal PUTs', async () => {
      const a = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'etag-a', Body: data, ...sdkSsec(K1) }))
      const b = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'etag-a', Body: data, ...sdkSsec(K1) }))
      for (const etag of [a.ETag, b.ETag]) {
        expect(etag).toMatch(/^"[0-9a-f]{32}"$/)
        expect(etag).not.toBe(`"${md5Hex(data)}"`)
      }
      expect(a.ETag).not.toBe(b.ETag)
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'etag-a', ...sdkSsec(K1) }))
      expect(head.ETag).toBe(b.ETag)
    })

    it('SSEC-29 Range bytes=3-7 with K1 answers 206 with the right bytes; a range across 64 KiB chunks too', async () => {
      const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k1', Range: 'bytes=3-7', ...sdkSsec(K1) }))
      expect(r.ContentRange).toBe(`bytes 3-7/${data.length}`)
      expect((await bytesOf(r)).toString()).toBe('t-sse')
      const big = randomBytes(3 * 65536 + 11)
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ranged', Body: big, ...sdkSsec(K2) }))
      for (const [a, b] of [
        [65530, 65545],
        [0, 65535],
        [65536, 3 * 65536 + 10],
        [131071, 131072],
      ]) {
        const got = await s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: 'ranged', Range: `bytes=${a}-${b}`, ...sdkSsec(K2) }),
        )
        expect(got.ContentRange).toBe(`bytes ${a}-${b}/${big.length}`)
        expect((await bytesOf(got)).equals(big.subarray(a, b + 1)), `${a}-${b}`).toBe(true)
      }
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranged', Range: 'bytes=0-1' })), {
        status: 400,
        code: 'InvalidRequest',
        message: MSG.storedWithSse,
      })
    })

    it('CKS-09 the stored checksum of an SSE-C object is the plaintext CRC64NVME', async () => {
      const got = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: 'k1', ChecksumMode: 'ENABLED', ...sdkSsec(K1) }),
      )
      await bytesOf(got)
      // The SDK may have sent its own CRC32 on PUT; otherwise the store computed CRC64NVME (docs/s3-sse-rules.md
      // §3.16).
      const [alg, value] =
        got.ChecksumCRC32 !== undefined
          ? (['CRC32', got.ChecksumCRC32] as const)
          : (['CRC64NVME', got.ChecksumCRC64NVME] as const)
      expect(value).toBe(checksumOf(alg, data))
    })

    it('§3.8.3 conditionals are evaluated before the SSE-C key check: If-None-Match with the ETag answers 304 and a wrong If-Match 412 without the key (contract-defined, not AWS-verified)', async () => {
      const etag = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k1', ...sdkSsec(K1) }))).ETag!
      const notModified = await signedSend(srv.port, {
        method: 'GET',
        path: `/${bucket}/k1`,
        headers: { 'if-none-match': etag },
      })
      expect([notModified.status, notModified.body.length]).toEqual([304, 0])
      expect(sseHeaderNames(notModified)).toEqual([])
      expectRawError(
        await signedSend(srv.port, { method: 'GET', path: `/${bucket}/k1`, headers: { 'if-match': '"0123"' } }),
        { status: 412, code: 'PreconditionFailed' },
      )
      // A matching If-Match still needs the key.
      expectRawError(
        await signedSend(srv.port, { method: 'GET', path: `/${bucket}/k1`, headers: { 'if-match': etag } }),
        { status: 400, code: 'InvalidRequest', message: MSG.storedWithSse },
      )
    })

    it('§3.12.1 listings show SSE-C objects (size and ETag) without any key or SSE field', async () => {
      const list = await signedSend(srv.port, {
        method: 'GET',
        path: `/${bucket}`,
        query: { 'list-type': '2', prefix: 'k1' },
      })
      expect(list.status).toBe(200)
      expect(list.text).toContain('<Key>k1</Key>')
      expect(list.text).toContain(`<Size>${data.length}</Size>`)
      expect(list.text).not.toMatch(/Encryption|SSECustomer|AES256/)
      expect(sseHeaderNames(list)).toEqual([])
    })

    it('§4.8 Presigned URLs: a URL signed with the trio works when the trio is sent; the trio sent on a URL that did not sign it answers 403 HeadersNotSigned', async () => {
      const signed = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'k1', ...sdkSsec(K1) }), {
        expiresIn: 300,
      })
      expect(new URL(signed).searchParams.get('X-Amz-SignedHeaders')).toContain(SSE_C_ALGORITHM)
      const ok = await httpGet(signed, ssecHeaders(K1))
      expect([ok.status, ok.body.equals(data)]).toEqual([200, true])
      expect(ok.headers[SSE_C_KEY_MD5]).toBe(K1.md5)
      const plain = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'k1' }), { expiresIn: 300 })
      const refused = await httpGet(plain, ssecHeaders(K1))
      expect(refused.status).toBe(403)
      expect(refused.body.toString()).toContain('<Code>AccessDenied</Code>')
      expect(refused.body.toString()).toContain('<HeadersNotSigned>')
      // Without the trio, the plain URL answers SSEC-03.
      const noKey = await httpGet(plain, {})
      expect(noKey.status).toBe(400)
      expect(noKey.body.toString()).toContain(MSG.storedWithSse)
    })

    it('SSEC-24 CopyObject from an SSE-C source without the copy-source trio answers 400 InvalidRequest (stored using…)', async () => {
      await expectSdkError(
        s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'ssec-24', CopySource: `${bucket}/k1` })),
        {
          status: 400,
          code: 'InvalidRequest',
          message: MSG.storedWithSse,
        },
      )
      // Only the destination trio is not the source's key either.
      await expectSdkError(
        s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'ssec-24', CopySource: `${bucket}/k1`, ...sdkSsec(K1) })),
        {
          status: 400,
          code: 'InvalidRequest',
          message: MSG.storedWithSse,
        },
      )
    })

    it('SSEC-25 CopyObject with the copy-source trio and no destination headers makes an SSE-S3 object with the plaintext MD5 ETag', async () => {
      const out = await s3.send(
        new CopyObjectCommand({ Bucket: bucket, Key: 'ssec-25', CopySource: `${bucket}/k1`, ...sdkCopySsec(K1) }),
      )
      expect(out.ServerSideEncryption).toBe('AES256')
      expect(out.SSECustomerAlgorithm).toBeUndefined()
      expect(out.CopyObjectResult?.ETag).toBe(`"${md5Hex(data)}"`)
      const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ssec-25' }))
      expect(get.ServerSideEncryption).toBe('AES256')
      expect((await bytesOf(get)).equals(data)).toBe(true)
    })

    it("SSEC-26 CopyObject K1 -> K3 answers 200 with K3's MD5; the copy reads with K3 and refuses K1 with 403", async () => {
      const out = await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'ssec-26',
          CopySource: `${bucket}/k1`,
          ...sdkCopySsec(K1),
          ...sdkSsec(K3),
        }),
      )
      expect([out.SSECustomerAlgorithm, out.SSECustomerKeyMD5, out.ServerSideEncryption]).toEqual([
        'AES256',
        K3.md5,
        undefined,
      ])
      expect(out.CopyObjectResult?.ETag).not.toBe(`"${md5Hex(data)}"`)
      expect(
        (await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ssec-26', ...sdkSsec(K3) })))).equals(
          data,
        ),
      ).toBe(true)
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ssec-26', ...sdkSsec(K1) })), {
        status: 403,
        code: 'AccessDenied',
        message: MSG.wrongKey,
      })
      // The source is untouched and still needs K1.
      expect(
        (await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k1', ...sdkSsec(K1) })))).equals(
          data,
        ),
      ).toBe(true)
    })

    it('SSEC-27 CopyObject with a destination trio and x-amz-server-side-encryption answers 400 InvalidArgument (incompatible)', async () => {
      await expectSdkError(
        s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: 'ssec-27',
            CopySource: `${bucket}/k1`,
            ...sdkCopySsec(K1),
            ...sdkSsec(K3),
            ServerSideEncryption: 'AES256',
          }),
        ),
        {
          status: 400,
          code: 'InvalidArgument',
          message: MSG.incompatible,
          fields: { ArgumentName: SSE, ArgumentValue: 'AES256' },
        },
      )
    })

    it('SSEC-30 UploadPartCopy from an SSE-C source without the copy-source trio answers 400 InvalidRequest (stored using…)', async () => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'ssec-30' }))
      await expectSdkError(
        s3.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: 'ssec-30',
            UploadId,
            PartNumber: 1,
            CopySource: `${bucket}/k1`,
          }),
        ),
        {
          status: 400,
          code: 'InvalidRequest',
          message: MSG.storedWithSse,
        },
      )
      // With the trio it copies (the upload is SSE-S3, so no destination trio).
      const ok = await s3.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: 'ssec-30',
          UploadId,
          PartNumber: 1,
          CopySource: `${bucket}/k1`,
          ...sdkCopySsec(K1),
        }),
      )
      expect(ok.CopyPartResult?.ETag).toBe(`"${md5Hex(data)}"`)
      expect(ok.ServerSideEncryption).toBe('AES256')
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'ssec-30',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: ok.CopyPartResult?.ETag }] },
        }),
      )
      expect(
        (await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ssec-30' })))).equals(data),
      ).toBe(true)
    })

    it('SSEC-31 a copy-source trio for an SSE-S3 source answers 400 InvalidRequest (not applicable), on CopyObject and UploadPartCopy (inferred)', async () => {
      await expectSdkError(
        s3.send(
          new CopyObjectCommand({ Bucket: bucket, Key: 'ssec-31', CopySource: `${bucket}/plain`, ...sdkCopySsec(K1) }),
        ),
        {
          status: 400,
          code: 'InvalidRequest',
          message: MSG.notApplicable,
        },
      )
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'ssec-31-mp' }))
      await expectSdkError(
        s3.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: 'ssec-31-mp',
            UploadId,
            PartNumber: 1,
            CopySource: `${bucket}/plain`,
            ...sdkCopySsec(K1),
          }),
        ),
        {
          status: 400,
          code: 'InvalidRequest',
          message: MSG.notApplicable,
        },
      )
    })

    it('SSEC-32 a wrong copy-source key answers 403 AccessDenied (correct secret key), on CopyObject and UploadPartCopy (inferred)', async () => {
      await expectSdkError(
        s3.send(
          new CopyObjectCommand({ Bucket: bucket, Key: 'ssec-32', CopySource: `${bucket}/k1`, ...sdkCopySsec(K3) }),
        ),
        {
          status: 403,
          code: 'AccessDenied',
          message: MSG.wrongKey,
        },
      )
      const { UploadId } = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'ssec-32-mp', ...sdkSsec(K2) }),
      )
      await expectSdkError(
        s3.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: 'ssec-32-mp',
            UploadId,
            PartNumber: 1,
            CopySource: `${bucket}/k1`,
            ...sdkCopySsec(K3),
            ...sdkSsec(K2),
          }),
        ),
        { status: 403, code: 'AccessDenied', message: MSG.wrongKey },
      )
      // Nothing was written under the destination key.
      await expectSdkHeadError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ssec-32' })), 404)
    })
  })

  describe('header validation (raw HTTP, docs/s3-sse-rules.md §4.8 steps 2-8)', () => {
    const bucket = 'ssec-raw'
    let s3: S3Client
    const put = (headers: Record<string, string>, key = 'v') =>
      signedSend(srv.port, { method: 'PUT', path: `/${bucket}/${key}`, headers, body: 'x' })
    const get = (headers: Record<string, string>, key = 'obj', method = 'GET') =>
      signedSend(srv.port, { method, path: `/${bucket}/${key}`, headers })
    const copy = (headers: Record<string, string>, source = 'obj') =>
      signedSend(srv.port, {
        method: 'PUT',
        path: `/${bucket}/copy-dst`,
        headers: { 'x-amz-copy-source': `/${bucket}/${source}`, ...headers },
      })
    const invalidArg = (message: string, extra: Record<string, string> = {}) => ({
      status: 400,
      code: 'InvalidArgument',
      message,
      fields: { ArgumentName: SSE, ...extra },
    })

    beforeAll(async () => {
      s3 = makeClient(srv.endpoint, { maxAttempts: 1 })
      await s3.send(new CreateBucketCommand({ Bucket: bucket }))
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'obj', Body: 'secret', ...sdkSsec(K1) }))
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'plain' }))
    })

    it('SSEC-07 PUT with the trio and x-amz-server-side-encryption answers 400 InvalidArgument (incompatible) with ArgumentValue = the SSE value', async () => {
      expectRawError(
        await put({ ...ssecHeaders(K1), [SSE]: 'AES256' }),
        invalidArg(MSG.incompatible, { ArgumentValue: 'AES256' }),
      )
      expectRawError(
        await put({ ...ssecHeaders(K1), [SSE]: 'aws:kms' }),
        invalidArg(MSG.incompatible, { ArgumentValue: 'aws:kms' }),
      )
      // Step 2 comes before the key checks (contract-defined, not AWS-verified beyond the captured pairs).
      expectRawError(
        await put({ ...ssecHeaders(K1), [SSE_C_KEY_MD5]: K3.md5, [SSE]: 'AES256' }),
        invalidArg(MSG.incompatible, { ArgumentValue: 'AES256' }),
      )
      const create = await signedSend(srv.port, {
        method: 'POST',
        path: `/${bucket}/v-mp`,
        query: { uploads: '' },
        headers: { ...ssecHeaders(K1), [SSE]: 'AES256' },
      })
      expectRawError(create, invalidArg(MSG.incompatible, { ArgumentValue: 'AES256' }))
    })

    it('SSEC-08 algorithm KMS answers 400 InvalidEncryptionAlgorithmError with ArgumentValue KMS on PUT, GET, HEAD, copy source and copy destination', async () => {
      const kms = (h: Record<string, string>, prefix = SSE_C_ALGORITHM) => ({ ...h, [prefix]: 'KMS' })
      const want = {
        status: 400,
        code: 'InvalidEncryptionAlgorithmError',
        message: MSG.badAlgorithm,
        fields: { ArgumentName: SSE, ArgumentValue: 'KMS' },
      }
      expectRawError(await put(kms(ssecHeaders(K1))), want)
      expectRawError(await get(kms(ssecHeaders(K1))), want)
      expect((await get(kms(ssecHeaders(K1)), 'obj', 'HEAD')).status).toBe(400)
      expectRawError(await copy(kms(copySourceHeaders(K1), COPY_SSE_C_ALGORITHM)), want)
      expectRawError(await copy({ ...copySourceHeaders(K1), ...kms(ssecHeaders(K3)) }), want)
      expectRawError(await put({ ...ssecHeaders(K1), [SSE_C_ALGORITHM]: 'aes256' }), {
        ...want,
        fields: { ArgumentValue: 'aes256' },
      })
    })

    it('SSEC-09 key and MD5 without the algorithm answer 400 InvalidArgument (must provide a valid encryption algorithm)', async () => {
      expectRawError(await put({ [SSE_C_KEY]: K1.b64, [SSE_C_KEY_MD5]: K1.md5 }), invalidArg(MSG.noAlgorithm))
      expectRawError(await put({ [SSE_C_KEY_MD5]: K1.md5 }), invalidArg(MSG.noAlgorithm))
      expectRawError(await get({ [SSE_C_KEY]: K1.b64, [SSE_C_KEY_MD5]: K1.md5 }), invalidArg(MSG.noAlgorithm))
    })

    it('SSEC-10 algorithm and MD5 without the key answer 400 InvalidArgument (must provide an appropriate secret key)', async () => {
      expectRawError(await put({ [SSE_C_ALGORITHM]: 'AES256', [SSE_C_KEY_MD5]: K1.md5 }), invalidArg(MSG.noKey))
      expectRawError(await get({ [SSE_C_ALGORITHM]: 'AES256', [SSE_C_KEY_MD5]: K1.md5 }), invalidArg(MSG.noKey))
    })

    it('SSEC-11 the MD5 of another key answers 400 InvalidArgument (calculated MD5 did not match), also for a 24-byte key (step 7 before 8)', async () => {
      expectRawError(await put({ ...ssecHeaders(K1), [SSE_C_KEY_MD5]: K3.md5 }), invalidArg(MSG.md5Mismatch))
      expectRawError(await get({ ...ssecHeaders(K1), [SSE_C_KEY_MD5]: K3.md5 }), invalidArg(MSG.md5Mismatch))
      const short = keyOfLength(24)
      expectRawError(await put({ ...ssecHeaders(short), [SSE_C_KEY_MD5]: K3.md5 }), invalidArg(MSG.md5Mismatch))
      expectRawError(
        await copy({ ...copySourceHeaders(K1), 'x-amz-copy-source-server-side-encryption-customer-key-md5': K3.md5 }),
        invalidArg(MSG.md5Mismatch),
      )
    })

    it('SSEC-12 PUT with a 10-byte (or 44-byte) key and its correct MD5 answers 400 InvalidArgument (secret key was invalid)', async () => {
      expectRawError(await put(ssecHeaders(keyOfLength(10))), invalidArg(MSG.badKey))
      expectRawError(await put(ssecHeaders(keyOfLength(44))), invalidArg(MSG.badKey))
      const create = await signedSend(srv.port, {
        method: 'POST',
        path: `/${bucket}/v-mp`,
        query: { uploads: '' },
        headers: ssecHeaders(keyOfLength(16)),
      })
      expectRawError(create, invalidArg(MSG.badKey))
      expectRawError(await copy({ ...copySourceHeaders(K1), ...ssecHeaders(keyOfLength(31)) }), invalidArg(MSG.badKey))
    })

    it('SSEC-13 the trio without the key MD5 answers 400 InvalidArgument (must provide the client calculated MD5) (contract-defined, not AWS-verified)', async () => {
      expectRawError(await put({ [SSE_C_ALGORITHM]: 'AES256', [SSE_C_KEY]: K1.b64 }), invalidArg(MSG.noMd5))
      expectRawError(await get({ [SSE_C_ALGORITHM]: 'AES256', [SSE_C_KEY]: K1.b64 }), invalidArg(MSG.noMd5))
    })

    it('SSEC-14 GET with a 44-byte (or 10-byte) key and its correct MD5 answers 403 AccessDenied (correct secret key); HEAD 403', async () => {
      for (const n of [44, 10]) {
        const k = keyOfLength(n)
        expectRawError(await get(ssecHeaders(k)), { status: 403, code: 'AccessDenied', message: MSG.wrongKey })
        const head = await get(ssecHeaders(k), 'obj', 'HEAD')
        expect([head.status, head.body.length]).toEqual([403, 0])
      }
      // A wrong-length copy-source key is a wrong key too (SSEC-32 with SSEC-14's key).
      expectRawError(await copy(copySourceHeaders(keyOfLength(44))), {
        status: 403,
        code: 'AccessDenied',
        message: MSG.wrongKey,
      })
    })

    it('SSEC-11 SSEC-12 a key that is not base64 answers 400 InvalidArgument (contract-defined, not AWS-verified)', async () => {
      const res = await put({ [SSE_C_ALGORITHM]: 'AES256', [SSE_C_KEY]: '!!!not-base64!!!', [SSE_C_KEY_MD5]: K1.md5 })
      expectRawError(res, { status: 400, code: 'InvalidArgument', fields: { ArgumentName: SSE } })
    })

    it('SSEC-09 SSEC-11 SSEC-12 a malformed trio answers its 400 before NoSuchBucket / NoSuchKey (inferred: §1.4 step 3 before step 5)', async () => {
      expectRawError(
        await signedSend(srv.port, {
          method: 'PUT',
          path: '/no-such-bucket/k',
          headers: { ...ssecHeaders(K1), [SSE_C_KEY_MD5]: K3.md5 },
          body: 'x',
        }),
        invalidArg(MSG.md5Mismatch),
      )
      expectRawError(
        await signedSend(srv.port, {
          method: 'PUT',
          path: '/no-such-bucket/k',
          headers: ssecHeaders(keyOfLength(10)),
          body: 'x',
        }),
        invalidArg(MSG.badKey),
      )
      expectRawError(
        await get({ [SSE_C_KEY]: K1.b64, [SSE_C_KEY_MD5]: K1.md5 }, 'no-such-key'),
        invalidArg(MSG.noAlgorithm),
      )
      expectRawError(
        await copy(
          { ...copySourceHeaders(K1), 'x-amz-copy-source-server-side-encryption-customer-key-md5': K3.md5 },
          'no-such-key',
        ),
        invalidArg(MSG.md5Mismatch),
      )
      // Well-formed trios do not hide the missing resource.
      expectRawError(
        await signedSend(srv.port, { method: 'PUT', path: '/no-such-bucket/k', headers: ssecHeaders(K1), body: 'x' }),
        { status: 404, code: 'NoSuchBucket' },
      )
      expectRawError(await get(ssecHeaders(K1), 'no-such-key'), { status: 404, code: 'NoSuchKey' })
    })

    it('§4.2 a copy-source trio (even a malformed one) on PutObject, CreateMultipartUpload and GetObject is ignored (contract-defined, not AWS-verified)', async () => {
      const junk = { ...copySourceHeaders(K1), 'x-amz-copy-source-server-side-encryption-customer-key-md5': K3.md5 }
      expect((await put(junk, 'ignored')).status).toBe(200)
      expect(
        (
          await signedSend(srv.port, {
            method: 'POST',
            path: `/${bucket}/ignored-mp`,
            query: { uploads: '' },
            headers: junk,
          })
        ).status,
      ).toBe(200)
      const got = await get({ ...junk, ...ssecHeaders(K1) })
      expect([got.status, got.text]).toEqual([200, 'secret'])
    })

    it('§4.12 error answers never echo the customer key', async () => {
      for (const res of [
        await get(ssecHeaders(K3)),
        await put({ ...ssecHeaders(K1), [SSE_C_KEY_MD5]: K3.md5 }),
        await copy(copySourceHeaders(K3)),
        await get(ssecHeaders(K1), 'plain'),
      ]) {
        expect(res.status).toBeGreaterThanOrEqual(400)
        for (const k of [K1, K3]) expect(res.text.includes(k.b64), res.text).toBe(false)
        expect(sseHeaderNames(res)).toEqual([])
      }
    })

    it('SSEC-01 DeleteObject of an SSE-C object needs no key (docs/s3-sse-rules.md §3.10)', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'to-delete', Body: 'x', ...sdkSsec(K2) }))
      const del = await signedSend(srv.port, { method: 'DELETE', path: `/${bucket}/to-delete` })
      expect(del.status).toBe(204)
      expect((await get(ssecHeaders(K2), 'to-delete')).status).toBe(404)
    })
  })

  describe("a sealed object key moved onto another object's record fails to open (crypto/README.md §1)", () => {
    let dataDir: string
    let server: TestServer | undefined
    const bucket = 'moved'
    const bodies: Record<string, Buffer> = {
      'c-src': randomBytes(1000),
      'c-dst': randomBytes(1000),
      's-src': randomBytes(70_000),
      's-dst': randomBytes(70_000),
    }

    beforeAll(async () => {
      dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-moved-'))
      server = await startTestServer({ dataDir, args: ALLOW })
      const s3 = makeClient(server.endpoint, { maxAttempts: 1 })
      await s3.send(new CreateBucketCommand({ Bucket: bucket }))
      // Both SSE-C objects use the same customer key: only the binding to the record can fail.
      for (const key of ['c-src', 'c-dst'])
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bodies[key], ...sdkSsec(K1) }))
      for (const key of ['s-src', 's-dst'])
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bodies[key] }))
      await server.close()
      server = undefined

      const meta = await LevelMetadataStore.open(path.join(dataDir, 'meta'))
      try {
        for (const [from, to] of [
          ['c-src', 'c-dst'],
          ['s-src', 's-dst'],
        ]) {
          const src = (await meta.getObject(bucket, from))!
          const dst = (await meta.getObject(bucket, to))!
          expect(dst.encryption.mode).toBe(src.encryption.mode)
          await meta.commitObject({ ...dst, encryption: src.encryption })
        }
      } finally {
        await meta.close()
      }
      server = await startTestServer({ dataDir, args: ALLOW })
    })
    afterAll(async () => {
      await server?.close()
      await rm(dataDir, { recursive: true, force: true })
    })

    it("SSE-C: GET of the object carrying another object's sealed key fails its placement tag (500 InternalError, not a key error) even with the right customer key; the original still reads", async () => {
      const s3 = makeClient(server!.endpoint, { maxAttempts: 1 })
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'c-dst', ...sdkSsec(K1) })), {
        status: 500,
        code: 'InternalError',
      })
      await expectSdkHeadError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'c-dst', ...sdkSsec(K1) })), 500)
      const raw = await signedSend(server!.port, { method: 'GET', path: `/${bucket}/c-dst`, headers: ssecHeaders(K1) })
      expect(raw.body.includes(bodies['c-dst'].subarray(0, 16))).toBe(false)
      expect(raw.body.includes(bodies['c-src'].subarray(0, 16))).toBe(false)
      expect(
        (await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'c-src', ...sdkSsec(K1) })))).equals(
          bodies['c-src'],
        ),
      ).toBe(true)
    })

    it("SSE-S3: GET of the object carrying another object's sealed key answers 500 InternalError and no data; the original still reads", async () => {
      const raw = await signedSend(server!.port, { method: 'GET', path: `/${bucket}/s-dst` })
      expectRawError(raw, {
        status: 500,
        code: 'InternalError',
        message: 'We encountered an internal error. Please try again.',
      })
      expect(raw.body.includes(bodies['s-dst'].subarray(0, 16))).toBe(false)
      const s3 = makeClient(server!.endpoint, { maxAttempts: 1 })
      expect(
        (await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 's-src' })))).equals(bodies['s-src']),
      ).toBe(true)
      // Copying it is refused the same way: the sealed key never opens for this record.
      const copy = await signedSend(server!.port, {
        method: 'PUT',
        path: `/${bucket}/s-dst-copy`,
        headers: { 'x-amz-copy-source': `/${bucket}/s-dst` },
      })
      expectRawError(copy, { status: 500, code: 'InternalError' })
    })
  })
})

describe('TLS rule for SSE-C (docs/s3-sse-rules.md §4.9; docs/s3-behaviour.md)', () => {
  let dataDir: string
  let strict: TestServer | undefined
  let loose: TestServer | undefined
  const bucket = 'tls'
  const body = Buffer.from('over plain http')

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-tls-'))
    // Objects are written by a default server (loopback counts as secure), then served with --strict-tls.
    loose = await startTestServer({ dataDir, args: ALLOW })
    const s3 = makeClient(loose.endpoint, { maxAttempts: 1 })
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ssec', Body: body, ...sdkSsec(K1) }))
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: body }))
    await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp-plain' }))
    await loose.close()
    loose = undefined
    strict = await startTestServer({ dataDir, args: [...ALLOW, '--strict-tls'] })
  })
  afterAll(async () => {
    await strict?.close()
    await loose?.close()
    await rm(dataDir, { recursive: true, force: true })
  })

  const insecure = { status: 400, code: 'InvalidRequest', message: MSG.insecure }

  it('TLS-05 with the default configuration SSE-C over plain HTTP from 127.0.0.1 works (docs/s3-behaviour.md loopback exception)', async () => {
    const srv = await startTestServer({ args: ALLOW })
    try {
      expect(srv.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const s3 = makeClient(srv.endpoint, { maxAttempts: 1 })
      await s3.send(new CreateBucketCommand({ Bucket: 'tls-05' }))
      const put = await s3.send(new PutObjectCommand({ Bucket: 'tls-05', Key: 'k', Body: body, ...sdkSsec(K1) }))
      expect(put.SSECustomerKeyMD5).toBe(K1.md5)
      expect(
        (await bytesOf(await s3.send(new GetObjectCommand({ Bucket: 'tls-05', Key: 'k', ...sdkSsec(K1) })))).equals(
          body,
        ),
      ).toBe(true)
    } finally {
      await srv.close()
    }
  })

  it('SSEC-16 with --strict-tls, PUT, CreateMultipartUpload and GET with the trio over plain HTTP answer 400 InvalidRequest (secure connection) (contract-defined, not AWS-verified)', async () => {
    const port = strict!.port
    expectRawError(
      await signedSend(port, { method: 'PUT', path: `/${bucket}/new`, headers: ssecHeaders(K1), body: 'x' }),
      insecure,
    )
    expectRawError(
      await signedSend(port, {
        method: 'POST',
        path: `/${bucket}/new-mp`,
        query: { uploads: '' },
        headers: ssecHeaders(K1),
      }),
      insecure,
    )
    expectRawError(
      await signedSend(port, { method: 'GET', path: `/${bucket}/ssec`, headers: ssecHeaders(K1) }),
      insecure,
    )
    const head = await signedSend(port, { method: 'HEAD', path: `/${bucket}/ssec`, headers: ssecHeaders(K1) })
    expect([head.status, head.body.length]).toEqual([400, 0])
    // Nothing was stored.
    const s3 = makeClient(strict!.endpoint, { maxAttempts: 1 })
    await expectSdkHeadError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'new' })), 404)
  })

  it('SSEC-16 the refusal comes first: before a bad key MD5, an SSE header beside the trio, or a trio on a non-SSE-C object (contract-defined, not AWS-verified)', async () => {
    const port = strict!.port
    expectRawError(
      await signedSend(port, {
        method: 'PUT',
        path: `/${bucket}/new`,
        headers: { ...ssecHeaders(K1), [SSE_C_KEY_MD5]: K3.md5 },
        body: 'x',
      }),
      insecure,
    )
    expectRawError(
      await signedSend(port, {
        method: 'PUT',
        path: `/${bucket}/new`,
        headers: { ...ssecHeaders(K1), [SSE]: 'AES256' },
        body: 'x',
      }),
      insecure,
    )
    expectRawError(
      await signedSend(port, { method: 'PUT', path: `/${bucket}/new`, headers: { [SSE_C_KEY]: K1.b64 }, body: 'x' }),
      insecure,
    )
    expectRawError(
      await signedSend(port, { method: 'GET', path: `/${bucket}/plain`, headers: ssecHeaders(K1) }),
      insecure,
    )
  })

  it('SSEC-16 copy-source and UploadPart trios over plain HTTP are refused the same way (contract-defined, not AWS-verified)', async () => {
    const port = strict!.port
    const copy = await signedSend(port, {
      method: 'PUT',
      path: `/${bucket}/copied`,
      headers: { 'x-amz-copy-source': `/${bucket}/ssec`, ...copySourceHeaders(K1) },
    })
    expectRawError(copy, insecure)
    const s3 = makeClient(strict!.endpoint, { maxAttempts: 1 })
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }))
    const part = await signedSend(port, {
      method: 'PUT',
      path: `/${bucket}/mp`,
      query: { partNumber: '1', uploadId: UploadId! },
      headers: ssecHeaders(K1),
      body: 'x',
    })
    expectRawError(part, insecure)
    const partCopy = await signedSend(port, {
      method: 'PUT',
      path: `/${bucket}/mp`,
      query: { partNumber: '1', uploadId: UploadId! },
      headers: { 'x-amz-copy-source': `/${bucket}/ssec`, ...copySourceHeaders(K1) },
    })
    expectRawError(partCopy, insecure)
  })

  it('SSEC-16 the TLS refusal precedes resource existence: a missing bucket still answers the secure-connection error (inferred, §1.4 step 3 before 5)', async () => {
    expectRawError(
      await signedSend(strict!.port, { method: 'PUT', path: '/no-such-bucket/k', headers: ssecHeaders(K1), body: 'x' }),
      insecure,
    )
    expectRawError(
      await signedSend(strict!.port, { method: 'GET', path: `/${bucket}/no-such-key`, headers: ssecHeaders(K1) }),
      insecure,
    )
  })

  it('TLS-04 with --strict-tls, SSE-S3 PUT and GET over plain HTTP answer 200; an SSE-C object without its key still answers SSEC-03', async () => {
    const s3 = makeClient(strict!.endpoint, { maxAttempts: 1 })
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'tls-04', Body: body, ServerSideEncryption: 'AES256' }),
    )
    expect(put.ServerSideEncryption).toBe('AES256')
    expect((await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'tls-04' })))).equals(body)).toBe(
      true,
    )
    expect((await bytesOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain' })))).equals(body)).toBe(
      true,
    )
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ssec' })), {
      status: 400,
      code: 'InvalidRequest',
      message: MSG.storedWithSse,
    })
  })
})

describe('SSEC-28 the customer key is never stored or logged (docs/s3-sse-rules.md §4.8 Storage, §4.12; crypto/README.md §1, docs/s3-behaviour.md)', () => {
  let dataDir: string
  let child: ChildServer | undefined
  const keys = [K1, customerKey(randomBytes(32)), customerKey(randomBytes(32))]
  const bucket = 'at-rest-ssec'

  /** Every encoding of a key whose presence in a file or log would leak it or its unsalted hash. */
  function needles(k: CustomerKeyVector): Array<[string, Buffer]> {
    const md5 = createHash('md5').update(k.raw).digest()
    return [
      ['key bytes', k.raw],
      ['key base64', Buffer.from(k.b64)],
      ['key base64 unpadded', Buffer.from(k.b64.replace(/=+$/, ''))],
      ['key base64url', Buffer.from(k.raw.toString('base64url'))],
      ['key hex', Buffer.from(k.raw.toString('hex'))],
      ['key MD5 bytes', md5],
      ['key MD5 base64', Buffer.from(k.md5)],
      ['key MD5 base64 unpadded', Buffer.from(k.md5.replace(/=+$/, ''))],
      ['key MD5 hex', Buffer.from(md5.toString('hex'))],
      ['key SHA-256 bytes', createHash('sha256').update(k.raw).digest()],
      ['key SHA-256 hex', Buffer.from(createHash('sha256').update(k.raw).digest('hex'))],
    ]
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-ssec28-'))
    child = await startChildServer(dataDir, ['--log-level', 'debug', ...ALLOW])
    const s3 = makeClient(child.endpoint, { maxAttempts: 1 })
    const [a, b, c] = keys
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'single', Body: randomBytes(70_000), ...sdkSsec(a) }))
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'multi', ...sdkSsec(b) }),
    )
    const p1 = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'multi',
        UploadId,
        PartNumber: 1,
        Body: randomBytes(5 * MiB),
        ...sdkSsec(b),
      }),
    )
    const p2 = await s3.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: 'multi',
        UploadId,
        PartNumber: 2,
        CopySource: `${bucket}/single`,
        ...sdkCopySsec(a),
        ...sdkSsec(b),
      }),
    )
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'multi',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.ETag },
            { PartNumber: 2, ETag: p2.CopyPartResult?.ETag },
          ],
        },
      }),
    )
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'copy',
        CopySource: `${bucket}/single`,
        ...sdkCopySsec(a),
        ...sdkSsec(c),
      }),
    )
    // An upload left in progress: its record (with the sealed object key) and its part stay on disk.
    const open = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'open', ...sdkSsec(c) }))
    await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'open',
        UploadId: open.UploadId,
        PartNumber: 1,
        Body: randomBytes(1000),
        ...sdkSsec(c),
      }),
    )
    // In-place rotation, reads, and refusals (wrong key, bad MD5, missing key) all pass through the logger.
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'copy',
        CopySource: `${bucket}/copy`,
        ...sdkCopySsec(c),
        ...sdkSsec(a),
      }),
    )
    await bytesOf(
      await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: 'multi', Range: 'bytes=5242000-5243000', ...sdkSsec(b) }),
      ),
    )
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'copy', ...sdkSsec(a) }))
    for (const [k, h] of [
      ['single', ssecHeaders(c)],
      ['single', { ...ssecHeaders(a), [SSE_C_KEY_MD5]: b.md5 }],
      ['multi', {}],
      ['copy', ssecHeaders(b)],
    ] as const) {
      expect(
        (await signedSend(child.port, { method: 'GET', path: `/${bucket}/${k}`, headers: h })).status,
      ).toBeGreaterThanOrEqual(400)
    }
    await child.stop()
  })
  afterAll(async () => {
    await child?.stop()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('no file under the data directory holds any key, its base64, or its MD5 (raw, base64, hex)', async () => {
    const files = await allFiles(dataDir)
    expect(files.some((f) => f.includes(`${path.sep}blobs${path.sep}`))).toBe(true)
    expect(files.some((f) => f.includes(`${path.sep}meta${path.sep}`))).toBe(true)
    const found: string[] = []
    for (const f of files) {
      const content = await readFile(f)
      for (const k of keys)
        for (const [form, needle] of needles(k))
          if (content.includes(needle)) found.push(`${path.relative(dataDir, f)}: ${form}`)
    }
    expect(found).toEqual([])
  })

  it('the debug log (stderr of the server process) holds no key, base64 or MD5 either', async () => {
    const log = Buffer.from(child!.output())
    // The log really was written at debug level, one line per request.
    expect(
      log
        .toString()
        .split('\n')
        .filter((l) => l.includes('"level":"debug"')).length,
    ).toBeGreaterThanOrEqual(10)
    const found: string[] = []
    for (const k of keys) for (const [form, needle] of needles(k)) if (log.includes(needle)) found.push(form)
    expect(found).toEqual([])
  })

  it('the objects written in that run read back with their keys after a restart (the data really went in)', async () => {
    child = await startChildServer(dataDir, ALLOW)
    const s3 = makeClient(child.endpoint, { maxAttempts: 1 })
    const single = await bytesOf(
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'single', ...sdkSsec(keys[0]) })),
    )
    expect(single.length).toBe(70_000)
    const copy = await bytesOf(
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy', ...sdkSsec(keys[0]) })),
    )
    expect(sha256Hex(copy)).toBe(sha256Hex(single))
    const multi = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'multi', ...sdkSsec(keys[1]) }))
    expect(multi.ContentLength).toBe(5 * MiB + 70_000)
    await child.stop()
  })
})
