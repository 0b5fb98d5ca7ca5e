/**
 * @module E2E: TLS. `--tls-self-signed` generates a pair for localhost /
 * 127.0.0.1 / ::1 into `<dataDir>/tls/` (key mode 0600) and reuses it; HTTP and HTTPS listeners
 * run together; with `--strict-tls`, SSE-C and SSE-KMS work over HTTPS and are refused over plain
 * HTTP; aws-cli talks to the HTTPS listener with AWS_CA_BUNDLE or --no-verify-ssl.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { execFile } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { Agent } from 'node:https'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../server/config.js'
import { startServer, type RunningServer } from '../../server/main.js'
import { makeClient } from '../support/server.js'
import { awsCliEnv } from '../support/aws-cli.js'
import { K1 } from '../support/sse-c.js'

const run = promisify(execFile)
const ARGS = [
  '--host',
  '127.0.0.1',
  '--port',
  '0',
  '--https-port',
  '0',
  '--tls-self-signed',
  '--strict-tls',
  '--allow-sse-c-on-new-buckets',
  '--log-level',
  'silent',
]

let dataDir: string
let server: RunningServer
let ca: Buffer
let https: S3Client
let http: S3Client
let agent: Agent

async function start(): Promise<RunningServer> {
  return startServer(loadConfig([...ARGS, '--data-dir', dataDir], {}))
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-tls-'))
  server = await start()
  ca = await readFile(path.join(dataDir, 'tls', 'cert.pem'))
  agent = new Agent({ ca, keepAlive: true })
  https = makeClient(server.https!.url, { requestHandler: { httpsAgent: agent }, maxAttempts: 1 })
  http = makeClient(server.url, { maxAttempts: 1 })
  await https.send(new CreateBucketCommand({ Bucket: 'tls' }))
})

afterAll(async () => {
  https?.destroy()
  http?.destroy()
  agent?.destroy()
  await server?.close()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

describe('--tls-self-signed', () => {
  it('serves HTTP and HTTPS together on their own ports', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(server.https?.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(server.https!.port).not.toBe(server.port)
    expect(server.https!.certPath).toBe(path.join(dataDir, 'tls', 'cert.pem'))
  })

  it('writes a certificate for localhost, 127.0.0.1 and ::1, and a key readable by the owner only', async () => {
    const cert = new X509Certificate(ca)
    expect(cert.checkHost('localhost')).toBe('localhost')
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1')
    expect(cert.checkIP('::1')).toBe('::1')
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now() + 365 * 24 * 3600 * 1000)
    const key = await stat(path.join(dataDir, 'tls', 'key.pem'))
    expect(key.mode & 0o777).toBe(0o600)
    const res = await fetch(`${server.url}/health/live`)
    expect(res.status).toBe(200)
  })

  it('SSE-KMS works over HTTPS with --strict-tls', async () => {
    const body = Buffer.from('kms over tls')
    const put = await https.send(
      new PutObjectCommand({ Bucket: 'tls', Key: 'kms', Body: body, ServerSideEncryption: 'aws:kms' }),
    )
    expect(put.ServerSideEncryption).toBe('aws:kms')
    const got = await https.send(new GetObjectCommand({ Bucket: 'tls', Key: 'kms' }))
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(body)
  })

  it('SSE-C works over HTTPS with --strict-tls', async () => {
    const body = Buffer.from('customer key over tls')
    const sse = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: K1.b64, SSECustomerKeyMD5: K1.md5 }
    await https.send(new PutObjectCommand({ Bucket: 'tls', Key: 'ssec', Body: body, ...sse }))
    const got = await https.send(new GetObjectCommand({ Bucket: 'tls', Key: 'ssec', ...sse }))
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(body)
    const head = await https.send(new HeadObjectCommand({ Bucket: 'tls', Key: 'ssec', ...sse }))
    expect(head.SSECustomerAlgorithm).toBe('AES256')
  })

  it('refuses SSE-C and SSE-KMS over plain HTTP from loopback with --strict-tls; SSE-S3 still works there', async () => {
    const sse = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: K1.b64, SSECustomerKeyMD5: K1.md5 }
    await expect(
      http.send(new PutObjectCommand({ Bucket: 'tls', Key: 'x', Body: 'x', ServerSideEncryption: 'aws:kms' })),
    ).rejects.toMatchObject({
      $metadata: { httpStatusCode: 400 },
    })
    await expect(http.send(new GetObjectCommand({ Bucket: 'tls', Key: 'ssec', ...sse }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 400 },
    })
    const put = await http.send(new PutObjectCommand({ Bucket: 'tls', Key: 'plain', Body: 'plain' }))
    expect(put.ServerSideEncryption).toBe('AES256')
  })

  it('a client that does not trust the certificate is refused by its own TLS check', async () => {
    const untrusting = makeClient(server.https!.url, { maxAttempts: 1 })
    try {
      await expect(untrusting.send(new HeadObjectCommand({ Bucket: 'tls', Key: 'plain' }))).rejects.toThrow(
        /self[- ]signed|certificate/i,
      )
    } finally {
      untrusting.destroy()
    }
  })

  it('aws-cli over HTTPS: with AWS_CA_BUNDLE, and with --no-verify-ssl', async () => {
    const env = awsCliEnv(server.https!.url)
    const withBundle = await run('aws', ['s3', 'ls', 's3://tls'], {
      env: { ...env, AWS_CA_BUNDLE: server.https!.certPath },
    })
    expect(withBundle.stdout).toMatch(/\bkms\b/)
    expect(withBundle.stdout).toMatch(/\bplain\b/)
    const noVerify = await run('aws', ['s3', 'ls', '--no-verify-ssl'], { env })
    expect(noVerify.stdout).toMatch(/\btls\b/)
  })

  it('reuses the generated pair on restart', async () => {
    await server.close()
    server = await start()
    expect(await readFile(path.join(dataDir, 'tls', 'cert.pem'))).toEqual(ca)
    const fresh = makeClient(server.https!.url, { requestHandler: { httpsAgent: new Agent({ ca }) }, maxAttempts: 1 })
    try {
      const got = await fresh.send(new GetObjectCommand({ Bucket: 'tls', Key: 'kms' }))
      expect(await got.Body!.transformToString()).toBe('kms over tls')
    } finally {
      fresh.destroy()
    }
  })
})

describe('TLS flags', () => {
  it('serves only HTTPS with --no-http, with a given certificate and key', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'strongroom-tls-files-'))
    try {
      const cfg = loadConfig(
        [
          '--host',
          '127.0.0.1',
          '--no-http',
          '--https-port',
          '0',
          '--tls-cert',
          path.join(dataDir, 'tls', 'cert.pem'),
          '--tls-key',
          path.join(dataDir, 'tls', 'key.pem'),
          '--data-dir',
          dir,
          '--log-level',
          'silent',
        ],
        {},
      )
      const only = await startServer(cfg)
      try {
        expect(only.url).toBe(only.https!.url)
        const res = await new Promise<number>((resolve, reject) => {
          import('node:https').then(({ get }) =>
            get(`${only.url}/health/live`, { ca }, (r) => {
              r.resume()
              resolve(r.statusCode ?? 0)
            }).on('error', reject),
          )
        })
        expect(res).toBe(200)
      } finally {
        await only.close()
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('rejects inconsistent TLS flags', () => {
    expect(() => loadConfig(['--tls-cert', 'a.pem'], {})).toThrow(/go together/)
    expect(() => loadConfig(['--https-port', '9443'], {})).toThrow(/needs --tls-cert/)
    expect(() => loadConfig(['--no-http'], {})).toThrow(/needs --tls-cert/)
    expect(() => loadConfig(['--tls-self-signed', '--tls-cert', 'a', '--tls-key', 'b'], {})).toThrow(/exclude/)
    expect(loadConfig(['--tls-self-signed'], {}).httpsPort).toBe(9443)
  })
})
