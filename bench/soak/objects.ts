/**
 * @module The soak's object operations — PutObject (new key or overwrite), GetObject whole and
 * ranged, DeleteObject, ListObjectsV2 — each recorded in the model and its answer judged: a GET
 * must return the bytes of a write that was not superseded, and may answer 404 only when the
 * key may be absent (never written, or a delete not superseded).
 */
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { contentById, contentBytes, makeContent, newSegment, sha256Of, type Content } from './content.js'
import { ABSENT, type Register } from './model.js'
import {
  expectedSse,
  objectRegister,
  pickSize,
  readHeaders,
  writeHeaders,
  type BucketSpec,
  type Ctx,
} from './buckets.js'
import type { S3Answer } from './s3.js'

/** Records a write's outcome in its register from the verdict of its answer. */
export function settle(reg: Register, w: ReturnType<Register['begin']>, ans: S3Answer): void {
  if (ans.status >= 200 && ans.status < 300) reg.ack(w)
  else if (ans.connError || ans.status >= 500) reg.unknown(w)
  else reg.refused(w)
}

export async function putObject(ctx: Ctx, b: BucketSpec, key: string, size = pickSize(ctx.rng)): Promise<void> {
  const content = makeContent([newSegment(size, ctx.runSeed)])
  const reg = ctx.model.register(objectRegister(b.name, key))
  const sha = createHash('sha256')
  const md5 = createHash('md5')
  const chunks = (function* () {
    for (const c of contentBytes(content)) {
      sha.update(c)
      md5.update(c)
      yield c
    }
  })()
  const start = performance.now()
  const w = reg.begin(content.id, start)
  const ans = await ctx.client.send({
    method: 'PUT',
    bucket: b.name,
    key,
    headers: writeHeaders(b, key),
    body: { length: content.size, chunks },
  })
  settle(reg, w, ans)
  content.origin = `PutObject answered ${ans.status || ans.connError} (request-id ${ans.requestId})`
  const v = ctx.stats.judge('PutObject', ans, start, {}, `${b.name}/${key} (${content.size} B)`)
  if (!v.ok) return
  content.sha256 = sha.digest('hex')
  // The ETag is the plaintext's MD5 for SSE-S3 (SSE-C ETags are random; SSE-KMS ones need not be MD5).
  const etag = md5.digest('hex')
  if (b.mode === 'SSE-S3' && ans.headers.etag !== `"${etag}"`) {
    ctx.stats.dataFailure(
      'wrong-etag',
      `PutObject ${b.name}/${key}: ETag ${ans.headers.etag}, MD5 of the body "${etag}"`,
    )
  }
}

export async function deleteObject(ctx: Ctx, b: BucketSpec, key: string): Promise<void> {
  const reg = ctx.model.register(objectRegister(b.name, key))
  const start = performance.now()
  const w = reg.begin(ABSENT, start)
  const ans = await ctx.client.send({ method: 'DELETE', bucket: b.name, key })
  settle(reg, w, ans)
  ctx.stats.judge('DeleteObject', ans, start, {}, `${b.name}/${key}`)
}

export async function listObjects(ctx: Ctx, b: BucketSpec): Promise<void> {
  const start = performance.now()
  const ans = await ctx.client.send({
    method: 'GET',
    bucket: b.name,
    query: { 'list-type': '2', 'max-keys': '50', prefix: ctx.rng.pick(['', 'obj/', 'hot/', 'dir ü+ñ/']) },
  })
  ctx.stats.judge('ListObjectsV2', ans, start, {}, b.name)
}

/** The range a ranged GET asks for, from the size of the last acknowledged write. */
function pickRange(ctx: Ctx, reg: Register): { start: number; end: number } {
  const last = reg.lastAcked()
  const size = last === ABSENT ? 1 : contentById(last).size
  if (size <= 1) return { start: 0, end: 0 }
  const start = ctx.rng.int(0, size - 1)
  // Mostly short ranges; some across 64 KiB chunk edges; some past the end (clamped by the server).
  const len = ctx.rng.pick([1, 100, 65536, 65537, 300_000, size])
  return { start, end: start + len - 1 }
}

interface Found {
  ok: boolean
  /** Why a 2xx body or a 404 was not acceptable. */
  why?: string
}

