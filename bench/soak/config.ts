/**
 * @module The soak's bucket configuration changes: bursts of 2–3 of PutBucketPolicy,
 * DeleteBucketPolicy, PutBucketEncryption and DeleteBucketEncryption fired together at one bucket
 * (as infrastructure-as-code tools apply a bucket's settings in parallel), and reads of both
 * settings checked against the model: an acknowledged change must not be lost to another one.
 */
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { ABSENT, type Value } from './model.js'
import type { Ctx } from './buckets.js'
import { settle } from './objects.js'
import { KMS_KEYS } from './server.js'

export const policyRegister = (bucket: string) => `policy:${bucket}`
export const encryptionRegister = (bucket: string) => `encryption:${bucket}`

/** What GetBucketEncryption answers for a bucket without a default (or after a delete). */
export const DEFAULT_ENCRYPTION = 'AES256||false'

const md5b64 = (s: string) => createHash('md5').update(s).digest('base64')

let nextSid = 0

/**
 * A harmless policy, told apart by its Sid: it denies writes under a prefix the soak never uses,
 * so it is evaluated on every request without refusing any.
 */
function policyFor(bucket: string, sid: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: sid,
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${bucket}/never-written/*`,
      },
    ],
  })
}

/** The default-encryption rules the soak sets, as `algorithm|kmsKeyId|bucketKeyEnabled`. */
const ENCRYPTIONS = [
  'AES256||false',
  `aws:kms|${KMS_KEYS[0]}|false`,
  `aws:kms|${KMS_KEYS[1]}|true`,
  `aws:kms|${KMS_KEYS[0]}|true`,
]

function encryptionXml(v: string): string {
  const [alg, kmsKey, bk] = v.split('|')
  return (
    `<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>${alg}</SSEAlgorithm>` +
    `${kmsKey ? `<KMSMasterKeyID>${kmsKey}</KMSMasterKeyID>` : ''}</ApplyServerSideEncryptionByDefault>` +
    `<BucketKeyEnabled>${bk}</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`
  )
}

/** The normalized value of a GetBucketEncryption answer. */
export function parseEncryption(xml: string): string {
  const alg = /<SSEAlgorithm>([^<]*)<\/SSEAlgorithm>/.exec(xml)?.[1] ?? '?'
  const kmsKey = /<KMSMasterKeyID>([^<]*)<\/KMSMasterKeyID>/.exec(xml)?.[1] ?? ''
  const bk = /<BucketKeyEnabled>([^<]*)<\/BucketKeyEnabled>/.exec(xml)?.[1] ?? 'false'
  return `${alg}|${kmsKey}|${bk}`
}

/** The Sid of a GetBucketPolicy answer. */
export function parsePolicy(json: string): string {
  try {
    return String((JSON.parse(json) as { Statement: Array<{ Sid: string }> }).Statement[0].Sid)
  } catch {
    return `<unparsable policy: ${json.slice(0, 60)}>`
  }
}

type Change = 'PutBucketPolicy' | 'DeleteBucketPolicy' | 'PutBucketEncryption' | 'DeleteBucketEncryption'

async function change(ctx: Ctx, bucket: string, what: Change): Promise<void> {
  const isPolicy = what.endsWith('Policy')
  const reg = ctx.model.register(isPolicy ? policyRegister(bucket) : encryptionRegister(bucket))
  let value: Value
  let body: string | undefined
  if (what === 'PutBucketPolicy') {
    value = `soak${ctx.runSeed.replace(/\W/g, '')}n${nextSid++}`
    body = policyFor(bucket, value)
  } else if (what === 'PutBucketEncryption') {
    value = ctx.rng.pick(ENCRYPTIONS)
    body = encryptionXml(value)
  } else {
    value = isPolicy ? ABSENT : DEFAULT_ENCRYPTION
  }
  const query = { [isPolicy ? 'policy' : 'encryption']: '' }
  const headers = body ? { 'content-md5': md5b64(body) } : undefined
  const start = performance.now()
  const w = reg.begin(value, start)
  const ans = await ctx.client.send({ method: body ? 'PUT' : 'DELETE', bucket, query, headers, body })
  settle(reg, w, ans)
  ctx.stats.judge(what, ans, start, {}, `${bucket} → ${value}`)
}

const CHANGES: Change[] = ['PutBucketPolicy', 'DeleteBucketPolicy', 'PutBucketEncryption', 'DeleteBucketEncryption']

/** 2–3 changes fired at one bucket within 0–2 ms; most bursts touch both the policy and the default. */
export async function configBurst(ctx: Ctx, bucket: string): Promise<void> {
  const n = ctx.rng.int(2, 3)
  const picks: Change[] = [
    ctx.rng.pick(['PutBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy'] as Change[]),
    ctx.rng.pick(['PutBucketEncryption', 'PutBucketEncryption', 'DeleteBucketEncryption'] as Change[]),
  ]
  while (picks.length < n) picks.push(ctx.rng.pick(CHANGES))
  await Promise.all(
    picks.map((what, i) =>
      i === 0 ? change(ctx, bucket, what) : sleep(ctx.rng.int(0, 2)).then(() => change(ctx, bucket, what)),
    ),
  )
}

/**
 * Reads one setting and checks it against the model. A final read (`finalLabel` given: after
 * everything is answered) classifies a mismatch as a lost update, a mid-run one as a bad read.
 */
export async function readConfig(
  ctx: Ctx,
  bucket: string,
  which: 'policy' | 'encryption',
  finalLabel?: string,
): Promise<void> {
  const final = finalLabel !== undefined
  const regName = which === 'policy' ? policyRegister(bucket) : encryptionRegister(bucket)
  const reg = ctx.model.register(regName)
  const kind = `${final ? 'final ' : ''}${which === 'policy' ? 'GetBucketPolicy' : 'GetBucketEncryption'}${finalLabel ?? ''}`
  const read = ctx.model.beginRead()
  const ans = await ctx.client.send({ method: 'GET', bucket, query: { [which]: '' } }, 'text')
  read.done()
  const cands = final ? reg.candidates() : reg.candidates(read.start, ans.headersAt)
  // A bucket that never had a default encryption answers the same as after DeleteBucketEncryption.
  if (which === 'encryption' && cands.has(ABSENT)) cands.add(DEFAULT_ENCRYPTION)
  let found: Value
  if (which === 'policy' && ans.status === 404 && ans.code === 'NoSuchBucketPolicy') {
    found = ABSENT
    // Mid-run, a missing acknowledged policy is an unexpected answer; at the end, a data failure.
    const fine = cands.has(ABSENT)
    if (!fine && !final) {
      ctx.stats.count(kind, ans, { ok: false, expected: false, why: 'an acknowledged policy is missing' }, bucket)
      return
    }
    ctx.stats.count(
      kind,
      ans,
      { ok: false, expected: true, why: fine ? 'no policy may be set' : 'judged in the data checks' },
      bucket,
    )
  } else if (ans.status === 200) {
    found = which === 'policy' ? parsePolicy(ans.text) : parseEncryption(ans.text)
    ctx.stats.count(kind, ans, { ok: true })
  } else {
    ctx.stats.judge(kind, ans, read.start, {}, bucket)
    return
  }
  if (!cands.has(found)) {
    const cls = final ? 'config-lost' : 'config-bad-read'
    ctx.stats.dataFailure(
      cls,
      `${kind} ${bucket}: found ${found}, acceptable ${[...cands].join(', ')} (last acknowledged: ${reg.lastAcked()})`,
    )
  }
  ctx.model.prune(reg)
}
