/**
 * @module E2E: identifiers a client controls (upload ids, version ids, upload-id markers, bucket
 * names) never make the server fail. An upload id no upload can have — empty, with NUL, over 1024
 * characters — answers 404 NoSuchUpload on every multipart operation, as AWS does for an unknown
 * id; and a refusal (4xx, 501) is never logged at error level nor with a stack. The server runs as
 * a child process at log level debug, so every line it logs is seen.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { errorOf, signedSend, type RawRequest } from '../support/raw-s3.js'
import { startChildServer, type ChildServer } from '../support/sse-c.js'

const BUCKET = 'hostile-ids'

/** Upload ids that no upload can have: each reached the metadata store and answered 500 before. */
const HOSTILE_UPLOAD_IDS: Array<[string, string]> = [
  ['empty', ''],
  ['a NUL alone', '\0'],
  ['a NUL inside', 'abc\0def'],
  ['1025 characters', 'a'.repeat(1025)],
  ['4000 characters', 'b'.repeat(4000)],
  ['non-ASCII', 'é'.repeat(20)],
  ['a slash and dots', '../../U'],
]

const COMPLETE_BODY =
  '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"0"</ETag></Part></CompleteMultipartUpload>'

/** Every multipart operation that takes `?uploadId=`, for one id. */
function multipartRequests(uploadId: string): Array<[string, RawRequest]> {
  return [
    ['UploadPart', { method: 'PUT', path: `/${BUCKET}/k`, query: { uploadId, partNumber: '1' }, body: 'part' }],
    [
      'UploadPartCopy',
      {
        method: 'PUT',
        path: `/${BUCKET}/k`,
        query: { uploadId, partNumber: '1' },
        headers: { 'x-amz-copy-source': `/${BUCKET}/src` },
      },
    ],
    ['CompleteMultipartUpload', { method: 'POST', path: `/${BUCKET}/k`, query: { uploadId }, body: COMPLETE_BODY }],
    ['AbortMultipartUpload', { method: 'DELETE', path: `/${BUCKET}/k`, query: { uploadId } }],
    ['ListParts', { method: 'GET', path: `/${BUCKET}/k`, query: { uploadId } }],
  ]
}

type LogLine = Record<string, unknown>

/** The server's JSON log lines so far (stdout's "listening" line is not JSON and is dropped). */
function logLines(server: ChildServer): LogLine[] {
  return server
    .output()
    .split('\n')
    .flatMap((line): LogLine[] => {
      try {
        const v: unknown = JSON.parse(line)
        return v !== null && typeof v === 'object' ? [v as LogLine] : []
      } catch {
        return []
      }
    })
}

/**
 * The log lines of one request, once one has arrived: the server logs before it answers, but the
 * test may read the answer before the pipe delivers the line. Bounded: 250 looks, 20 ms apart.
 */
async function requestLog(server: ChildServer, requestId: unknown): Promise<LogLine[]> {
  let lines: LogLine[] = []
  for (let i = 0; i < 250 && lines.length === 0; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 20))
    lines = logLines(server).filter((l) => l.requestId === requestId)
  }
  return lines
}

