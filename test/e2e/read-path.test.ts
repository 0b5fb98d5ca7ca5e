/**
 * @module The hold a GET keeps on the blobs it reads, against the real server and its data
 * directory: a GET racing overwrites of its key always answers one whole written version; a blob
 * that a committed record references but that is missing is an integrity failure (500, counted,
 * logged), never a 404; and every way out of a GET or HEAD — refused, failed or abandoned by the
 * client — leaves no blob held and no file open, so overwritten and deleted data goes.
 */
import { createHash } from 'node:crypto'
import { open, readdir, readlink, stat, unlink } from 'node:fs/promises'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { blobFiles } from '../support/data-dir.js'
import {
  encodeKeyPath,
  errorOf,
  requestHead,
  send,
  sendObserved,
  signRequest,
  signedSend,
  type ObservedResponse,
} from '../support/raw-s3.js'
import { publicRead } from '../support/policies.js'
import { versionContent as content } from '../support/content.js'
import { startTestServer, type TestServer } from '../support/server.js'
import { K1, K2, ssecHeaders } from '../support/sse-c.js'

const BUCKET = 'reads'
const MiB = 1024 * 1024

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

type Got = ObservedResponse

interface GetOptions {
  method?: 'GET' | 'HEAD'
  query?: Record<string, string>
  headers?: Record<string, string>
  agent?: http.Agent
}

/** A signed GET (or HEAD) of `key` that also reports a response cut short. */
async function get(port: number, key: string, opts: GetOptions = {}): Promise<Got> {
  const req = await signRequest(port, {
    method: opts.method ?? 'GET',
    path: `/${BUCKET}/${encodeKeyPath(key)}`,
    query: opts.query,
    headers: opts.headers,
  })
  return sendObserved(port, req, opts.agent ?? false)
}

async function put(port: number, key: string, body: Buffer, headers: Record<string, string> = {}): Promise<void> {
  const res = await signedSend(port, { method: 'PUT', path: `/${BUCKET}/${encodeKeyPath(key)}`, headers, body })
  expect(res.status, res.text).toBe(200)
}

async function del(port: number, key: string): Promise<void> {
  const res = await signedSend(port, { method: 'DELETE', path: `/${BUCKET}/${encodeKeyPath(key)}` })
  expect(res.status, res.text).toBe(204)
}

/** A multipart object of `parts` (each sent as one part). */
async function putMultipart(port: number, key: string, parts: Buffer[]): Promise<void> {
  const p = `/${BUCKET}/${encodeKeyPath(key)}`
  const created = await signedSend(port, { method: 'POST', path: p, query: { uploads: '' } })
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)![1]
  const etags: string[] = []
  for (const [i, body] of parts.entries()) {
    const res = await signedSend(port, { method: 'PUT', path: p, query: { partNumber: String(i + 1), uploadId }, body })
    expect(res.status, res.text).toBe(200)
    etags.push(String(res.headers.etag))
  }
  const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`
  const done = await signedSend(port, { method: 'POST', path: p, query: { uploadId }, body: xml })
  expect(done.status, done.text).toBe(200)
}

/** Blob files that appeared while `fn` ran (nothing else runs against the server meanwhile). */
async function blobsWrittenBy(dataDir: string, fn: () => Promise<void>): Promise<string[]> {
  const before = new Set(await blobFiles(dataDir))
  await fn()
  return (await blobFiles(dataDir)).filter((f) => !before.has(f))
}

/** Descriptors this process (the test server runs in it) holds on files under `dir`. */
async function openFilesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '')
    if (target.startsWith(dir + path.sep)) out.push(target)
  }
  return out
}

async function integrityFailures(endpoint: string): Promise<number> {
  const text = await (await fetch(`${endpoint}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith('strongroom_integrity_failures_total '))
  return Number(line?.split(' ')[1])
}

async function createBucket(port: number): Promise<void> {
  const res = await signedSend(port, { method: 'PUT', path: `/${BUCKET}` })
  expect(res.status, res.text).toBe(200)
}

