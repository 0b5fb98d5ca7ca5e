/**
 * @module E2E: a real browser (headless Chromium from Debian, driven by playwright-core) on one
 * origin uploads to the store on another origin with a presigned PUT — the browser sends its own
 * preflight — and reads the object back with a presigned GET; a page on an origin the bucket's CORS
 * rules do not name is refused by the browser. The presigned POST (HTML form upload) half runs once
 * the server implements POST Object. Without /usr/bin/chromium this file fails: `.ci/run` installs it.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { createHmac, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  makeClient,
  startTestServer,
  TEST_ACCESS_KEY_ID,
  TEST_REGION,
  TEST_SECRET_ACCESS_KEY,
  type TestServer,
} from '../support/server.js'

const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
]
const BUCKET = 'browser'

/** A page server on its own loopback port: its own origin, serving one empty HTML page. */
async function pageServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
    res.end('<!doctype html><title>cors test page</title>')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** What the page's fetch() calls saw: a status and some headers, or the browser's refusal. */
interface Seen {
  ok: boolean
  status?: number
  etag?: string | null
  bytes?: number[]
  error?: string
}

/** Runs fetch(url, {method, body}) in the page; the body goes as raw bytes. */
function pageFetch(page: Page, url: string, method: string, body?: Buffer): Promise<Seen> {
  return page.evaluate(
    async ({ url, method, body }) => {
      try {
        const res = await fetch(url, { method, body: body ? new Uint8Array(body) : undefined })
        const bytes = method === 'GET' ? Array.from(new Uint8Array(await res.arrayBuffer())) : undefined
        return { ok: true, status: res.status, etag: res.headers.get('etag'), bytes }
      } catch (err) {
        return { ok: false, error: String(err) }
      }
    },
    { url, method, body: body ? Array.from(body) : undefined },
  )
}

