/**
 * @module A streaming multipart/form-data reader for POST Object (browser form uploads): the
 * fields before the `file` field are read whole (at most 20 KB together, as AWS allows); the
 * file's content is then a stream of bounded chunks, never held whole; fields after it are ignored.
 */
import { S3Error } from './errors.js'

/** What AWS allows of the fields (and their part headers) before the file. */
export const MAX_PRE_FILE_BYTES = 20 * 1024

export interface FormFile {
  /** The `filename` of the file part's Content-Disposition (its last path segment). */
  filename: string
  /** The file part's own Content-Type, if it has one. */
  contentType?: string
  /** The file content; throws MalformedPOSTRequest if the form ends before its closing boundary. */
  stream: AsyncGenerator<Buffer>
}

export interface PostForm {
  /** Field names as sent, values as UTF-8, in form order. */
  fields: Array<[string, string]>
  file: FormFile
  /** Reads and drops what follows the file (call after `stream` completed). */
  finish(): Promise<void>
}

const malformed = () => new S3Error('MalformedPOSTRequest')

/** The boundary of a `multipart/form-data` Content-Type; 412 PreconditionFailed for any other type, as AWS. */
export function formBoundary(contentType: string | undefined): string {
  const m = /^\s*multipart\/form-data\s*;(.*)$/i.exec(contentType ?? '')
  const b = m ? /(?:^|;)\s*boundary=(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(m[1]) : null
  if (!b) {
    throw new S3Error('PreconditionFailed', {
      message: 'At least one of the pre-conditions you specified did not hold',
      fields: [['Condition', 'Bucket POST must be of the enclosure-type multipart/form-data']],
    })
  }
  return b[1] ?? b[2]
}

/** Pulls chunks from a body into one growing window; `pos` counts bytes consumed before the file. */
class Reader {
  private readonly it: AsyncIterator<Uint8Array>
  buf: Buffer = Buffer.alloc(0)
  ended = false
  constructor(body: AsyncIterable<Uint8Array>) {
    this.it = body[Symbol.asyncIterator]()
  }
  async fill(): Promise<boolean> {
    if (this.ended) return false
    const next = await this.it.next()
    if (next.done) {
      this.ended = true
      return false
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value)
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
    return true
  }
  /** Bytes up to `delim` (consumed with it), reading no further than `limit` bytes ahead. */
  async until(delim: Buffer, limit: number, tooLarge: () => S3Error): Promise<Buffer> {
    for (;;) {
      const i = this.buf.indexOf(delim)
      if (i >= 0) {
        const out = this.buf.subarray(0, i)
        this.buf = this.buf.subarray(i + delim.length)
        return out
      }
      if (this.buf.length > limit + delim.length) throw tooLarge()
      if (!(await this.fill())) throw malformed()
    }
  }
  async atLeast(n: number): Promise<void> {
    while (this.buf.length < n) if (!(await this.fill())) throw malformed()
  }
}

interface PartHead {
  name: string
  filename?: string
  contentType?: string
}

function parsePartHeaders(raw: string): PartHead {
  let name: string | undefined
  let filename: string | undefined
  let contentType: string | undefined
  for (const line of raw.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon < 0) continue
    const header = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (header === 'content-type') contentType = value
    if (header !== 'content-disposition') continue
    if (!/^form-data\s*(;|$)/i.test(value)) throw malformed()
    name = /;\s*name="([^"]*)"/i.exec(value)?.[1] ?? /;\s*name=([^;\s]+)/i.exec(value)?.[1]
    filename = /;\s*filename="([^"]*)"/i.exec(value)?.[1] ?? /;\s*filename=([^;\s]+)/i.exec(value)?.[1]
  }
  if (name === undefined) throw malformed()
  return { name, filename, contentType }
}

const preDataTooLarge = () => new S3Error('MaxPostPreDataLengthExceeded')

/**
 * Reads a form up to the start of its `file` field. Throws MalformedPOSTRequest for a body that is
 * not a well-formed form, InvalidArgument when it ends without a file field, and
 * MaxPostPreDataLengthExceeded when the fields before the file pass 20 KB.
 */
export async function readPostForm(body: AsyncIterable<Uint8Array>, boundary: string): Promise<PostForm> {
  const r = new Reader(body)
  const dash = Buffer.from('--' + boundary)
  const delim = Buffer.from('\r\n--' + boundary)
  let budget = MAX_PRE_FILE_BYTES
  const spend = (n: number) => {
    budget -= n
    if (budget < 0) throw preDataTooLarge()
  }
  // Preamble (normally empty), then the first boundary.
  spend((await r.until(dash, budget, preDataTooLarge)).length)
  const fields: Array<[string, string]> = []
  for (;;) {
    await r.atLeast(2)
    if (r.buf[0] === 0x2d && r.buf[1] === 0x2d) {
      throw new S3Error('InvalidArgument', {
        message: 'POST requires exactly one file upload per request.',
        fields: [
          ['ArgumentName', 'file'],
          ['ArgumentValue', '0'],
        ],
      })
    }
    // Optional transport padding after the boundary, then CRLF.
    const pad = await r.until(Buffer.from('\r\n'), 256, malformed)
    if (pad.toString('latin1').trim() !== '') throw malformed()
    const rawHead = await r.until(Buffer.from('\r\n\r\n'), budget, preDataTooLarge)
    spend(rawHead.length + 4)
    const head = parsePartHeaders(rawHead.toString('utf8'))
    if (head.name.toLowerCase() === 'file') {
      const filename = (head.filename ?? '').split(/[\\/]/).pop() ?? ''
      return {
        fields,
        file: { filename, contentType: head.contentType, stream: fileStream(r, delim) },
        finish: () => drain(r),
      }
    }
    const value = await r.until(delim, budget, preDataTooLarge)
    spend(value.length + delim.length)
    fields.push([head.name, value.toString('utf8')])
  }
}

/**
 * The file's bytes up to the next boundary, in chunks; the last `delim.length - 1` bytes are held back until known not
 * to start it.
 */
async function* fileStream(r: Reader, delim: Buffer): AsyncGenerator<Buffer> {
  for (;;) {
    const i = r.buf.indexOf(delim)
    if (i >= 0) {
      if (i > 0) yield r.buf.subarray(0, i)
      r.buf = r.buf.subarray(i + delim.length)
      return
    }
    const safe = r.buf.length - (delim.length - 1)
    if (safe > 0) {
      const out = r.buf.subarray(0, safe)
      r.buf = r.buf.subarray(safe)
      yield out
    }
    if (!(await r.fill())) throw malformed()
  }
}

/** Drops whatever follows the file (AWS ignores fields after it). */
async function drain(r: Reader): Promise<void> {
  r.buf = Buffer.alloc(0)
  while (await r.fill()) r.buf = Buffer.alloc(0)
}
