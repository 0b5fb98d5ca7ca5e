/**
 * @module E2E: `/health/ready` is unauthenticated, so it must not be a way to make the store work:
 * many concurrent calls share one run of the checks (one at a time), and a completed run answers
 * for READY_CACHE_MS. Observed from outside: the server's external KMS is a stub on loopback that
 * counts the readiness probe's ListKeys calls (and answers slowly, so the calls overlap a run).
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { READY_CACHE_MS } from '../../server/health.js'
import { startTestServer, type TestServer } from '../support/server.js'

const CONCURRENT = 200

describe('/health/ready under load', () => {
  let kms: http.Server
  let listKeys = 0
  let server: TestServer

  beforeAll(async () => {
    kms = http.createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        if (req.headers['x-amz-target'] === 'TrentService.ListKeys') listKeys++
        setTimeout(() => {
          res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1' })
          res.end(JSON.stringify({ Keys: [], Truncated: false }))
        }, 300)
      })
    })
    await new Promise<void>((resolve) => kms.listen(0, '127.0.0.1', resolve))
    server = await startTestServer({
      args: ['--kms-endpoint', `http://127.0.0.1:${(kms.address() as AddressInfo).port}`],
    })
  })

  afterAll(async () => {
    await server?.close()
    await new Promise((resolve) => kms?.close(resolve))
  })

  it(`${CONCURRENT} concurrent calls cause at most one check run per ${READY_CACHE_MS} ms, and all answer ready`, async () => {
    const before = listKeys
    const started = Date.now()
    const answers = await Promise.all(
      Array.from({ length: CONCURRENT }, async () => {
        const res = await fetch(`${server.endpoint}/health/ready`)
        return { status: res.status, body: await res.json() }
      }),
    )
    const elapsed = Date.now() - started
    for (const a of answers)
      expect(a).toEqual({ status: 200, body: { status: 'ok', checks: { metadata: 'ok', blobs: 'ok', kms: 'ok' } } })
    const runs = listKeys - before
    expect(runs).toBeGreaterThanOrEqual(1)
    // One run, plus at most one refresh per cache period the burst lasted.
    expect(runs).toBeLessThanOrEqual(1 + Math.ceil(elapsed / READY_CACHE_MS))
  })

  it('a stale result is refreshed by the next call', async () => {
    await fetch(`${server.endpoint}/health/ready`)
    const before = listKeys
    await new Promise((r) => setTimeout(r, READY_CACHE_MS + 200))
    const res = await fetch(`${server.endpoint}/health/ready`)
    expect(res.status).toBe(200)
    expect(listKeys - before).toBe(1)
  })
})
