/**
 * @module The benchmark's BASELINE: a bare `node:http` file server with the store's durability and
 * nothing else (no auth, no metadata database, no encryption, no digests).
 *
 * - PUT /<path>: streams the body to `tmp/<n>`, fsyncs it, renames it to `objects/<encoded path>`
 *   and fsyncs `objects/` — the same durability as the store's blob write. Answers 200, empty body.
 * - GET /<path>: streams the file back (256 KiB reads, like the store); a single `Range:
 *   bytes=a-b` answers 206 with that slice. Missing files are 404.
 *
 * Request headers (SigV4 etc.) are ignored. Usage:
 *   node --import tsx bench/baseline-server.ts --port 0 --data-dir D
 * prints `baseline listening on http://127.0.0.1:<port>` and stops on SIGINT/SIGTERM (the
 * benchmark also preloads bench/child-guard.mjs, which turns "parent went away" into SIGTERM).
 */
import { createReadStream } from 'node:fs'
import { mkdir, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import { fsyncDir } from '../lib/durable-fs.js'

const IO_SIZE = 256 * 1024

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, 'data-dir': { type: 'string' } },
  strict: true,
})
if (!values['data-dir']) {
  process.stderr.write('usage: baseline-server --port P --data-dir D\n')
  process.exit(2)
}
const dataDir = path.resolve(values['data-dir'])
const objectsDir = path.join(dataDir, 'objects')
const tmpDir = path.join(dataDir, 'tmp')
await mkdir(objectsDir, { recursive: true })
await mkdir(tmpDir, { recursive: true })

let tmpSeq = 0
const fileOf = (url: string) => path.join(objectsDir, encodeURIComponent(decodeURIComponent(url.split('?')[0])))

/** Writes every byte of `buf` at the current file position (loops on short writes). */
async function writeAll(fh: FileHandle, buf: Uint8Array): Promise<void> {
  let done = 0
  while (done < buf.length) done += (await fh.write(buf, done, buf.length - done)).bytesWritten
}

/**
 * Copies the body to the file the way the store's blob writer does: small pieces coalesced into
 * 256 KiB writes, a large piece written directly, each write awaited before the next read.
 */
async function copyBody(fh: FileHandle, body: AsyncIterable<Buffer>): Promise<void> {
  const stage = Buffer.allocUnsafe(IO_SIZE)
  let staged = 0
  for await (const piece of body) {
    if (staged === 0 && piece.length >= IO_SIZE) {
      await writeAll(fh, piece)
      continue
    }
    let offset = 0
    while (offset < piece.length) {
      const n = Math.min(IO_SIZE - staged, piece.length - offset)
      piece.copy(stage, staged, offset, offset + n)
      staged += n
      offset += n
      if (staged === IO_SIZE) {
        await writeAll(fh, stage)
        staged = 0
      }
    }
  }
  if (staged > 0) await writeAll(fh, stage.subarray(0, staged))
}

async function put(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const tmp = path.join(tmpDir, `${process.pid}-${tmpSeq++}`)
  const fh = await open(tmp, 'wx')
  try {
    await copyBody(fh, req)
    await fh.sync()
  } catch (err) {
    await fh.close().catch(() => {})
    await unlink(tmp).catch(() => {})
    throw err
  }
  await fh.close()
  await rename(tmp, fileOf(req.url ?? '/'))
  await fsyncDir(objectsDir)
  res.writeHead(200, { 'Content-Length': '0' })
  res.end()
}

async function get(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const file = fileOf(req.url ?? '/')
  let size: number
  try {
    size = (await stat(file)).size
  } catch {
    res.writeHead(404, { 'Content-Length': '0' })
    res.end()
    return
  }
  let start = 0
  let end = size - 1
  let status = 200
  const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes' }
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '')
  if (m) {
    start = Number(m[1])
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
    if (start >= size || end < start) {
      res.writeHead(416, { 'Content-Range': `bytes */${size}`, 'Content-Length': '0' })
      res.end()
      return
    }
    status = 206
    headers['Content-Range'] = `bytes ${start}-${end}/${size}`
  }
  headers['Content-Length'] = String(end - start + 1)
  res.writeHead(status, headers)
  if (end < start) {
    res.end()
    return
  }
  await pipeline(createReadStream(file, { start, end, highWaterMark: IO_SIZE }), res)
}

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const run = req.method === 'PUT' ? put(req, res) : req.method === 'GET' ? get(req, res) : undefined
  if (!run) {
    res.writeHead(405, { 'Content-Length': '0' })
    res.end()
    return
  }
  run.catch((err: unknown) => {
    process.stderr.write(`baseline: ${req.method} ${req.url}: ${(err as Error)?.message ?? err}\n`)
    if (res.headersSent) res.destroy()
    else {
      res.writeHead(500, { 'Content-Length': '0' })
      res.end()
    }
  })
})

await new Promise<void>((resolve, reject) => {
  server.once('error', reject)
  server.listen(Number(values.port), '127.0.0.1', () => resolve())
})
process.stdout.write(`baseline listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`)

let stopping = false
function stop(): void {
  if (stopping) return
  stopping = true
  server.close(() => process.exit(0))
  server.closeAllConnections()
  setTimeout(() => process.exit(0), 2000).unref()
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
