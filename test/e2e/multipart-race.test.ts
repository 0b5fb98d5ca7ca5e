/**
 * @module E2E: CompleteMultipartUpload racing a re-upload of the same part. Whatever the order the
 * two land in, a Complete that answers 200 has committed an object that reads back whole (GET 200,
 * the bytes of one of the two part bodies, the ETag of those bytes) — never a record whose blob the
 * re-upload or the Complete's own garbage step deleted.
 */
import { createHash, randomInt } from 'node:crypto'
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseXml, signedSend, type RawRequest, type RawResponse } from '../support/raw-s3.js'
import { startTestServer, type TestServer } from '../support/server.js'

const BUCKET = 'mpu-race'
const TRIALS = 2000
/** Trials run in this many lanes at once (each lane one trial at a time, on its own keys). */
const LANES = 6
/** Offsets between the two racing requests: the re-upload leads by up to 20 ms, or the Complete by up to 4 ms. */
const MAX_REUPLOAD_LEAD_MS = 20
const MAX_COMPLETE_LEAD_MS = 4

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest()
const sleep = (ms: number) => new Promise<void>((r) => (ms <= 0 ? setImmediate(r) : setTimeout(r, ms)))

interface Outcome {
  trial: number
  /** ms the Complete went out after the re-upload (negative: before). */
  offset?: number
  complete: number
  completeCode?: string
  reupload: number
  reuploadCode?: string
  get?: number
  problem?: string
}

describe('CompleteMultipartUpload racing UploadPart of the same part', () => {
  let srv: TestServer
  const agent = new http.Agent({ keepAlive: true, maxSockets: LANES * 3 })

  /** Signs and sends over the keep-alive agent (many requests: no new connection each). */
  const send = (req: RawRequest): Promise<RawResponse> => signedSend(srv.port, req, {}, agent)

  const codeOf = (res: RawResponse) =>
    res.status >= 300 && res.text ? String(parseXml(res.text).Error?.Code) : undefined

  beforeAll(async () => {
    srv = await startTestServer()
    const made = await send({ method: 'PUT', path: `/${BUCKET}` })
    expect(made.status).toBe(200)
  })
  afterAll(async () => {
    agent.destroy()
    await srv?.close()
  })

  /**
   * One trial: upload part 1 (body A), then fire Complete (listing A's ETag) and a re-upload of part 1
   * (body B) with a random offset between them. Half the trials re-upload the same bytes (B = A, same
   * ETag: Complete must then always succeed), half different bytes (Complete may then answer
   * InvalidPart, when the re-upload landed first).
   */
  async function trial(n: number): Promise<Outcome> {
    const key = `k/${n}`
    const path = `/${BUCKET}/k/${n}`
    const bodyA = Buffer.from(`part A of trial ${n} `.repeat(1 + (n % 7)))
    const same = n % 2 === 0
    const bodyB = same ? bodyA : Buffer.from(`part B of trial ${n} `.repeat(1 + (n % 5)))
    const created = await send({ method: 'POST', path, query: { uploads: '' } })
    if (created.status !== 200)
      return { trial: n, complete: 0, reupload: 0, problem: `CreateMultipartUpload answered ${created.status}` }
    const uploadId = String(parseXml(created.text).InitiateMultipartUploadResult.UploadId)
    const partQuery = { partNumber: '1', uploadId }
    const first = await send({ method: 'PUT', path, query: partQuery, body: bodyA })
    if (first.status !== 200)
      return { trial: n, complete: 0, reupload: 0, problem: `UploadPart answered ${first.status}` }
    const etagA = String(first.headers.etag)
    const xml = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etagA}</ETag></Part></CompleteMultipartUpload>`
    // Positive: the Complete goes out `offset` ms after the re-upload (which has a blob to write
    // first, so it needs the head start to land inside the Complete); negative: the other way round.
    const offset = randomInt(-MAX_COMPLETE_LEAD_MS, MAX_REUPLOAD_LEAD_MS + 1)
    const [complete, reupload] = await Promise.all([
      sleep(offset).then(() => send({ method: 'POST', path, query: { uploadId }, body: xml })),
      sleep(-offset).then(() => send({ method: 'PUT', path, query: partQuery, body: bodyB })),
    ])
    const out: Outcome = {
      offset,
      trial: n,
      complete: complete.status,
      completeCode: codeOf(complete),
      reupload: reupload.status,
      reuploadCode: codeOf(reupload),
    }
    if (!(reupload.status === 200 || (reupload.status === 404 && out.reuploadCode === 'NoSuchUpload'))) {
      return { ...out, problem: 'the re-upload answered neither 200 nor 404 NoSuchUpload' }
    }
    if (complete.status !== 200) {
      // Only a re-upload of other bytes, landing first, may turn the listed ETag stale.
      const allowed = !same && complete.status === 400 && out.completeCode === 'InvalidPart' && reupload.status === 200
      return allowed ? out : { ...out, problem: 'Complete failed' }
    }
    const etag = String(parseXml(complete.text).CompleteMultipartUploadResult.ETag)
    const got = await send({ method: 'GET', path })
    out.get = got.status
    if (got.status !== 200) return { ...out, problem: `GET of ${key} answered ${got.status} ${codeOf(got) ?? ''}` }
    // Complete listed A's ETag, so the object is A (B too, when the bytes are the same).
    if (!got.body.equals(bodyA)) return { ...out, problem: 'GET returned other bytes than the completed part' }
    const want = `"${md5(md5(got.body)).toString('hex')}-1"`
    if (etag !== want || got.headers.etag !== want)
      return { ...out, problem: `ETag ${etag} / ${String(got.headers.etag)} is not that of the bytes (${want})` }
    return out
  }

  it(`${TRIALS} racing trials: every Complete that answers 200 reads back whole; a Complete of the same bytes always answers 200`, async () => {
    const outcomes: Outcome[] = []
    let next = 0
    await Promise.all(
      Array.from({ length: LANES }, async () => {
        while (next < TRIALS) outcomes.push(await trial(next++))
      }),
    )
    expect(outcomes).toHaveLength(TRIALS)
    const problems = outcomes.filter((o) => o.problem)
    const tally = (pick: (o: Outcome) => string) =>
      outcomes.reduce<Record<string, number>>((t, o) => ({ ...t, [pick(o)]: (t[pick(o)] ?? 0) + 1 }), {})
    const summary = {
      complete: tally((o) => `${o.complete} ${o.completeCode ?? ''}`.trim()),
      reupload: tally((o) => `${o.reupload} ${o.reuploadCode ?? ''}`.trim()),
      problems: problems.length,
    }
    expect({ ...summary, firstProblems: problems.slice(0, 5) }).toEqual({ ...summary, problems: 0, firstProblems: [] })
  }, 600_000)
})
