/**
 * @module E2E: observability. Unauthenticated `/health/live`, `/health/ready`
 * (metadata store, blob directory, KMS — 503 when an external KMS cannot be reached) and
 * Prometheus `/metrics`: requests by operation and status, latency, bytes, KMS calls, data-key
 * cache hits and misses, integrity failures.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { readFile, writeFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { blobFiles, freePort, startMoto, type Moto } from '../support/kms.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1))
  }
  return undefined
}

async function metrics(endpoint: string): Promise<string> {
  const res = await fetch(`${endpoint}/metrics`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return res.text()
}

describe('health and metrics (embedded KMS)', () => {
  let server: TestServer

  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(async () => {
    await server?.close()
  })

  it('/health/live and /health/ready answer 200 without authentication', async () => {
    const live = await fetch(`${server.endpoint}/health/live`)
    expect(live.status).toBe(200)
    expect(await live.json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${server.endpoint}/health/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ok', checks: { metadata: 'ok', blobs: 'ok', kms: 'ok' } })
  })

  it('/metrics counts requests by operation and status, latency, bytes, KMS calls and bucket-key cache use', async () => {
    const s3 = makeClient(server.endpoint, { maxAttempts: 1 })
    try {
      const body = Buffer.alloc(70_000, 7)
      await s3.send(new CreateBucketCommand({ Bucket: 'obs' }))
      await s3.send(new PutObjectCommand({ Bucket: 'obs', Key: 'a', Body: body }))
      await s3.send(
        new PutObjectCommand({
          Bucket: 'obs',
          Key: 'b',
          Body: body,
          ServerSideEncryption: 'aws:kms',
          BucketKeyEnabled: true,
        }),
      )
      await s3.send(
        new PutObjectCommand({
          Bucket: 'obs',
          Key: 'c',
          Body: body,
          ServerSideEncryption: 'aws:kms',
          BucketKeyEnabled: true,
        }),
      )
      const got = await s3.send(new GetObjectCommand({ Bucket: 'obs', Key: 'b' }))
      expect((await got.Body!.transformToByteArray()).length).toBe(body.length)
      await expect(s3.send(new GetObjectCommand({ Bucket: 'obs', Key: 'missing' }))).rejects.toMatchObject({
        name: 'NoSuchKey',
      })
    } finally {
      s3.destroy()
    }
    const text = await metrics(server.endpoint)
    expect(sample(text, 'strongroom_s3_requests_total{operation="CreateBucket",status="200"}')).toBe(1)
    expect(sample(text, 'strongroom_s3_requests_total{operation="PutObject",status="200"}')).toBe(3)
    expect(sample(text, 'strongroom_s3_requests_total{operation="GetObject",status="200"}')).toBe(1)
    expect(sample(text, 'strongroom_s3_requests_total{operation="GetObject",status="404"}')).toBe(1)
    expect(sample(text, 'strongroom_s3_request_duration_seconds_count{operation="PutObject",status="200"}')).toBe(3)
    expect(
      sample(text, 'strongroom_s3_request_duration_seconds_bucket{le="+Inf",operation="PutObject",status="200"}'),
    ).toBe(3)
    expect(sample(text, 'strongroom_s3_received_bytes_total')).toBeGreaterThanOrEqual(3 * 70_000)
    expect(sample(text, 'strongroom_s3_sent_bytes_total')).toBeGreaterThanOrEqual(70_000)
    // Two bucket-key PUTs: the first fetches a data key, the second reuses it.
    expect(sample(text, 'strongroom_kms_calls_total{operation="GenerateDataKey",outcome="ok"}')).toBe(1)
    expect(sample(text, 'strongroom_kms_calls_total{operation="Decrypt",outcome="ok"}')).toBe(1)
    expect(sample(text, 'strongroom_kms_call_duration_seconds_count{operation="GenerateDataKey"}')).toBe(1)
    expect(sample(text, 'strongroom_data_key_cache_total{cache="bucket-key",result="miss"}')).toBe(1)
    expect(sample(text, 'strongroom_data_key_cache_total{cache="bucket-key",result="hit"}')).toBe(1)
    expect(sample(text, 'strongroom_integrity_failures_total')).toBe(0)
    expect(text).toMatch(/^process_cpu_user_seconds_total /m)
    // The health and metrics routes themselves are not S3 requests.
    expect(text).not.toMatch(/operation="Unknown"/)
  })

  it('a signed GET /metrics is an S3 request (bucket "metrics"), not the metrics page', async () => {
    const s3 = makeClient(server.endpoint, { maxAttempts: 1 })
    try {
      await expect(s3.send(new GetObjectCommand({ Bucket: 'metrics', Key: 'x' }))).rejects.toMatchObject({
        name: 'NoSuchBucket',
      })
    } finally {
      s3.destroy()
    }
  })

  it('counts integrity failures: a tampered blob fails closed and shows in /metrics', async () => {
    const s3 = makeClient(server.endpoint, { maxAttempts: 1 })
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'tamper' }))
      const before = new Set(await blobFiles(server.dataDir))
      await s3.send(new PutObjectCommand({ Bucket: 'tamper', Key: 't', Body: Buffer.alloc(1000, 1) }))
      const added = (await blobFiles(server.dataDir)).filter((f) => !before.has(f))
      expect(added).toHaveLength(1)
      const bytes = await readFile(added[0])
      bytes[bytes.length - 20] ^= 0x01
      await writeFile(added[0], bytes)
      await expect(
        s3.send(new GetObjectCommand({ Bucket: 'tamper', Key: 't' })).then((r) => r.Body!.transformToByteArray()),
      ).rejects.toBeDefined()
    } finally {
      s3.destroy()
    }
    const text = await metrics(server.endpoint)
    expect(sample(text, 'strongroom_integrity_failures_total')).toBe(1)
    expect(sample(text, 'strongroom_s3_requests_total{operation="GetObject",status="500"}')).toBe(1)
  })
})

describe('health with an external KMS', () => {
  it('/health/ready is 503 when the external KMS cannot be reached; live stays 200', async () => {
    const closed = await freePort()
    const server = await startTestServer({ args: ['--kms-endpoint', `http://127.0.0.1:${closed}`] })
    try {
      const started = Date.now()
      const ready = await fetch(`${server.endpoint}/health/ready`)
      expect(ready.status).toBe(503)
      expect(await ready.json()).toEqual({
        status: 'unavailable',
        checks: { metadata: 'ok', blobs: 'ok', kms: 'failed' },
      })
      expect(Date.now() - started).toBeLessThan(4000)
      expect((await fetch(`${server.endpoint}/health/live`)).status).toBe(200)
    } finally {
      await server.close()
    }
  })

  describe('with moto_server as the KMS', () => {
    let moto: Moto
    let server: TestServer
    beforeAll(async () => {
      moto = await startMoto()
      server = await startTestServer({ args: ['--kms-endpoint', moto.endpoint] })
    })
    afterAll(async () => {
      await server?.close()
      await moto?.stop()
    })

    it('/health/ready is 200, and goes 503 once the KMS stops', async () => {
      const ready = await fetch(`${server.endpoint}/health/ready`)
      expect(await ready.json()).toEqual({ status: 'ok', checks: { metadata: 'ok', blobs: 'ok', kms: 'ok' } })
      expect(ready.status).toBe(200)
      await moto.stop()
      // The last result is reused for a short while (READY_CACHE_MS); then the next run sees the KMS gone.
      let status = 0
      for (let i = 0; i < 50 && status !== 503; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 200))
        status = (await fetch(`${server.endpoint}/health/ready`)).status
      }
      expect(status).toBe(503)
    })
  })
})