describe('a GET racing overwrites of its key', () => {
  let server: TestServer

  beforeAll(async () => {
    server = await startTestServer()
    await createBucket(server.port)
  })
  afterAll(async () => {
    await server?.close()
  })

  const GETS = 4000
  const WRITERS = 2
  const READERS = 3
  // Across the 64 KiB chunk boundary, so versions differ in chunk count too.
  const SIZES = [1, 1000, 65_536, 70_000, 140_001]

  it(`${WRITERS} writers and ${READERS} readers on one key that always exists: all ${GETS} GETs answer 200 with one whole written version`, async () => {
    const key = 'race/always-there'
    const written = new Set<string>()
    let version = 0
    const next = () => {
      const v = ++version
      const body = content(v, SIZES[v % SIZES.length])
      // Recorded before the request is sent, so a GET may see it as soon as it commits.
      written.add(sha(body))
      return body
    }
    await put(server.port, key, next())
    // Bounded in count (GETS) and, as a guard, in time.
    const deadline = Date.now() + 100_000
    let stop = false
    let gets = 0
    let puts = 0
    const failures: string[] = []
    const agent = new http.Agent({ keepAlive: true, maxSockets: READERS })
    const writer = async () => {
      while (!stop && Date.now() < deadline) {
        await put(server.port, key, next())
        puts++
      }
    }
    const reader = async () => {
      while (gets < GETS && Date.now() < deadline) {
        gets++
        const r = await get(server.port, key, { agent })
        if (r.status !== 200) failures.push(`${r.status} ${r.code}: ${r.body.toString('utf8').slice(0, 300)}`)
        else if (!r.complete) failures.push(`200 cut short at ${r.body.length} bytes`)
        else if (!written.has(sha(r.body))) failures.push(`200 with ${r.body.length} bytes of no written version`)
      }
    }
    try {
      const writers = Array.from({ length: WRITERS }, writer)
      await Promise.all(Array.from({ length: READERS }, reader))
      stop = true
      await Promise.all(writers)
    } finally {
      stop = true
      agent.destroy()
    }
    expect(failures.slice(0, 5), `${failures.length} of ${gets} GETs failed (${puts} overwrites)`).toEqual([])
    expect(puts).toBeGreaterThan(0)
  })
})

describe('a blob that a committed record references is missing', () => {
  let server: TestServer
  const stderr: string[] = []

  beforeAll(async () => {
    server = await startTestServer({ args: ['--log-level', 'error'] })
    await createBucket(server.port)
  })
  afterAll(async () => {
    vi.restoreAllMocks()
    await server?.close()
  })

  it('GET answers 500 InternalError (never 404 NoSuchKey, never the blob id), counts an integrity failure and logs an error; HEAD still answers from the record', async () => {
    const [single] = await blobsWrittenBy(server.dataDir, () => put(server.port, 'lost/single', content(1, 200_000)))
    const mpBlobs = await blobsWrittenBy(server.dataDir, () =>
      putMultipart(server.port, 'lost/multi', [content(2, 5 * MiB), content(3, 100_000)]),
    )
    expect(mpBlobs.length).toBe(2)
    // Which file is part 2: the one of 100 000 bytes of plaintext (the smaller).
    const sizes = await Promise.all(mpBlobs.map(async (f) => (await stat(f)).size))
    const part2 = mpBlobs[sizes[0] < sizes[1] ? 0 : 1]
    await unlink(single)
    await unlink(part2)

    const before = await integrityFailures(server.endpoint)
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk))
      return true
    })
    const reads: Array<[string, GetOptions]> = [
      ['lost/single', {}],
      ['lost/single', { headers: { range: 'bytes=70000-70100' } }],
      // Part 2 is missing: refused before the status line, although part 1 is intact.
      ['lost/multi', {}],
      ['lost/multi', { query: { partNumber: '2' } }],
    ]
    try {
      for (const [key, opts] of reads) {
        const r = await get(server.port, key, opts)
        const what = `${key} ${JSON.stringify(opts)}`
        expect(r.status, what).toBe(500)
        expect(r.code, what).toBe('InternalError')
        expect(r.complete, what).toBe(true)
        const text = r.body.toString('utf8')
        expect(text).not.toContain('<Key>')
        for (const f of [single, part2]) expect(text).not.toContain(path.basename(f))
      }
    } finally {
      vi.mocked(process.stderr.write).mockRestore()
    }
    expect(await integrityFailures(server.endpoint)).toBe(before + reads.length)
    const errors = stderr
      .flatMap((s) => s.split('\n'))
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { level: string; msg: string })
    expect(errors.filter((e) => e.level === 'error').length).toBeGreaterThanOrEqual(reads.length)
    // Part 1 alone still reads: only the blobs a read touches are checked.
    const p1 = await get(server.port, 'lost/multi', { query: { partNumber: '1' } })
    expect(p1.status).toBe(206)
    expect(p1.body.equals(content(2, 5 * MiB))).toBe(true)
    // HEAD reads no blob: it answers from the record (strongroom verify finds the missing blob).
    expect((await get(server.port, 'lost/single', { method: 'HEAD' })).status).toBe(200)
  })
})

