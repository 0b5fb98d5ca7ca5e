/**
 * @module The operator CLI end to end: a real server writes objects in every mode (audit log on),
 * then `strongroom keys rotate|list|rewrap|retire` and `verify` run as child processes against
 * its data directory (the server stopped where the command needs it), and the objects still read
 * byte-exact through the real server afterwards.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../support/child-server.js'
import { LevelMetadataStore } from '../../storage/level/metadata.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'
import { K1, blobFiles, sdkSsec } from '../support/sse-c.js'
import { kmsClient } from '../support/kms.js'
import { DecryptCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms'

const ROOT = path.resolve(import.meta.dirname, '../..')

/** Runs `strongroom <args>` as a child process (child-server.ts); never throws for a non-zero exit. */
const cli = (...args: string[]) => runCli(args)

/** `keys list` rows as { version: [objects, uploads] }. */
function counts(stdout: string): Record<number, [number, number]> {
  const out: Record<number, [number, number]> = {}
  for (const line of stdout.split('\n').slice(1)) {
    const m = /^(\d+)\s+.*?\s(\d+)\s+(\d+)\s+(\d+)$/.exec(line.trim())
    if (m) out[Number(m[1])] = [Number(m[2]), Number(m[3])]
  }
  return out
}

async function body(s3: S3Client, Key: string, extra = {}): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket: 'adm', Key, ...extra }))
  return Buffer.from(await res.Body!.transformToByteArray())
}

