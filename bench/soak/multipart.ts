/**
 * @module The soak's multipart uploads: Create, 1–3 parts (every part but the last ≥ 5 MiB), now
 * and then a part uploaded again before completing; and cheap one-part uploads whose part is
 * uploaded again *while* CompleteMultipartUpload runs (same or new bytes, timed from the observed
 * latencies so that the two interleave on the server). The completed object must be exactly the
 * parts whose ETags the Complete listed; Complete may refuse with InvalidPart only when the racing
 * re-upload could change that part's ETag, and the racing re-upload may answer NoSuchUpload only
 * because the Complete finished first.
 */
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { contentBytes, makeContent, newSegment, type Content, type Segment } from './content.js'
import { objectRegister, readHeaders, writeHeaders, type BucketSpec, type Ctx } from './buckets.js'
import { settle } from './objects.js'

const MiB = 1024 * 1024
const MIN_PART = 5 * MiB

interface Part {
  seg: Segment
  etag: string
}

/** Moving averages (ms) of a small UploadPart and of a Complete, to time the races. */
const latency = { part: 10, complete: 10 }
const ewma = (avg: number, x: number) => avg * 0.9 + x * 0.1

/** UploadPart of `seg` as part `n`; returns its ETag (unquoted) on a 2xx. */
async function uploadPart(
  ctx: Ctx,
  b: BucketSpec,
  key: string,
  uploadId: string,
  n: number,
  seg: Segment,
  kind: string,
  expected: Record<string, string> = {},
): Promise<string | undefined> {
  const whole: Content = { id: '', segments: [seg], size: seg.size }
  const md5 = createHash('md5')
  const chunks = (function* () {
    for (const c of contentBytes(whole)) {
      md5.update(c)
      yield c
    }
  })()
  const start = performance.now()
  const ans = await ctx.client.send({
    method: 'PUT',
    bucket: b.name,
    key,
    query: { partNumber: String(n), uploadId },
    headers: readHeaders(b, key),
    body: { length: seg.size, chunks },
  })
  if (seg.size <= 64 * 1024 && ans.status === 200) latency.part = ewma(latency.part, performance.now() - start)
  const where = `${b.name}/${key} upload ${uploadId.slice(0, 16)}… part ${n}`
  if (!ctx.stats.judge(kind, ans, start, expected, where).ok) return undefined
  const etag = String(ans.headers.etag ?? '').replace(/"/g, '')
  const want = md5.digest('hex')
  // A part's ETag is its MD5 under SSE-S3 (SSE-C ones are random; SSE-KMS ones need not be MD5).
  if (b.mode === 'SSE-S3' && etag !== want)
    ctx.stats.dataFailure('wrong-etag', `${kind} ${where}: ETag "${etag}", MD5 of the part "${want}"`)
  return etag
}

/** 1–3 parts; the last one is often small, so that re-uploading it can land inside a Complete. */
/** 1–3 parts; every one but the last ≥ 5 MiB. */
function partSizes(ctx: Ctx): number[] {
  const n = ctx.rng.pick([1, 1, 2, 2, 3])
  const last = ctx.rng.chance(0.5) ? ctx.rng.int(0, 64 * 1024) : ctx.rng.int(0, n === 1 ? 3 * MiB : 1536 * 1024)
  return Array.from({ length: n }, (_, i) => (i < n - 1 ? MIN_PART + ctx.rng.int(0, 64 * 1024) : last))
}

function completeXml(parts: Part[]): string {
  return `<CompleteMultipartUpload>${parts.map((p, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>"${p.etag}"</ETag></Part>`).join('')}</CompleteMultipartUpload>`
}

async function createUpload(ctx: Ctx, b: BucketSpec, key: string): Promise<string | undefined> {
  const start = performance.now()
  const created = await ctx.client.send(
    { method: 'POST', bucket: b.name, key, query: { uploads: '' }, headers: writeHeaders(b, key) },
    'text',
  )
  if (!ctx.stats.judge('CreateMultipartUpload', created, start, {}, `${b.name}/${key}`).ok) return undefined
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)?.[1]
  if (!uploadId)
    ctx.stats.dataFailure(
      'bad-answer',
      `CreateMultipartUpload ${b.name}/${key}: no UploadId in ${created.text.slice(0, 200)}`,
    )
  return uploadId
}

async function uploadParts(
  ctx: Ctx,
  b: BucketSpec,
  key: string,
  uploadId: string,
  sizes: number[],
): Promise<Part[] | undefined> {
  const parts: Part[] = []
  for (const [i, size] of sizes.entries()) {
    const seg = newSegment(size, ctx.runSeed)
    const etag = await uploadPart(ctx, b, key, uploadId, i + 1, seg, 'UploadPart')
    if (etag === undefined) return undefined
    parts.push({ seg, etag })
  }
  return parts
}

/**
 * CompleteMultipartUpload of `parts`, recorded in the model as a write of their concatenation;
 * `alongside` runs concurrently (the racing re-upload). Returns whether Complete answered 2xx.
 */
async function complete(
  ctx: Ctx,
  b: BucketSpec,
  key: string,
  uploadId: string,
  parts: Part[],
  race?: { delay: number; alongside: () => Promise<unknown>; expected: Record<string, string>; what: string },
): Promise<boolean> {
  const content = makeContent(parts.map((p) => p.seg))
  const reg = ctx.model.register(objectRegister(b.name, key))
  const body = completeXml(parts)
  let start = 0
  const send = async () => {
    if (race?.delay) await sleep(race.delay)
    start = performance.now()
    const w = reg.begin(content.id, start)
    const ans = await ctx.client.send(
      { method: 'POST', bucket: b.name, key, query: { uploadId }, headers: readHeaders(b, key), body },
      'text',
    )
    settle(reg, w, ans)
    if (ans.status === 200) latency.complete = ewma(latency.complete, performance.now() - start)
    return ans
  }
  const [ans] = await Promise.all([send(), race?.alongside()])
  const where = `${b.name}/${key} upload ${uploadId} (${parts.length} parts, ${content.size} B${race ? `; ${race.what}` : ''})`
  content.origin = `CompleteMultipartUpload answered ${ans.status || ans.connError} (request-id ${ans.requestId}): ${where}`
  if (
    !ctx.stats.judge(
      race ? 'CompleteMultipartUpload (racing)' : 'CompleteMultipartUpload',
      ans,
      start,
      race?.expected ?? {},
      where,
    ).ok
  )
    return false
  const md5 = createHash('md5')
  for (const p of parts) md5.update(Buffer.from(p.etag, 'hex'))
  const want = `${md5.digest('hex')}-${parts.length}`
  const got = /<ETag>([^<]+)<\/ETag>/.exec(ans.text)?.[1]?.replace(/&quot;|"/g, '')
  if (got !== want)
    ctx.stats.dataFailure('wrong-etag', `CompleteMultipartUpload ${where}: ETag ${got}, expected ${want}`)
  return true
}

/** A multipart upload of 1–3 parts, sometimes one uploaded twice, sometimes aborted. */
export async function multipartUpload(ctx: Ctx, b: BucketSpec, key: string): Promise<void> {
  const rng = ctx.rng
  const uploadId = await createUpload(ctx, b, key)
  if (!uploadId) return
  const parts = await uploadParts(ctx, b, key, uploadId, partSizes(ctx))
  if (!parts) return
  if (rng.chance(0.3)) {
    // A part uploaded again (same or new bytes of the same size): the last answered one counts.
    const j = rng.int(0, parts.length - 1)
    const seg = rng.chance(0.5) ? parts[j].seg : newSegment(parts[j].seg.size, ctx.runSeed)
    const etag = await uploadPart(ctx, b, key, uploadId, j + 1, seg, 'UploadPart (re-upload)')
    if (etag === undefined) return
    parts[j] = { seg, etag }
  }
  if (rng.chance(0.05)) {
    const start = performance.now()
    const ans = await ctx.client.send({ method: 'DELETE', bucket: b.name, key, query: { uploadId } })
    ctx.stats.judge('AbortMultipartUpload', ans, start, {}, `${b.name}/${key}`)
    return
  }
  await complete(ctx, b, key, uploadId, parts)
}

/**
 * One small part, then CompleteMultipartUpload and a re-upload of that part at the same moment:
 * mostly the re-upload first and the Complete timed to read the parts just before the re-upload
 * commits (from the observed latencies, ±50 %), else the Complete first and the re-upload 0–4 ms
 * after it.
 */
export async function completeRace(ctx: Ctx, b: BucketSpec, key: string): Promise<void> {
  const rng = ctx.rng
  const uploadId = await createUpload(ctx, b, key)
  if (!uploadId) return
  const parts = await uploadParts(ctx, b, key, uploadId, [rng.int(0, 64 * 1024)])
  if (!parts) return
  const same = rng.chance(0.5)
  // Only SSE-S3 part ETags are the MD5 of the bytes (SSE-C ones are random, SSE-KMS ones need not
  // be MD5, and the default bucket may be SSE-KMS), so elsewhere even the same bytes change it.
  const etagMayChange = !same || b.mode !== 'SSE-S3'
  const reuploadFirst = rng.chance(0.7)
  const delay = reuploadFirst ? Math.max(0, (latency.part - latency.complete / 2) * (0.5 + rng.next())) : rng.int(0, 4)
  let reuploaded: string | undefined
  const alongside = async () => {
    if (!reuploadFirst) await sleep(delay)
    const seg = same ? parts[0].seg : newSegment(parts[0].seg.size, ctx.runSeed)
    reuploaded = await uploadPart(ctx, b, key, uploadId, 1, seg, 'UploadPart (racing Complete)', {
      '404 NoSuchUpload': 'the Complete it raced finished first',
    })
  }
  const what = `part 1 (${parts[0].seg.size} B) re-uploaded with ${same ? 'the same' : 'new'} bytes, ${reuploadFirst ? `${delay.toFixed(1)} ms before` : `${delay} ms after`} the Complete`
  const expected: Record<string, string> = etagMayChange
    ? { '400 InvalidPart': 'a racing re-upload changed the listed part' }
    : {}
  const completed = await complete(ctx, b, key, uploadId, parts, {
    delay: reuploadFirst ? delay : 0,
    alongside,
    expected,
    what,
  })
  ctx.stats.tally('Complete/re-upload races')
  if (completed && reuploaded !== undefined) ctx.stats.tally('  … both answered 200 (the case that lost data)')
  else if (completed) ctx.stats.tally('  … Complete 200, re-upload NoSuchUpload')
  else if (reuploaded !== undefined) ctx.stats.tally('  … re-upload 200, Complete refused')
}
