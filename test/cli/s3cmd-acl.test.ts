/**
 * @module End-to-end: `s3cmd put -P` (public-read) against strongroom on 127.0.0.1. On a new bucket
 * (BucketOwnerEnforced) it fails with AccessControlListNotSupported instead of reporting success
 * while the object stays private; on an ObjectWriter bucket without Block Public Access the object
 * becomes readable by an unsigned GET. A missing s3cmd fails the suite; nothing is skipped.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send, signedSend } from '../support/raw-s3.js'
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, startTestServer, type TestServer } from '../support/server.js'

const execFileP = promisify(execFile)
const TOOL_TIMEOUT_MS = 60_000

interface ToolFailure extends Error {
  code?: number | string
  stdout?: string
  stderr?: string
}

describe('s3cmd put -P', () => {
  let server: TestServer
  let work: string
  let config: string

  /** Runs s3cmd; resolves with its exit code and output (a refusal is an answer, not a crash). */
  async function s3cmd(...args: string[]): Promise<{ code: number; out: string }> {
    try {
      const r = await execFileP('s3cmd', ['-c', config, ...args], {
        cwd: work,
        timeout: TOOL_TIMEOUT_MS,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: work },
      })
      return { code: 0, out: r.stdout + r.stderr }
    } catch (e) {
      const err = e as ToolFailure
      if (err.code === 'ENOENT')
        throw new Error("required tool 's3cmd' is missing (apt-get install s3cmd). These tests never skip.")
      if (typeof err.code !== 'number') throw err
      return { code: err.code, out: `${err.stdout ?? ''}${err.stderr ?? ''}` }
    }
  }

  beforeAll(async () => {
    server = await startTestServer()
    work = await mkdtemp(path.join(tmpdir(), 'strongroom-s3cmd-'))
    config = path.join(work, 's3cfg')
    const host = `127.0.0.1:${server.port}`
    await writeFile(
      config,
      [
        '[default]',
        `access_key = ${TEST_ACCESS_KEY_ID}`,
        `secret_key = ${TEST_SECRET_ACCESS_KEY}`,
        `host_base = ${host}`,
        `host_bucket = ${host}`,
        'use_https = False',
        'signature_v2 = False',
        'bucket_location = us-east-1',
        '',
      ].join('\n'),
    )
    await writeFile(path.join(work, 'f.txt'), 'published')
  })
  afterAll(async () => {
    await server?.close()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('a new bucket refuses it with AccessControlListNotSupported and stores nothing', async () => {
    expect((await signedSend(server.port, { method: 'PUT', path: '/s3cmd-default' })).status).toBe(200)
    const r = await s3cmd('put', '-P', 'f.txt', 's3://s3cmd-default/f.txt')
    expect(r.code, r.out).not.toBe(0)
    expect(r.out).toContain('AccessControlListNotSupported')
    expect((await signedSend(server.port, { method: 'HEAD', path: '/s3cmd-default/f.txt' })).status).toBe(404)
  })

  it('an ObjectWriter bucket without Block Public Access makes the object public', async () => {
    expect(
      (
        await signedSend(server.port, {
          method: 'PUT',
          path: '/s3cmd-pub',
          headers: { 'x-amz-object-ownership': 'ObjectWriter' },
        })
      ).status,
    ).toBe(200)
    expect(
      (await signedSend(server.port, { method: 'DELETE', path: '/s3cmd-pub', query: { publicAccessBlock: '' } }))
        .status,
    ).toBe(204)
    const r = await s3cmd('put', '-P', 'f.txt', 's3://s3cmd-pub/f.txt')
    expect(r.code, r.out).toBe(0)
    const anon = await send(server.port, { method: 'GET', path: '/s3cmd-pub/f.txt' })
    expect([anon.status, anon.text]).toEqual([200, 'published'])
  })
})