describe('admin CLI: keys, verify, audit log', () => {
  let dataDir: string
  let auditFile: string
  let server: TestServer | undefined
  let s3: S3Client
  const objects = new Map<string, { data: Buffer; extra: Record<string, unknown> }>()

  const start = async () => {
    server = await startTestServer({ dataDir, args: ['--allow-sse-c-on-new-buckets', '--audit-log', auditFile] })
    s3 = makeClient(server.endpoint)
  }
  const stop = async () => {
    s3?.destroy()
    await server?.close({ keepData: true })
    server = undefined
  }
  const put = async (Key: string, data: Buffer, extra: Record<string, unknown> = {}) => {
    await s3.send(new PutObjectCommand({ Bucket: 'adm', Key, Body: data, ...extra }))
    const readExtra = 'SSECustomerKey' in extra ? sdkSsec(K1) : {}
    objects.set(Key, { data, extra: readExtra })
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-admin-'))
    auditFile = path.join(dataDir, '..', `${path.basename(dataDir)}-audit.jsonl`)
    await start()
    await s3.send(new CreateBucketCommand({ Bucket: 'adm' }))
    for (let i = 0; i < 6; i++) await put(`s3-${i}`, randomBytes(1000 + i * 70_000))
    await put('kms', randomBytes(5000), { ServerSideEncryption: 'aws:kms' })
    await put('dsse', randomBytes(70_000), { ServerSideEncryption: 'aws:kms:dsse' })
    await put('ssec', randomBytes(3000), sdkSsec(K1))
    // a completed multipart object and one upload left in progress
    const mp = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'adm', Key: 'mp' }))
    const p1 = randomBytes(5 * 1024 * 1024)
    const p2 = randomBytes(1234)
    const e1 = await s3.send(
      new UploadPartCommand({ Bucket: 'adm', Key: 'mp', UploadId: mp.UploadId, PartNumber: 1, Body: p1 }),
    )
    const e2 = await s3.send(
      new UploadPartCommand({ Bucket: 'adm', Key: 'mp', UploadId: mp.UploadId, PartNumber: 2, Body: p2 }),
    )
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'adm',
        Key: 'mp',
        UploadId: mp.UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: e1.ETag },
            { PartNumber: 2, ETag: e2.ETag },
          ],
        },
      }),
    )
    objects.set('mp', { data: Buffer.concat([p1, p2]), extra: {} })
    const open = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'adm', Key: 'open' }))
    await s3.send(
      new UploadPartCommand({
        Bucket: 'adm',
        Key: 'open',
        UploadId: open.UploadId,
        PartNumber: 1,
        Body: randomBytes(100),
      }),
    )
    for (const [k, o] of objects) expect((await body(s3, k, o.extra)).equals(o.data)).toBe(true)
  }, 60_000)

  afterAll(async () => {
    await stop()
    await rm(dataDir, { recursive: true, force: true })
    await rm(auditFile, { force: true })
  })

  it('--help on every command states which need the server stopped', async () => {
    for (const args of [
      ['keys', '--help'],
      ['kms', '--help'],
      ['verify', '--help'],
    ]) {
      const r = await cli(...args)
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/NEEDS THE SERVER STOPPED/)
    }
    expect((await cli('--help')).stdout).toMatch(/keys.*\n.*kms.*\n.*verify/)
  }, 30_000)

  it('--version prints the package version; server --help describes the KMS and the limits as they are', async () => {
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }
    const v = await cli('--version')
    expect(v).toMatchObject({ code: 0, stdout: `${pkg.version}\n` })
    expect((await cli('--help')).stdout).toMatch(/--version/)
    const help = await cli('server', '--help')
    expect(help.code).toBe(0)
    expect(help.stdout).not.toMatch(/later/i)
    expect(help.stdout).toMatch(/embedded KMS/)
    for (const flag of [
      '--headers-timeout-ms',
      '--idle-timeout-ms',
      '--body-min-rate',
      '--body-rate-grace-ms',
      '--max-connections-per-peer',
    ])
      expect(help.stdout).toContain(flag)
  }, 30_000)

  it('rotate beside the running server: the next PUT is sealed by the new version', async () => {
    const r = await cli('keys', 'rotate', '--data-dir', dataDir)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/version 2 is now active/)
    await put('after-rotate', randomBytes(10))
    expect((await body(s3, 's3-0')).equals(objects.get('s3-0')!.data)).toBe(true)
    await stop()
    const list = await cli('keys', 'list', '--data-dir', dataDir)
    expect(list.code).toBe(0)
    // v1: 6 SSE-S3 + dsse + mp objects, and the SSE-KMS and SSE-C objects' placement tags, 1 upload;
    // v2: the object written after the rotation
    expect(counts(list.stdout)).toEqual({ 1: [10, 1], 2: [1, 0] })
  }, 60_000)

  it('retire is refused while objects use the version', async () => {
    const r = await cli('keys', 'retire', '1', '--data-dir', dataDir)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/refused: root key version 1 still seals 10 objects, 1 multipart uploads/)
  }, 30_000)

  it('rewrap refuses to run beside a server, stops after --limit, and a rerun finishes', async () => {
    await start()
    const busy = await cli('keys', 'rewrap', '--data-dir', dataDir)
    expect(busy.code).toBe(1)
    expect(busy.stderr).toMatch(/server running/)
    await stop()
    const first = await cli('keys', 'rewrap', '--limit', '3', '--data-dir', dataDir)
    expect(first.code).toBe(3)
    expect(first.stdout).toMatch(/rewrapped 3 of 11 records to root key version 2/)
    expect(counts((await cli('keys', 'list', '--data-dir', dataDir)).stdout)).toEqual({ 1: [7, 1], 2: [4, 0] })
    const second = await cli('keys', 'rewrap', '--data-dir', dataDir)
    expect(second.code).toBe(0)
    expect(second.stdout).toMatch(/rewrapped 8 of 8 records/)
    expect(counts((await cli('keys', 'list', '--data-dir', dataDir)).stdout)).toEqual({ 1: [0, 0], 2: [11, 1] })
    expect((await cli('keys', 'rewrap', '--data-dir', dataDir)).stdout).toMatch(/rewrapped 0 of 0/)
  }, 90_000)

  it('retire is allowed once nothing uses the version, and objects still read byte-exact', async () => {
    const r = await cli('keys', 'retire', '1', '--data-dir', dataDir)
    expect(r.code, r.stderr).toBe(0)
    expect((await cli('keys', 'list', '--data-dir', dataDir)).stdout).toMatch(/^1\s+retired/m)
    await start()
    for (const [k, o] of objects) expect((await body(s3, k, o.extra)).equals(o.data), k).toBe(true)
    await stop()
  }, 60_000)

  it('verify: OK on a healthy store (SSE-C reported as not verifiable)', async () => {
    const r = await cli('verify', '--data-dir', dataDir)
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^OK\s+adm\/dsse\s+DSSE-KMS/m)
    expect(r.stdout).toMatch(/^OK\s+adm\/kms\s+SSE-KMS/m)
    expect(r.stdout).toMatch(/^NOT-VERIFIABLE\s+adm\/ssec/m)
    expect(r.stdout).toMatch(/verified 12 records .*: 11 OK, 0 FAILED, 1 not verifiable/)
  }, 30_000)

  it('verify: a flipped byte in a blob file and a damaged sealed key are reported, exit 1', async () => {
    const meta = await LevelMetadataStore.open(path.join(dataDir, 'meta'))
    const rec = (await meta.getObject('adm', 's3-1'))!
    const damaged = (await meta.getObject('adm', 'kms'))!
    const ct = Buffer.from(damaged.encryption.sealed.ciphertext, 'base64')
    ct[5] ^= 1
    damaged.encryption.sealed.ciphertext = ct.toString('base64')
    await meta.commitObject(damaged)
    await meta.close()
    const file = (await blobFiles(dataDir)).find((f) => path.basename(f) === rec.parts[0].blobId)!
    const bytes = await readFile(file)
    bytes[100] ^= 0x40
    await writeFile(file, bytes)
    const r = await cli('verify', '--data-dir', dataDir, '--quiet')
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/^FAILED\s+adm\/s3-1\s+SSE-S3 root v2.*failed authentication/m)
    expect(r.stdout).toMatch(/^FAILED\s+adm\/kms\s+SSE-KMS.*does not open/m)
    expect(r.stdout).not.toMatch(/^OK/m)
    expect(r.stdout).toMatch(/: 9 OK, 2 FAILED, 1 not verifiable/)
    expect((await cli('verify', '--data-dir', dataDir, '--bucket', 'adm', '--quiet')).code).toBe(1)
  }, 30_000)

  it('kms create-key, list-keys, rotate-key on the stopped store; new keys serve the restarted server', async () => {
    const created = await cli(
      'kms',
      'create-key',
      '--alias',
      'alias/admin-made',
      '--description',
      'made offline',
      '--data-dir',
      dataDir,
    )
    expect(created.code, created.stderr).toBe(0)
    const [id, arn] = created.stdout.trim().split('\t')
    expect(arn).toBe(`arn:aws:kms:us-east-1:000000000000:key/${id}`)
    const listed = await cli('kms', 'list-keys', '--data-dir', dataDir)
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+Enabled\\s+CUSTOMER\\s+made offline\\s+alias/admin-made$`, 'm'))
    expect(listed.stdout).toMatch(/alias\/aws\/s3/)
    const rotated = await cli('kms', 'rotate-key', 'alias/admin-made', '--data-dir', dataDir)
    expect(rotated.code, rotated.stderr).toBe(0)
    expect(rotated.stdout).toMatch(/key material version 2 now encrypts/)
    expect((await cli('kms', 'rotate-key', 'alias/nope', '--data-dir', dataDir)).code).toBe(1)
    await start()
    await put('kms-new', randomBytes(100), { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/admin-made' })
    expect((await body(s3, 'kms-new')).equals(objects.get('kms-new')!.data)).toBe(true)
    expect((await cli('kms', 'list-keys', '--data-dir', dataDir)).stderr).toMatch(/server running/)
    await stop()
    // after another rotation, rewrap --kms re-encrypts the data key of kms-new under material 3
    expect((await cli('kms', 'rotate-key', id, '--data-dir', dataDir)).stdout).toMatch(/version 3/)
    const blobOf = async () => {
      const meta = await LevelMetadataStore.open(path.join(dataDir, 'meta'))
      const blob = (await meta.getObject('adm', 'kms-new'))!.encryption.kms!.ciphertextBlob
      await meta.close()
      return Buffer.from(blob, 'base64')
    }
    expect((await blobOf()).readUInt32BE(20)).toBe(2)
    const rw = await cli('keys', 'rewrap', '--kms', '--data-dir', dataDir)
    expect(rw.code, rw.stderr).toBe(0)
    expect(rw.stdout).toMatch(/rewrapped 1 of 3 records \(2 already current\)/)
    expect((await blobOf()).readUInt32BE(20)).toBe(3)
    expect((await cli('keys', 'rewrap', '--kms', '--data-dir', dataDir)).stdout).toMatch(
      /rewrapped 0 of 3 records \(3 already current\)/,
    )
    await start()
    expect((await body(s3, 'kms-new')).equals(objects.get('kms-new')!.data)).toBe(true)
    await stop()
  }, 90_000)

  it('audit log: seal/unseal lines for PUT and GET in each mode, no secrets', async () => {
    const text = await readFile(auditFile, 'utf8')
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>)
    const find = (operation: string, action: string, key: string) =>
      lines.find((l) => l.operation === operation && l.action === action && l.key === key)
    for (const [key, mode] of [
      ['s3-0', 'SSE-S3'],
      ['kms', 'SSE-KMS'],
      ['dsse', 'DSSE-KMS'],
      ['ssec', 'SSE-C'],
    ]) {
      const seal = find('PutObject', 'seal', key)
      expect(seal, key).toMatchObject({
        outcome: 'ok',
        bucket: 'adm',
        mode,
        principal: { accessKeyId: 'test', accountId: '000000000000' },
      })
      expect(seal!.generation).toMatch(/^[A-Za-z0-9_-]{22}$/)
      expect(typeof seal!.requestId).toBe('string')
      expect(find('GetObject', 'unseal', key), key).toMatchObject({ outcome: 'ok', mode })
    }
    expect(find('PutObject', 'seal', 's3-0')!.rootKeyVersion).toBe(1)
    expect(find('PutObject', 'seal', 'after-rotate')!.rootKeyVersion).toBe(2)
    expect(find('PutObject', 'seal', 'kms')).toMatchObject({
      kmsKeyArn: expect.stringMatching(/^arn:aws:kms:/),
      encryptionContextKeys: ['aws:s3:arn'],
    })
    expect(find('PutObject', 'kms:GenerateDataKey', 'kms')).toMatchObject({ outcome: 'ok' })
    expect(find('GetObject', 'kms:Decrypt', 'kms')).toMatchObject({ outcome: 'ok' })
    expect(text).not.toContain('arn:aws:s3:::adm/kms') // context values are redacted to their keys
    for (const secret of [K1.raw.toString('latin1'), K1.b64, K1.md5, K1.raw.toString('hex')])
      expect(text).not.toContain(secret)
  })

  it('audit log: a wrong SSE-C key is a failed unseal; KMS API calls are logged without plaintext or context values', async () => {
    await start()
    await expect(
      s3.send(
        new GetObjectCommand({
          Bucket: 'adm',
          Key: 'ssec',
          SSECustomerAlgorithm: 'AES256',
          SSECustomerKey: randomBytes(32) as never,
        }),
      ),
    ).rejects.toThrow()
    const kms = kmsClient(server!.endpoint)
    const dk = await kms.send(
      new GenerateDataKeyCommand({
        KeyId: 'alias/admin-made',
        KeySpec: 'AES_256',
        EncryptionContext: { purpose: 'very-secret-purpose' },
      }),
    )
    await expect(
      kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: { purpose: 'other' } })),
    ).rejects.toThrow()
    kms.destroy()
    await stop()
    const text = await readFile(auditFile, 'utf8')
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.some((l) => l.action === 'unseal' && l.key === 'ssec' && l.outcome === 'wrong-key')).toBe(true)
    expect(lines.find((l) => l.action === 'kms:GenerateDataKey' && l.operation === 'GenerateDataKey')).toMatchObject({
      outcome: 'ok',
      kmsKeyArn: expect.stringMatching(/^arn:aws:kms:/),
      encryptionContextKeys: ['purpose'],
      principal: { accessKeyId: 'test' },
    })
    expect(lines.find((l) => l.action === 'kms:Decrypt' && l.operation === 'Decrypt')).toMatchObject({
      outcome: 'InvalidCiphertextException',
    })
    expect(text).not.toContain('very-secret-purpose')
    expect(text).not.toContain(Buffer.from(dk.Plaintext!).toString('base64'))
  }, 30_000)
})
