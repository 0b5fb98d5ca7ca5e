/**
 * @module `strongroom verify` and KMS keys the operator switched off: an SSE-KMS object under a
 * disabled (or pending-deletion) key of the embedded KMS is UNVERIFIABLE with the reason, not
 * FAILED like tampering. Exit codes: 0 all verified, 1 an integrity failure (whatever else was
 * seen), 3 nothing failed but something was unverifiable, 4 verify could not run.
 */
import {
  CancelKeyDeletionCommand,
  CreateKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms'
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../support/child-server.js'
import { blobFiles, kmsClient, readObjectRecord, readRecords } from '../support/kms.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'

const BUCKET = 'verify-kms'

/** Runs `strongroom <args>` as a child process (child-server.ts); never throws for a non-zero exit. */
const cli = (...args: string[]) => runCli(args)

describe('verify: an SSE-KMS object under a disabled KMS key is UNVERIFIABLE, not FAILED', () => {
  let dataDir: string
  let server: TestServer | undefined
  let disabledKey: string
  let deletingKey: string

  const start = async () => {
    server = await startTestServer({ dataDir })
    return { s3: makeClient(server.endpoint), kms: kmsClient(server.endpoint) }
  }
  const stop = async () => {
    await server?.close({ keepData: true })
    server = undefined
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-verify-kms-'))
    const { s3, kms } = await start()
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
    disabledKey = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!
    deletingKey = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!
    const enabledKey = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!
    const put = (Key: string, extra: Record<string, unknown> = {}) =>
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: randomBytes(70_000), ...extra }))
    await put('under-disabled', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: disabledKey })
    await put('under-deleting', { ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: deletingKey })
    await put('under-enabled', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: enabledKey })
    await put('sse-s3')
    await kms.send(new DisableKeyCommand({ KeyId: disabledKey }))
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: deletingKey, PendingWindowInDays: 7 }))
    s3.destroy()
    kms.destroy()
    await stop()
  }, 60_000)

  afterAll(async () => {
    await stop()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('reports each such object UNVERIFIABLE with the reason and exits 3 when nothing failed', async () => {
    const r = await cli('verify', '--data-dir', dataDir)
    expect(r.code, r.stdout + r.stderr).toBe(3)
    expect(r.stdout).toMatch(
      new RegExp(`^UNVERIFIABLE\\s+${BUCKET}/under-disabled\\s+SSE-KMS .*${disabledKey}.*is disabled`, 'm'),
    )
    expect(r.stdout).toMatch(
      new RegExp(`^UNVERIFIABLE\\s+${BUCKET}/under-deleting\\s+DSSE-KMS .*${deletingKey}.*pending deletion`, 'm'),
    )
    expect(r.stdout).toMatch(new RegExp(`^OK\\s+${BUCKET}/under-enabled\\s+SSE-KMS`, 'm'))
    expect(r.stdout).toMatch(new RegExp(`^OK\\s+${BUCKET}/sse-s3\\s+SSE-S3`, 'm'))
    expect(r.stdout).not.toMatch(/^FAILED/m)
    expect(r.stdout).toMatch(/verified 4 records .*: 2 OK, 0 FAILED, 0 not verifiable .*, 2 UNVERIFIABLE/)
    // --quiet still names the unverifiable objects.
    const quiet = await cli('verify', '--data-dir', dataDir, '--quiet')
    expect(quiet.code).toBe(3)
    expect(quiet.stdout.match(/^UNVERIFIABLE/gm)).toHaveLength(2)
  }, 60_000)

  it('an integrity failure beside them still exits 1', async () => {
    const rec = await readRecords(dataDir, (meta) => readObjectRecord(meta, BUCKET, 'sse-s3'))
    const file = (await blobFiles(dataDir)).find((f) => path.basename(f) === rec.parts[0].blobId)!
    const original = await readFile(file)
    const bytes = Buffer.from(original)
    bytes[10] ^= 0x01
    await writeFile(file, bytes)
    try {
      const r = await cli('verify', '--data-dir', dataDir, '--quiet')
      expect(r.code).toBe(1)
      expect(r.stdout).toMatch(new RegExp(`^FAILED\\s+${BUCKET}/sse-s3\\s+SSE-S3.*failed authentication`, 'm'))
      expect(r.stdout.match(/^UNVERIFIABLE/gm)).toHaveLength(2)
    } finally {
      await writeFile(file, original)
    }
  }, 60_000)

  it('once the keys are usable again every object verifies and verify exits 0', async () => {
    const { kms } = await start()
    await kms.send(new EnableKeyCommand({ KeyId: disabledKey }))
    await kms.send(new CancelKeyDeletionCommand({ KeyId: deletingKey }))
    // CancelKeyDeletion leaves the key disabled, as on AWS.
    await kms.send(new EnableKeyCommand({ KeyId: deletingKey }))
    kms.destroy()
    // Beside the running server verify cannot open the store: exit 4, not an integrity finding.
    const busy = await cli('verify', '--data-dir', dataDir)
    expect(busy.code).toBe(4)
    expect(busy.stderr).toMatch(/server running/)
    await stop()
    const r = await cli('verify', '--data-dir', dataDir)
    expect(r.code, r.stdout).toBe(0)
    expect(r.stdout).toMatch(/: 4 OK, 0 FAILED, 0 not verifiable .*, 0 UNVERIFIABLE/)
  }, 60_000)

  it('verify --help documents the exit codes', async () => {
    const r = await cli('verify', '--help')
    expect(r.code).toBe(0)
    for (const code of ['0', '1', '2', '3', '4']) expect(r.stdout).toMatch(new RegExp(`^  ${code}  \\S`, 'm'))
    expect(r.stdout).toMatch(/UNVERIFIABLE/)
  })
})
