/**
 * @module E2E: bucket configuration changes sent together (as infrastructure-as-code tools apply a
 * bucket's settings in parallel) are all kept: PutBucketPolicy / DeleteBucketPolicy racing
 * PutBucketEncryption / DeleteBucketEncryption on one bucket, then both settings read back as the
 * acknowledged requests left them.
 */
import { randomInt } from 'node:crypto'
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { md5Base64, parseXml, signedSend, type RawRequest, type RawResponse } from '../support/raw-s3.js'
import { startTestServer, type TestServer } from '../support/server.js'

const TRIALS = 80
/** The second request of a trial goes out 0..MAX_OFFSET_MS after the first (either first). */
const MAX_OFFSET_MS = 2

const sleep = (ms: number) => new Promise<void>((r) => (ms <= 0 ? setImmediate(r) : setTimeout(r, ms)))

const policyOf = (bucket: string, n: number) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: `Trial${n}`,
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: `arn:aws:s3:::${bucket}/public/${n}/*`,
      },
    ],
  })

/** An encryption rule that differs from trial to trial (algorithm and bucket-key setting). */
function ruleOf(n: number): { xml: string; algorithm: string; bucketKey: boolean } {
  const algorithm = n % 3 === 0 ? 'AES256' : 'aws:kms'
  const bucketKey = n % 2 === 0
  const xml =
    '<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule>' +
    `<ApplyServerSideEncryptionByDefault><SSEAlgorithm>${algorithm}</SSEAlgorithm></ApplyServerSideEncryptionByDefault>` +
    `<BucketKeyEnabled>${bucketKey}</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`
  return { xml, algorithm, bucketKey }
}

type Mix = 'put-put' | 'put-delete' | 'delete-put' | 'delete-delete'
const MIXES: Mix[] = ['put-put', 'put-delete', 'delete-put', 'delete-delete']

describe('concurrent bucket configuration changes', () => {
  let srv: TestServer
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })

  /** Signs and sends over the keep-alive agent (many requests: no new connection each). */
  const send = (req: RawRequest): Promise<RawResponse> => signedSend(srv.port, req, {}, agent)

  const putPolicy = (bucket: string, text: string) =>
    send({ method: 'PUT', path: `/${bucket}`, query: { policy: '' }, body: text })
  const deletePolicy = (bucket: string) => send({ method: 'DELETE', path: `/${bucket}`, query: { policy: '' } })
  const putEncryption = (bucket: string, xml: string) =>
    send({
      method: 'PUT',
      path: `/${bucket}`,
      query: { encryption: '' },
      headers: { 'content-md5': md5Base64(xml) },
      body: xml,
    })
  const deleteEncryption = (bucket: string) => send({ method: 'DELETE', path: `/${bucket}`, query: { encryption: '' } })

  beforeAll(async () => {
    srv = await startTestServer()
  })
  afterAll(async () => {
    agent.destroy()
    await srv?.close()
  })

  it(`${TRIALS} trials of policy and encryption changes sent together: every acknowledged change is kept`, async () => {
    const problems: string[] = []
    for (let n = 0; n < TRIALS; n++) {
      const bucket = `cfg-race-${n}`
      const mix = MIXES[n % MIXES.length]
      expect((await send({ method: 'PUT', path: `/${bucket}` })).status).toBe(200)
      // The trial policies grant `*`: new buckets block public policies until this is removed.
      expect((await send({ method: 'DELETE', path: `/${bucket}`, query: { publicAccessBlock: '' } })).status).toBe(204)
      // What a delete removes is there first.
      if (mix.startsWith('delete')) expect((await putPolicy(bucket, policyOf(bucket, 1000 + n))).status).toBe(204)
      if (mix.endsWith('delete')) expect((await putEncryption(bucket, ruleOf(4 * n + 2).xml)).status).toBe(200)
      const policy = policyOf(bucket, n)
      const rule = ruleOf(n)
      const offset = randomInt(-MAX_OFFSET_MS, MAX_OFFSET_MS + 1)
      const [policyRes, encryptionRes] = await Promise.all([
        sleep(offset).then(() => (mix.startsWith('put') ? putPolicy(bucket, policy) : deletePolicy(bucket))),
        sleep(-offset).then(() => (mix.endsWith('put') ? putEncryption(bucket, rule.xml) : deleteEncryption(bucket))),
      ])
      const wantPolicyStatus = 204
      const wantEncryptionStatus = mix.endsWith('put') ? 200 : 204
      if (policyRes.status !== wantPolicyStatus || encryptionRes.status !== wantEncryptionStatus) {
        problems.push(`trial ${n} (${mix}): answered ${policyRes.status} / ${encryptionRes.status}`)
        continue
      }
      const gotPolicy = await send({ method: 'GET', path: `/${bucket}`, query: { policy: '' } })
      if (mix.startsWith('put') ? gotPolicy.status !== 200 || gotPolicy.text !== policy : gotPolicy.status !== 404) {
        problems.push(`trial ${n} (${mix}): the policy reads back ${gotPolicy.status} ${gotPolicy.text.slice(0, 80)}`)
      }
      const got = parseXml((await send({ method: 'GET', path: `/${bucket}`, query: { encryption: '' } })).text)
        .ServerSideEncryptionConfiguration.Rule
      // A deleted rule reads back as the implicit default: AES256 without a bucket key (the rule
      // set before a delete always has one, so a lost delete shows).
      const want = mix.endsWith('put')
        ? { algorithm: rule.algorithm, bucketKey: String(rule.bucketKey) }
        : { algorithm: 'AES256', bucketKey: 'false' }
      const seen = { algorithm: got.ApplyServerSideEncryptionByDefault.SSEAlgorithm, bucketKey: got.BucketKeyEnabled }
      if (seen.algorithm !== want.algorithm || seen.bucketKey !== want.bucketKey) {
        problems.push(
          `trial ${n} (${mix}): the encryption rule reads back ${JSON.stringify(seen)}, not ${JSON.stringify(want)}`,
        )
      }
    }
    expect(problems).toEqual([])
  }, 300_000)
})
