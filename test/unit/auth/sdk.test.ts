/** @module Requests built by @aws-sdk/client-s3 and its presigner (captured, never sent) verify and decode. */
import { Readable } from 'node:stream'
import { GetObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { describe, expect, it } from 'vitest'
import { authenticate } from '../../../server/s3/auth/sigv4.js'
import type { AuthRequest } from '../../../server/s3/auth/types.js'
import { verifyBody } from '../../../server/s3/body.js'
import { checksumOf } from '../../../server/s3/checksums.js'
import { drain, pieces } from './chunks.js'
import { AKID, SECRET, deps } from './signer.js'

interface Captured {
  request: AuthRequest
  body: Buffer
}

/** Decodes a raw query string the way the server does: `+` stays a plus sign (docs/s3-sse-rules.md §2.2). */
function parseQuery(raw: string): Array<[string, string]> {
  if (raw === '') return []
  return raw.split('&').map((kv) => {
    const eq = kv.indexOf('=')
    return eq < 0
      ? [decodeURIComponent(kv), '']
      : [decodeURIComponent(kv.slice(0, eq)), decodeURIComponent(kv.slice(eq + 1))]
  })
}

/** An S3 client whose transport captures the request instead of sending it. */
function capturingClient(extra: Partial<S3ClientConfig> = {}, endpoint = 'http://localhost:9000') {
  const seen: Captured[] = []
  const requestHandler = {
    handle: async (req: {
      method: string
      path: string
      query?: Record<string, string | string[] | null>
      headers: Record<string, string>
      body?: unknown
    }) => {
      let body: Buffer = Buffer.alloc(0)
      if (req.body instanceof Uint8Array || typeof req.body === 'string') body = Buffer.from(req.body)
      else if (req.body && typeof (req.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function')
        body = await drain(req.body as AsyncIterable<Uint8Array>)
      const query: Array<[string, string]> = []
      for (const [k, v] of Object.entries(req.query ?? {}))
        for (const one of Array.isArray(v) ? v : [v]) query.push([k, one ?? ''])
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v
      seen.push({
        request: { method: req.method, path: decodeURIComponent(req.path), query, headers, now: new Date() },
        body,
      })
      return { response: { statusCode: 200, headers: { etag: '"0"' }, body: Readable.from([]) } }
    },
  }
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: AKID, secretAccessKey: SECRET },
    requestHandler: requestHandler as never,
    ...extra,
  })
  return { client, seen }
}

const KEYS = ['plain.txt', 'a b+c/ü', 'x//y/./z', 'test$file.text', '100%/日本語 😀', "!'()*~"]
const DATA = Buffer.alloc(70000, 'q')

describe('requests from @aws-sdk/client-s3 (independent client)', () => {
  it.each(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const)(
    'STRM-03/STRM-04 stream PutObject with %s trailer verifies and decodes',
    async (alg) => {
      const { client, seen } = capturingClient()
      for (const key of KEYS) {
        await client.send(
          new PutObjectCommand({
            Bucket: 'b',
            Key: key,
            Body: Readable.from([DATA]),
            ContentLength: DATA.length,
            ChecksumAlgorithm: alg,
          }),
        )
      }
      for (const { request, body } of seen) {
        expect(request.headers['x-amz-content-sha256']).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER')
        const auth = authenticate(request, deps())
        const v = verifyBody(pieces([body]), { auth, headers: request.headers })
        expect((await drain(v.stream)).equals(DATA)).toBe(true)
        expect(v.digests().checksum).toEqual({ algorithm: alg, value: checksumOf(alg, DATA) })
      }
    },
  )

  it('AUTH-16/CKS-01 Buffer PutObject over HTTP and HTTPS (payload hash or UNSIGNED-PAYLOAD + header checksum) verifies', async () => {
    for (const endpoint of ['http://localhost:9000', 'https://localhost:9443']) {
      for (const when of ['WHEN_SUPPORTED', 'WHEN_REQUIRED'] as const) {
        const { client, seen } = capturingClient({ requestChecksumCalculation: when }, endpoint)
        for (const key of KEYS) await client.send(new PutObjectCommand({ Bucket: 'b', Key: key, Body: DATA }))
        for (const { request, body } of seen) {
          const auth = authenticate(request, deps())
          const v = verifyBody(pieces([body]), {
            auth,
            headers: request.headers,
            contentLength: Number(request.headers['content-length'] ?? body.length),
          })
          expect((await drain(v.stream)).equals(DATA)).toBe(true)
          expect(v.digests().size).toBe(DATA.length)
        }
      }
    }
  })

  it('AUTH-23/AUTH-24 GET with awkward keys and query parameters verifies', async () => {
    const { client, seen } = capturingClient()
    for (const key of KEYS) {
      await client.send(
        new GetObjectCommand({
          Bucket: 'b',
          Key: key,
          ResponseContentDisposition: 'attachment; filename="a b+c.txt"',
          Range: 'bytes=0-9',
        }),
      )
    }
    for (const { request } of seen) expect(authenticate(request, deps()), request.path).not.toBeNull()
  })

  it('PRE-12 URLs from @aws-sdk/s3-request-presigner verify for GET and PUT', async () => {
    const { client } = capturingClient()
    for (const key of KEYS) {
      for (const command of [
        new GetObjectCommand({ Bucket: 'b', Key: key }),
        new PutObjectCommand({ Bucket: 'b', Key: key, ContentType: 'text/plain' }),
      ]) {
        // Split the URL by hand: WHATWG URL parsing would fold the `./` that the server receives verbatim.
        const url = await getSignedUrl(client, command, { expiresIn: 300 })
        const [, host, rawPath, rawQuery] = /^https?:\/\/([^/]+)([^?]*)\?(.*)$/.exec(url) as RegExpExecArray
        const request: AuthRequest = {
          method: command instanceof GetObjectCommand ? 'GET' : 'PUT',
          path: decodeURIComponent(rawPath),
          query: parseQuery(rawQuery),
          headers: { host, 'content-type': 'text/plain' },
          now: new Date(),
        }
        const ctx = authenticate(request, deps())
        expect(ctx?.mode, `${request.method} ${key}`).toBe('presigned')
        expect(ctx?.payload).toEqual({ kind: 'unsigned' })
      }
    }
  })
})