describe('hostile identifiers answer the S3 error, never 500, and refusals are not logged as errors', () => {
  let server: ChildServer
  let dataDir: string

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-hostile-ids-'))
    server = await startChildServer(dataDir, ['--log-level', 'debug'])
    expect((await signedSend(server.port, { method: 'PUT', path: `/${BUCKET}` })).status).toBe(200)
    expect((await signedSend(server.port, { method: 'PUT', path: `/${BUCKET}/src`, body: 'source' })).status).toBe(200)
    // A real upload exists on the key, so a hostile id is not "the only upload" by accident.
    expect(
      (await signedSend(server.port, { method: 'POST', path: `/${BUCKET}/k`, query: { uploads: '' } })).status,
    ).toBe(200)
  }, 60_000)

  afterAll(async () => {
    await server?.stop()
    await rm(dataDir, { recursive: true, force: true })
  })

  const errorLines = () => logLines(server).filter((l) => l.level === 'error')

  describe.each(HOSTILE_UPLOAD_IDS)('an upload id that is %s', (_name, uploadId) => {
    it.each(multipartRequests(uploadId))('%s answers 404 NoSuchUpload and logs no error', async (op, req) => {
      const res = await signedSend(server.port, req)
      expect(res.status, res.text).toBe(404)
      const e = errorOf(res)
      expect(e.Code).toBe('NoSuchUpload')
      expect(e.UploadId ?? '').toBe(uploadId)
      const logged = await requestLog(server, res.headers['x-amz-request-id'])
      expect(logged.map((l) => [l.level, l.op, l.code])).toEqual([['debug', op, 'NoSuchUpload']])
      expect(errorLines()).toEqual([])
    })
  })

  it('ListMultipartUploads with a hostile upload-id-marker answers 400 InvalidArgument', async () => {
    for (const [, marker] of HOSTILE_UPLOAD_IDS.filter(([, id]) => id !== '')) {
      const res = await signedSend(server.port, {
        method: 'GET',
        path: `/${BUCKET}`,
        query: { uploads: '', 'key-marker': 'k', 'upload-id-marker': marker },
      })
      expect(res.status, res.text).toBe(400)
      expect(errorOf(res).Code).toBe('InvalidArgument')
    }
    expect(errorLines()).toEqual([])
  })

  it('a bucket name with NUL answers NoSuchBucket on every operation', async () => {
    for (const path of ['/%00', '/a%00b', '/a%00b/key']) {
      for (const method of ['GET', 'HEAD', 'PUT', 'DELETE']) {
        const res = await signedSend(server.port, { method, path, body: method === 'PUT' ? 'x' : undefined })
        expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(500)
      }
      const res = await signedSend(server.port, { method: 'GET', path })
      expect(errorOf(res).Code).toBe('NoSuchBucket')
    }
    expect(errorLines()).toEqual([])
  })

  it('a versionId that is neither "null" nor one of ours is refused with 400 InvalidArgument, never ignored', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await signedSend(server.port, { method, path: `/${BUCKET}/src`, query: { versionId: 'abc\0def' } })
      expect(res.status, res.text).toBe(400)
      expect(errorOf(res)).toMatchObject({ Code: 'InvalidArgument', ArgumentName: 'versionId' })
      expect((await signedSend(server.port, { method, path: `/${BUCKET}/src`, query: { versionId: '' } })).status).toBe(
        400,
      )
    }
    expect(
      (
        await signedSend(server.port, {
          method: 'HEAD',
          path: `/${BUCKET}/src`,
          query: { versionId: 'x'.repeat(2000) },
        })
      ).status,
    ).toBe(400)
    // The object is still there (the DELETE above did not delete it), and "null" names it.
    const got = await signedSend(server.port, { method: 'GET', path: `/${BUCKET}/src`, query: { versionId: 'null' } })
    expect([got.status, got.text]).toEqual([200, 'source'])
    expect(errorLines()).toEqual([])
  })

  it('501 NotImplemented is logged at warn, with no stack', async () => {
    // If-None-Match on a write supports only `*`: another value is NotImplemented.
    const res = await signedSend(server.port, {
      method: 'PUT',
      path: `/${BUCKET}/copy`,
      headers: { 'x-amz-copy-source': `/${BUCKET}/src`, 'if-none-match': '"abc"' },
    })
    expect(res.status).toBe(501)
    const logged = await requestLog(server, res.headers['x-amz-request-id'])
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatchObject({ level: 'warn', code: 'NotImplemented', op: 'CopyObject' })
    expect(JSON.stringify(logged[0])).not.toMatch(/stack|at .*\.ts:\d+/)
    expect(errorLines()).toEqual([])
  })
})
