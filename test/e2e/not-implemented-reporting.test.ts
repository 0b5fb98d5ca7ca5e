/**
 * @module E2E: what the store does not implement answers 501 NotImplemented naming the subresource
 * or header, is logged at warn (never error, never a stack) with method, path and subresource, and
 * is counted in /metrics under the operation it names (GetBucketWebsite, …), never "Unknown".
 * The server runs as a child process so its log lines (stderr) can be read.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { killStartedServers, serverArgs, spawnServer, waitFor, type ChildServer } from '../support/child-server.js'
import { errorOf, signedSend } from '../support/raw-s3.js'
import { hasRefusedOperationName } from '../../server/s3/refused-operations.js'
import { UNSUPPORTED_SUBRESOURCES } from '../../server/s3/route.js'

interface LogLine {
  level: string
  msg: string
  [k: string]: unknown
}

describe('NotImplemented answers, logs and metrics', () => {
  let dataDir: string
  let child: ChildServer
  let port: number

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-notimpl-'))
    child = await spawnServer(process.execPath, serverArgs(dataDir))
    port = Number(new URL(child.endpoint).port)
    const created = await signedSend(port, { method: 'PUT', path: '/refusals' })
    expect(created.status, created.text).toBe(200)
  })
  afterAll(async () => {
    killStartedServers()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  const logLines = (): LogLine[] =>
    child
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine)

  const cases: Array<[string, string, Record<string, string>, string, string | undefined]> = [
    ['GET', '/refusals', { website: '' }, 'GetBucketWebsite', 'website'],
    ['PUT', '/refusals', { replication: '' }, 'PutBucketReplication', 'replication'],
    ['DELETE', '/refusals', { inventory: '' }, 'DeleteBucketInventoryConfiguration', 'inventory'],
    ['GET', '/refusals', { logging: '' }, 'GetBucketLogging', 'logging'],
    ['POST', '/refusals/k', { restore: '' }, 'RestoreObject', 'restore'],
  ]

  it.each(cases)(
    '%s %s ?%o answers 501 naming it, logs a warn line and counts %s',
    async (method, wirePath, query, operation, subresource) => {
      const res = await signedSend(port, {
        method,
        path: wirePath,
        query,
        body: method === 'PUT' || method === 'POST' ? '<x/>' : undefined,
      })
      expect(res.status, res.text).toBe(501)
      const err = errorOf(res)
      expect(err.Code).toBe('NotImplemented')
      expect(err.Message).toContain(`?${subresource}`)
      const requestId = String(res.headers['x-amz-request-id'])
      // The log line is written before the answer; poll (bounded) only for the pipe to deliver it.
      expect(await waitFor(() => logLines().some((l) => l.requestId === requestId), 10_000)).toBe(true)
      const line = logLines().find((l) => l.requestId === requestId)!
      expect(line).toMatchObject({
        level: 'warn',
        op: operation,
        method,
        path: wirePath,
        subresource,
        code: 'NotImplemented',
      })
      expect(JSON.stringify(line)).not.toMatch(/stack/i)
      const metrics = await (await fetch(`${child.endpoint}/metrics`)).text()
      expect(metrics).toMatch(
        new RegExp(`^strongroom_s3_requests_total\\{operation="${operation}",status="501"\\} [1-9]`, 'm'),
      )
    },
  )

  it('a header of an unimplemented feature is logged at warn under its operation (PutObject)', async () => {
    const res = await signedSend(port, {
      method: 'PUT',
      path: '/refusals/tagged',
      headers: { 'x-amz-write-offset-bytes': '0' },
      body: 'x',
    })
    expect(res.status).toBe(501)
    expect(errorOf(res).Message).toContain('x-amz-write-offset-bytes')
    const requestId = String(res.headers['x-amz-request-id'])
    expect(await waitFor(() => logLines().some((l) => l.requestId === requestId), 10_000)).toBe(true)
    expect(logLines().find((l) => l.requestId === requestId)).toMatchObject({
      level: 'warn',
      op: 'PutObject',
      method: 'PUT',
      path: '/refusals/tagged',
    })
  })

  it('nothing was logged at error and nothing counted as "Unknown"', async () => {
    expect(logLines().filter((l) => l.level === 'error')).toEqual([])
    const metrics = await (await fetch(`${child.endpoint}/metrics`)).text()
    expect(metrics).not.toMatch(/operation="Unknown"/)
  })

  it('every refused subresource has an operation name in the table', () => {
    for (const name of UNSUPPORTED_SUBRESOURCES) expect(hasRefusedOperationName(name), name).toBe(true)
  })
})
