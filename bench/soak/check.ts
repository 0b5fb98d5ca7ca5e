/**
 * @module The soak's final check, once every request is answered: each object ever written is
 * read back whole and its SHA-256 compared with the model's acceptable contents (lost: 404 where a
 * write was acknowledged; stale: an older acknowledged write's bytes; resurrected: bytes after an
 * acknowledged delete; corrupt: bytes of no write), and each bucket's policy and default
 * encryption compared with the acknowledged changes.
 */
import { contentById, sha256Of } from './content.js'
import { ABSENT, type Register } from './model.js'
import { CONFIG_BUCKETS, DATA_BUCKETS, readHeaders, type Ctx } from './buckets.js'
import { readConfig } from './config.js'

async function checkObject(ctx: Ctx, reg: Register, label: string): Promise<void> {
  const [bucketName, ...rest] = reg.name.slice('object:'.length).split('/')
  const key = rest.join('/')
  const b = DATA_BUCKETS.find((x) => x.name === bucketName)!
  const kind = `final GetObject${label}`
  const start = performance.now()
  const ans = await ctx.client.send({ method: 'GET', bucket: b.name, key, headers: readHeaders(b, key) }, 'hash')
  const cands = reg.candidates()
  const expected = [...cands].map((c) => (c === ABSENT ? 'absent' : `${c} (${contentById(c).size} B)`)).join(' or ')
  const last = reg.lastAcked()
  const where = `${b.name}/${key}${label}: acceptable ${expected}; last acknowledged ${last}${last !== ABSENT ? ` by ${contentById(last).origin}` : ''}`
  if (ans.status === 404 && ans.code === 'NoSuchKey') {
    ctx.stats.count(kind, ans, {
      ok: false,
      expected: true,
      why: cands.has(ABSENT) ? 'deleted or never acknowledged' : 'judged in the data checks',
    })
    if (!cands.has(ABSENT)) ctx.stats.dataFailure('lost', `${where}; found 404 NoSuchKey (request-id ${ans.requestId})`)
    return
  }
  if (ans.status !== 200) {
    ctx.stats.judge(kind, ans, start, {}, where)
    if (!cands.has(ABSENT))
      ctx.stats.dataFailure('lost', `${where}; unreadable: ${ans.status} ${ans.code || ans.connError}`)
    return
  }
  ctx.stats.count(kind, ans, { ok: true })
  const match = [...cands].some((c) => c !== ABSENT && sha256Of(contentById(c)) === ans.sha256)
  if (match) return
  const older = reg.history().find((c) => c !== ABSENT && !cands.has(c) && sha256Of(contentById(c)) === ans.sha256)
  const cls = older === undefined ? 'corrupt' : reg.lastAcked() === ABSENT && cands.size === 1 ? 'resurrected' : 'stale'
  ctx.stats.dataFailure(
    cls,
    `${where}; found ${older ?? `${ans.length} B matching no write`} (request-id ${ans.requestId})`,
  )
}

/** Runs `fn` over `items`, `width` at a time. */
async function eachLimited<T>(items: T[], width: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (i < items.length) await fn(items[i++])
    }),
  )
}

/** Checks every object and configuration of the model; returns how many reads it made. */
export async function finalCheck(ctx: Ctx, label = ''): Promise<{ objects: number; configs: number }> {
  const objects = ctx.model.all().filter((r) => r.name.startsWith('object:') && r.history().length > 0)
  await eachLimited(objects, 8, (r) => checkObject(ctx, r, label))
  for (const bucket of CONFIG_BUCKETS) {
    await readConfig(ctx, bucket, 'policy', label)
    await readConfig(ctx, bucket, 'encryption', label)
  }
  return { objects: objects.length, configs: CONFIG_BUCKETS.length * 2 }
}