/** The fields of a SigV4 POST policy form for `key` (what @aws-sdk/s3-presigned-post builds). */
function postPolicyFields(key: string): Record<string, string> {
  const now = new Date()
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
  const day = amzDate.slice(0, 8)
  const credential = `${TEST_ACCESS_KEY_ID}/${day}/${TEST_REGION}/s3/aws4_request`
  const policy = Buffer.from(
    JSON.stringify({
      expiration: new Date(now.getTime() + 10 * 60_000).toISOString(),
      conditions: [
        { bucket: BUCKET },
        { key },
        { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
        { 'x-amz-credential': credential },
        { 'x-amz-date': amzDate },
        ['content-length-range', 0, 1024 * 1024],
      ],
    }),
  ).toString('base64')
  const hmac = (k: Buffer | string, data: string) => createHmac('sha256', k).update(data).digest()
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${TEST_SECRET_ACCESS_KEY}`, day), TEST_REGION), 's3'), 'aws4_request')
  return {
    key,
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': credential,
    'x-amz-date': amzDate,
    policy,
    'x-amz-signature': createHmac('sha256', signingKey).update(policy).digest('hex'),
  }
}

describe('a browser on another origin', () => {
  let srv: TestServer
  let s3: S3Client
  let allowed: Awaited<ReturnType<typeof pageServer>>
  let other: Awaited<ReturnType<typeof pageServer>>
  let profile: string
  let context: BrowserContext

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium; .ci/run does) to run the browser CORS test`,
      )
    }
    srv = await startTestServer()
    // Presigned URLs without SDK checksum parameters: a browser sends the body as it is.
    s3 = makeClient(srv.endpoint, { maxAttempts: 1, requestChecksumCalculation: 'WHEN_REQUIRED' })
    allowed = await pageServer()
    other = await pageServer()
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: BUCKET,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: [allowed.origin],
              AllowedMethods: ['GET', 'PUT', 'POST', 'HEAD'],
              AllowedHeaders: ['*'],
              ExposeHeaders: ['ETag'],
              MaxAgeSeconds: 60,
            },
          ],
        },
      }),
    )
    profile = await mkdtemp(path.join(tmpdir(), 'strongroom-chromium-'))
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 120_000,
    })
  }, 180_000)

  afterAll(async () => {
    await context?.close()
    await allowed?.close()
    await other?.close()
    s3?.destroy()
    await srv?.close()
    if (profile) await rm(profile, { recursive: true, force: true })
  }, 60_000)

  async function openPage(origin: string): Promise<Page> {
    const page = await context.newPage()
    await page.goto(`${origin}/`)
    expect(await page.evaluate(() => (globalThis as unknown as { location: { origin: string } }).location.origin)).toBe(
      origin,
    )
    return page
  }

  it('uploads with a presigned PUT (after its own preflight) and reads the bytes back with a presigned GET', async () => {
    const body = randomBytes(64 * 1024)
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: 'from-browser.bin' }), {
      expiresIn: 600,
    })
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'from-browser.bin' }), {
      expiresIn: 600,
    })
    const page = await openPage(allowed.origin)
    try {
      const put = await pageFetch(page, putUrl, 'PUT', body)
      expect(put, put.error).toMatchObject({ ok: true, status: 200 })
      // ETag is readable only because the rule exposes it.
      expect(put.etag).toMatch(/^"[0-9a-f]{32}"$/)
      const get = await pageFetch(page, getUrl, 'GET')
      expect(get, get.error).toMatchObject({ ok: true, status: 200 })
      expect(Buffer.from(get.bytes!).equals(body)).toBe(true)
    } finally {
      await page.close()
    }
  }, 120_000)

  it('refuses a page on an origin the rules do not name: its fetches reject and its PUT never reaches the store', async () => {
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'from-browser.bin' }), {
      expiresIn: 600,
    })
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: 'never.bin' }), {
      expiresIn: 600,
    })
    const page = await openPage(other.origin)
    try {
      const get = await pageFetch(page, getUrl, 'GET')
      expect(get.ok, `a GET from ${other.origin} was readable`).toBe(false)
      expect(get.error).toMatch(/TypeError/)
      const put = await pageFetch(page, putUrl, 'PUT', Buffer.from('nope'))
      expect(put.ok).toBe(false)
    } finally {
      await page.close()
    }
    await expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'never.bin' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    })
  }, 120_000)

  it('uploads with a presigned POST (an HTML form with a signed policy) and reads it back', async (ctx) => {
    // POST Object is built on another branch; until it is merged the server answers 501.
    const probe = new FormData()
    for (const [k, v] of Object.entries(postPolicyFields('probe.txt'))) probe.append(k, v)
    probe.append('file', new Blob(['probe']), 'probe.txt')
    const probed = await fetch(`${srv.endpoint}/${BUCKET}`, { method: 'POST', body: probe })
    await probed.arrayBuffer()
    if (probed.status === 501) {
      ctx.skip('POST Object not on this branch')
      return
    }
    expect(probed.status).toBeLessThan(300)

    const body = randomBytes(10_000)
    const fields = postPolicyFields('posted.bin')
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'posted.bin' }), {
      expiresIn: 600,
    })
    const page = await openPage(allowed.origin)
    try {
      const posted = await page.evaluate(
        async ({ url, fields, body }) => {
          const form = new FormData()
          for (const [k, v] of Object.entries(fields)) form.append(k, v)
          form.append('file', new Blob([new Uint8Array(body)]), 'posted.bin')
          try {
            const res = await fetch(url, { method: 'POST', body: form })
            return { ok: true, status: res.status }
          } catch (err) {
            return { ok: false, error: String(err) }
          }
        },
        { url: `${srv.endpoint}/${BUCKET}`, fields, body: Array.from(body) },
      )
      expect(posted, posted.error).toMatchObject({ ok: true })
      expect(posted.status).toBeLessThan(300)
      const get = await pageFetch(page, getUrl, 'GET')
      expect(get, get.error).toMatchObject({ ok: true, status: 200 })
      expect(Buffer.from(get.bytes!).equals(body)).toBe(true)
    } finally {
      await page.close()
    }
  }, 120_000)
})