/** Judges a 2xx GET body against the candidate values. */
function checkBody(cands: Set<string>, ans: S3Answer, range?: { start: number; end: number }): Found {
  const contents: Content[] = [...cands].filter((c) => c !== ABSENT).map(contentById)
  if (!range || ans.status === 200) {
    // A 200 to a ranged GET is right only for an empty object (AWS ignores a range on 0 bytes).
    const whole = contents.filter((c) => !range || c.size === 0)
    if (whole.some((c) => sha256Of(c) === ans.sha256)) return { ok: true }
    return {
      ok: false,
      why: `body (${ans.length} B, sha256 ${ans.sha256?.slice(0, 12)}) is none of the ${contents.length} acceptable contents`,
    }
  }
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(ans.headers['content-range'] ?? ''))
  if (!m) return { ok: false, why: `206 without a valid Content-Range (${ans.headers['content-range']})` }
  const [from, to, total] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const fit = contents.filter((c) => c.size === total && from === range.start && to === Math.min(range.end, c.size - 1))
  if (fit.some((c) => sha256Of(c, from, to + 1) === ans.sha256 && ans.length === to - from + 1)) return { ok: true }
  return {
    ok: false,
    why: `206 ${from}-${to}/${total} body is no acceptable content's slice (${contents.length} candidates)`,
  }
}

export async function getObject(ctx: Ctx, b: BucketSpec, key: string, ranged: boolean): Promise<void> {
  const reg = ctx.model.register(objectRegister(b.name, key))
  const kind = ranged ? 'GetObject (range)' : 'GetObject'
  const range = ranged ? pickRange(ctx, reg) : undefined
  const headers = { ...readHeaders(b, key), ...(range ? { range: `bytes=${range.start}-${range.end}` } : {}) }
  const read = ctx.model.beginRead()
  const ans = await ctx.client.send({ method: 'GET', bucket: b.name, key, headers }, 'hash')
  read.done()
  const cands = reg.candidates(read.start, ans.headersAt)
  const where = `${b.name}/${key}${range ? ` bytes=${range.start}-${range.end}` : ''}`
  if (ans.connError || ans.status >= 500) {
    ctx.stats.judge(kind, ans, read.start, {}, where)
    return
  }
  if (ans.status === 404 && ans.code === 'NoSuchKey') {
    const ok = cands.has(ABSENT)
    // Name the writes it may hold, so a 404 after a racing Complete tells apart from one racing a PUT.
    const held = ok
      ? ''
      : `; may hold ${[...cands].map((c) => `${c} by ${contentById(c).origin?.split(':')[0] ?? 'a write in flight'}`).join(', ')}`
    ctx.stats.count(
      kind,
      ans,
      ok
        ? { ok: false, expected: true, why: 'the key may be absent (never written or deleted)' }
        : { ok: false, expected: false, why: 'the key holds an acknowledged write' },
      where + held,
    )
    return
  }
  if (ranged && ans.status === 416) {
    const short = [...cands].some((c) => c !== ABSENT && contentById(c).size <= range!.start)
    ctx.stats.count(
      kind,
      ans,
      short
        ? { ok: false, expected: true, why: 'an acceptable content is shorter than the range start' }
        : { ok: false, expected: false, why: 'every acceptable content covers the range start' },
      where,
    )
    return
  }
  if (ans.status !== 200 && ans.status !== 206) {
    ctx.stats.judge(kind, ans, read.start, {}, where)
    return
  }
  const found = checkBody(cands, ans, range)
  ctx.stats.count(kind, ans, { ok: true })
  if (!found.ok) ctx.stats.dataFailure('bad-read', `${kind} ${where}: ${found.why} request-id ${ans.requestId}`)
  const sse = expectedSse(b)
  if (sse && ans.headers[sse.header] !== sse.value) {
    ctx.stats.dataFailure(
      'wrong-sse',
      `${kind} ${where}: ${sse.header}: ${ans.headers[sse.header]}, expected ${sse.value}`,
    )
  }
  ctx.model.prune(reg)
}

/**
 * Two overwrites and three GETs of one hot key fired within 0–3 ms: every GET must answer one of
 * the contents (a key that holds an acknowledged write never answers 404).
 */
export async function overwriteRace(ctx: Ctx, b: BucketSpec, key: string): Promise<void> {
  const jobs = [
    () => putObject(ctx, b, key, ctx.rng.int(0, 128 * 1024)),
    () => putObject(ctx, b, key, ctx.rng.int(0, 128 * 1024)),
    () => getObject(ctx, b, key, false),
    () => getObject(ctx, b, key, false),
    () => getObject(ctx, b, key, ctx.rng.chance(0.3)),
  ]
  await Promise.all(jobs.map((job) => sleep(ctx.rng.int(0, 3)).then(job)))
}
