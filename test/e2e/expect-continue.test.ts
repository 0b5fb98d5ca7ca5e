/**
 * @module E2E over a raw socket: `Expect: 100-continue` is answered only once the request is
 * authenticated and authorized. A refused PUT gets its 403 (with Connection: close) before the
 * client sends any of its body, and never a 100 Continue; an accepted one gets 100 Continue, then
 * its body is read and stored.
 */
import { CreateBucketCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestHead, sha256Hex, signRequest } from '../support/raw-s3.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'

const BUCKET = 'expect-continue'
const BODY = 'x'.repeat(1000)

/** A connection whose received bytes can be awaited until a pattern appears or the peer closes. */
function connect(port: number): Promise<{
  socket: net.Socket
  received: () => string
  until(pattern: RegExp): Promise<string>
  closed: Promise<void>
}> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let data = ''
    const waiters: Array<() => void> = []
    let ended = false
    const closed = new Promise<void>((r) =>
      socket.once('close', () => {
        ended = true
        waiters.splice(0).forEach((w) => w())
        r()
      }),
    )
    socket.on('data', (b) => {
      data += b.toString('latin1')
      waiters.splice(0).forEach((w) => w())
    })
    socket.once('error', reject)
    socket.once('connect', () =>
      resolve({
        socket,
        closed,
        received: () => data,
        until: (pattern) =>
          new Promise((done, fail) => {
            const check = () => {
              if (pattern.test(data)) done(data)
              else if (ended) fail(new Error(`connection closed before ${pattern}; received: ${data}`))
              else waiters.push(check)
            }
            check()
          }),
      }),
    )
  })
}

describe('Expect: 100-continue', () => {
  let srv: TestServer
  let s3: S3Client
  beforeAll(async () => {
    srv = await startTestServer()
    s3 = makeClient(srv.endpoint, { maxAttempts: 1 })
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
  })
  afterAll(async () => {
    await srv?.close()
  })

  async function head(key: string, opts: { secretAccessKey?: string } = {}): Promise<string> {
    const signed = await signRequest(
      srv.port,
      {
        method: 'PUT',
        path: `/${BUCKET}/${key}`,
        headers: { expect: '100-continue', 'content-length': String(BODY.length) },
        body: BODY,
      },
      { payloadHash: sha256Hex(BODY), ...opts },
    )
    return requestHead(signed) + '\r\n\r\n'
  }

  it('a PUT with a wrong signature gets 403 and Connection: close before it sends its body, never 100 Continue', async () => {
    const c = await connect(srv.port)
    c.socket.write(await head('refused', { secretAccessKey: 'wrong-secret' }))
    const answer = await c.until(/\r\n\r\n[\s\S]*<\/Error>/)
    expect(answer).not.toContain('100 Continue')
    expect(answer).toMatch(/^HTTP\/1\.1 403 /)
    expect(answer).toMatch(/\r\nconnection: close\r\n/i)
    expect(answer).toContain('<Code>SignatureDoesNotMatch</Code>')
    await c.closed
  })

  it('an anonymous PUT to a private bucket gets 403 AccessDenied before its body, never 100 Continue', async () => {
    const c = await connect(srv.port)
    c.socket.write(
      `PUT /${BUCKET}/anon HTTP/1.1\r\nhost: 127.0.0.1:${srv.port}\r\nexpect: 100-continue\r\ncontent-length: ${BODY.length}\r\n\r\n`,
    )
    const answer = await c.until(/\r\n\r\n[\s\S]*<\/Error>/)
    expect(answer).toMatch(/^HTTP\/1\.1 403 /)
    expect(answer).toContain('<Code>AccessDenied</Code>')
    expect(answer).toMatch(/\r\nconnection: close\r\n/i)
    await c.closed
  })

  it('an authorized PUT gets 100 Continue, then sends its body and gets 200; the object is stored', async () => {
    const c = await connect(srv.port)
    c.socket.write(await head('accepted'))
    await c.until(/^HTTP\/1\.1 100 Continue\r\n\r\n/)
    c.socket.write(BODY)
    const answer = await c.until(/HTTP\/1\.1 200 OK[\s\S]*\r\n\r\n/)
    expect(answer.startsWith('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK')).toBe(true)
    c.socket.end()
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'accepted' }))
    expect(await got.Body!.transformToString()).toBe(BODY)
  })
})