describe('every way out of a GET or HEAD releases the blobs and files it took', () => {
  let server: TestServer
  let blobsDir: string

  beforeAll(async () => {
    server = await startTestServer({ args: ['--allow-sse-c-on-new-buckets'] })
    blobsDir = path.join(server.dataDir, 'blobs')
    await createBucket(server.port)
  })
  afterAll(async () => {
    await server?.close()
  })

  /** Writes `bytes` at `at` of a blob file. */
  async function scribble(file: string, at: number): Promise<void> {
    const fh = await open(file, 'r+')
    try {
      await fh.write(Buffer.from([0xff, 0x00, 0xff]), 0, 3, at)
    } finally {
      await fh.close()
    }
  }

  /** Opens a GET, reads about `bytes` of its body, then drops the connection. */
  async function abandon(key: string, bytes: number): Promise<void> {
    const req = await signRequest(server.port, { method: 'GET', path: `/${BUCKET}/${encodeKeyPath(key)}` })
    await new Promise<void>((resolve, reject) => {
      const sock = net.connect({ host: '127.0.0.1', port: server.port })
      let got = 0
      sock.on('data', (c: Buffer) => {
        got += c.length
        if (got >= bytes) {
          sock.destroy()
          resolve()
        }
      })
      sock.on('error', reject)
      sock.on('close', () => resolve())
      sock.write(requestHead(req) + '\r\n\r\n')
    })
  }

  it('refused, failed and abandoned GETs and HEADs leave nothing behind: after overwrite and delete no blob file remains and no descriptor is open', async () => {
    const port = server.port
    const plain = content(10, 300_000)
    await put(port, 'plain', plain)
    await put(port, 'ssec', content(11, 200_000), ssecHeaders(K1))
    await put(port, 'big', content(12, 16 * MiB))
    const [early] = await blobsWrittenBy(server.dataDir, () => put(port, 'tampered-early', content(13, 200_000)))
    const [late] = await blobsWrittenBy(server.dataDir, () => put(port, 'tampered-late', content(14, 200_000)))
    await putMultipart(port, 'multi', [content(15, 5 * MiB), content(16, 70_000)])
    await scribble(early, 10) // chunk 0: fails before the status line
    await scribble(late, 3 * 65_552 + 10) // the last chunk: fails after the headers went out

    const etag = String((await get(port, 'plain', { method: 'HEAD' })).headers.etag)
    const cases: Array<[string, string, GetOptions, number, string?]> = [
      [
        'CR/LF in response-content-type',
        'plain',
        { query: { 'response-content-type': 'x\ny' } },
        400,
        'InvalidArgument',
      ],
      [
        'CR in response-content-disposition',
        'multi',
        { query: { 'response-content-disposition': 'attachment\r\nSet-Cookie: a=b' } },
        400,
        'InvalidArgument',
      ],
      [
        'NUL in response-cache-control',
        'plain',
        { query: { 'response-cache-control': 'a\u0000b' } },
        400,
        'InvalidArgument',
      ],
      [
        'a character beyond ISO-8859-1 in response-content-disposition',
        'plain',
        { query: { 'response-content-disposition': 'attachment; filename="\u2019.txt"' } },
        400,
        'InvalidArgument',
      ],
      ['bad override on HEAD', 'plain', { method: 'HEAD', query: { 'response-content-language': 'x\ny' } }, 400],
      ['If-Match that fails', 'plain', { headers: { 'if-match': '"0123"' } }, 412, 'PreconditionFailed'],
      ['If-None-Match that matches', 'plain', { headers: { 'if-none-match': etag } }, 304],
      ['a range past the end', 'plain', { headers: { range: 'bytes=400000-' } }, 416, 'InvalidRange'],
      ['a part number past the last part', 'multi', { query: { partNumber: '3' } }, 416, 'InvalidPartNumber'],
      [
        'Range and partNumber together',
        'multi',
        { query: { partNumber: '1' }, headers: { range: 'bytes=0-1' } },
        400,
        'InvalidRequest',
      ],
      ['the wrong SSE-C key', 'ssec', { headers: ssecHeaders(K2) }, 403, 'AccessDenied'],
      ['no SSE-C key for an SSE-C object', 'ssec', {}, 400, 'InvalidRequest'],
      ['the wrong SSE-C key on HEAD', 'ssec', { method: 'HEAD', headers: ssecHeaders(K2) }, 403],
      ['a tampered first chunk', 'tampered-early', {}, 500, 'InternalError'],
      ['a tampered last chunk (cut after the headers)', 'tampered-late', {}, 200],
      ['a ranged GET of part 2', 'multi', { headers: { range: 'bytes=5242870-5242900' } }, 206],
      ['a good GET', 'plain', { query: { 'response-content-type': 'text/plain' } }, 200],
    ]
    for (const [what, key, opts, status, code] of cases) {
      const r = await get(port, key, opts)
      expect(r.status, what).toBe(status)
      if (code) expect(r.code, what).toBe(code)
      if (key === 'tampered-late') expect(r.complete, what).toBe(false)
    }
    // Clients that go away mid-body, early and late.
    await abandon('big', 1)
    await abandon('big', 4 * MiB)
    await abandon('multi', 5 * MiB + 100)

    // Overwrite then delete every object: every blob any of them ever had must go.
    for (const key of ['plain', 'ssec', 'big', 'tampered-early', 'tampered-late', 'multi']) {
      await put(port, key, Buffer.from('new'))
      await del(port, key)
    }
    // Deletion of unreferenced blobs runs after the commit's answer: wait for it (bounded).
    let left: string[] = []
    let open: string[] = []
    for (let i = 0; i < 100; i++) {
      left = await blobFiles(server.dataDir)
      open = await openFilesUnder(blobsDir)
      if (left.length === 0 && open.length === 0) break
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(left, 'blob files left after overwrite and delete').toEqual([])
    expect(open, 'descriptors still open on blob files').toEqual([])
  })

  it('response-* overrides on an anonymous GET (public-read bucket) answer 400 InvalidRequest', async () => {
    const bucket = 'reads-public'
    expect((await signedSend(server.port, { method: 'PUT', path: `/${bucket}` })).status).toBe(200)
    // New buckets block public policies (as AWS creates them); this one opts out.
    expect(
      (await signedSend(server.port, { method: 'DELETE', path: `/${bucket}`, query: { publicAccessBlock: '' } }))
        .status,
    ).toBe(204)
    const policy = JSON.stringify(publicRead(bucket))
    expect(
      (await signedSend(server.port, { method: 'PUT', path: `/${bucket}`, query: { policy: '' }, body: policy }))
        .status,
    ).toBe(204)
    expect((await signedSend(server.port, { method: 'PUT', path: `/${bucket}/pub`, body: 'hello' })).status).toBe(200)
    const plain = await send(server.port, { method: 'GET', path: `/${bucket}/pub` })
    expect([plain.status, plain.text]).toEqual([200, 'hello'])
    const res = await send(server.port, {
      method: 'GET',
      path: `/${bucket}/pub`,
      query: { 'response-content-type': 'text/plain' },
    })
    expect(res.status).toBe(400)
    expect(errorOf(res)).toMatchObject({
      Code: 'InvalidRequest',
      Message: 'Request specific response headers cannot be used for anonymous GET requests.',
    })
  })
})
