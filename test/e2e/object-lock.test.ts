/**
 * @module E2E with the SDK: Object Lock as AWS S3 answers it — a lock bucket at creation (and on
 * an existing versioned bucket), the lock configuration and its validation, retention and legal
 * hold on PutObject, CopyObject and multipart uploads, the bucket's default retention, the lock
 * headers of GET/HEAD, every refusal of a locked version's removal (COMPLIANCE never, GOVERNANCE
 * only to the bypass with s3:BypassGovernanceRetention, a legal hold until lifted), DeleteObjects
 * per entry, and the body digest AWS requires on locked writes.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutBucketPolicyCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectRawError, expectSdkError } from '../support/expect-s3.js'
import { signedSend } from '../support/raw-s3.js'
import { ACCT_A, allow, doc } from '../support/iam.js'
import { CHECKSUM_MODES, makeClient, startTestServer, type TestServer } from '../support/server.js'

const ADMIN = { accessKeyId: 'AADMINLOCK', secretAccessKey: 'admin-secret' }
const WORKER = { accessKeyId: 'AWORKERLOCK', secretAccessKey: 'worker-secret' }
const SUPERVISOR = { accessKeyId: 'ASUPERLOCK', secretAccessKey: 'super-secret' }
const DAY = 86_400_000
/** What the worker may do in every bucket: everything Object Lock needs except the bypass. */
const WORK = allow(
  [
    's3:PutObject',
    's3:GetObject',
    's3:GetObjectVersion',
    's3:DeleteObject',
    's3:DeleteObjectVersion',
    's3:PutObjectRetention',
    's3:ListBucketVersions',
  ],
  ['arn:aws:s3:::*'],
)
const accounts = {
  accounts: [
    {
      name: 'vault',
      accountId: ACCT_A,
      keys: [ADMIN],
      users: [
        { name: 'worker', policies: { work: doc(WORK) }, keys: [WORKER] },
        {
          name: 'supervisor',
          policies: { work: doc(WORK, allow('s3:BypassGovernanceRetention', 'arn:aws:s3:::*')) },
          keys: [SUPERVISOR],
        },
      ],
    },
  ],
}

const inDays = (d: number) => new Date(Date.now() + d * DAY)
const md5 = (s: string) => createHash('md5').update(s).digest('base64')

describe.each(CHECKSUM_MODES)('Object Lock (JS SDK, requestChecksumCalculation %s)', (checksumMode) => {
  let srv: TestServer
  let dir: string
  let s3: S3Client
  let worker: S3Client
  let supervisor: S3Client
  let plain: S3Client
  let n = 0
  const mode = checksumMode.toLowerCase().replace('_', '-')
  /**
   * A write with Object Lock parameters carries a digest: WHEN_REQUIRED clients send Content-MD5 (AWS requires one).
   */
  const digest = (body: string) => (checksumMode === 'WHEN_REQUIRED' ? { ContentMD5: md5(body) } : {})
  const lockBucket = async () => {
    const Bucket = `lock-${mode}-${++n}`
    await s3.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }))
    return Bucket
  }
  const put = async (Bucket: string, Key: string, extra: Record<string, unknown> = {}) =>
    (
      await s3.send(
        new PutObjectCommand({ Bucket, Key, Body: `body of ${Key}`, ...digest(`body of ${Key}`), ...extra }),
      )
    ).VersionId!

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'strongroom-lock-'))
    const file = path.join(dir, 'credentials.json')
    await writeFile(file, JSON.stringify(accounts), { mode: 0o600 })
    srv = await startTestServer({ args: ['--credentials-file', file] })
    s3 = makeClient(srv.endpoint, { maxAttempts: 1, credentials: ADMIN, requestChecksumCalculation: checksumMode })
    worker = makeClient(srv.endpoint, { maxAttempts: 1, credentials: WORKER, requestChecksumCalculation: checksumMode })
    supervisor = makeClient(srv.endpoint, {
      maxAttempts: 1,
      credentials: SUPERVISOR,
      requestChecksumCalculation: checksumMode,
    })
    // Sends no checksum unless the operation requires one: PutObject carries no digest by default.
    plain = makeClient(srv.endpoint, {
      maxAttempts: 1,
      credentials: ADMIN,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    })
  })
  afterAll(async () => {
    for (const c of [s3, worker, supervisor, plain]) c?.destroy()
    await srv?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('CreateBucket with Object Lock turns versioning on for good; the configuration is Enabled without a rule', async () => {
    const Bucket = await lockBucket()
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Enabled')
    expect((await s3.send(new GetObjectLockConfigurationCommand({ Bucket }))).ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
    })
    await expectSdkError(
      s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } })),
      { status: 409, code: 'InvalidBucketState' },
    )
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Enabled')
  })

  it('a bucket without lock: 404 on the configuration, 409 enabling it unversioned, enabled once versioning is on', async () => {
    const Bucket = `lock-plain-${mode}-${++n}`
    await s3.send(new CreateBucketCommand({ Bucket }))
    await expectSdkError(s3.send(new GetObjectLockConfigurationCommand({ Bucket })), {
      status: 404,
      code: 'ObjectLockConfigurationNotFoundError',
    })
    const config = {
      ObjectLockEnabled: 'Enabled' as const,
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE' as const, Days: 2 } },
    }
    await expectSdkError(s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: config })), {
      status: 409,
      code: 'InvalidBucketState',
    })
    const missing = { status: 400, code: 'InvalidRequest', message: 'Bucket is missing Object Lock Configuration' }
    await put(Bucket, 'k')
    await expectSdkError(
      s3.send(
        new PutObjectRetentionCommand({
          Bucket,
          Key: 'k',
          Retention: { Mode: 'GOVERNANCE', RetainUntilDate: inDays(1) },
        }),
      ),
      missing,
    )
    await expectSdkError(
      s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'k', LegalHold: { Status: 'ON' } })),
      missing,
    )
    await expectSdkError(s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'k' })), missing)
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket, Key: 'k2', Body: 'x', ObjectLockLegalHoldStatus: 'ON' })),
      missing,
    )
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }))
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: config }))
    expect((await s3.send(new GetObjectLockConfigurationCommand({ Bucket }))).ObjectLockConfiguration).toEqual(config)
    await expectSdkError(
      s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } })),
      { status: 409, code: 'InvalidBucketState' },
    )
  })

  it('PutObjectLockConfiguration validates as AWS does', async () => {
    const Bucket = await lockBucket()
    const send = (DefaultRetention: Record<string, unknown>) =>
      s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket,
          ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention } },
        }),
      )
    await expectSdkError(send({ Mode: 'COMPLIANCE', Days: 1, Years: 1 }), { status: 400, code: 'MalformedXML' })
    await expectSdkError(send({ Mode: 'COMPLIANCE' }), { status: 400, code: 'MalformedXML' })
    await expectSdkError(send({ Mode: 'governance', Days: 1 }), { status: 400, code: 'MalformedXML' })
    await expectSdkError(send({ Days: 1 }), { status: 400, code: 'MalformedXML' })
    await expectSdkError(send({ Mode: 'COMPLIANCE', Days: 0 }), { status: 400, code: 'InvalidRetentionPeriod' })
    await expectSdkError(send({ Mode: 'GOVERNANCE', Years: -1 }), { status: 400, code: 'InvalidRetentionPeriod' })
    await expectSdkError(
      s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket,
          ObjectLockConfiguration: { ObjectLockEnabled: 'Disabled' as 'Enabled' },
        }),
      ),
      { status: 400, code: 'MalformedXML' },
    )
    await send({ Mode: 'GOVERNANCE', Years: 1 })
    expect(
      (await s3.send(new GetObjectLockConfigurationCommand({ Bucket }))).ObjectLockConfiguration?.Rule
        ?.DefaultRetention,
    ).toEqual({ Mode: 'GOVERNANCE', Years: 1 })
    // Years are calendar years from the write time.
    const yearOn = (ms: number) => {
      const d = new Date(ms)
      d.setUTCFullYear(d.getUTCFullYear() + 1)
      return d.getTime()
    }
    const before = Date.now()
    const VersionId = await put(Bucket, 'y')
    const after = Date.now()
    const until = (
      await s3.send(new HeadObjectCommand({ Bucket, Key: 'y', VersionId }))
    ).ObjectLockRetainUntilDate!.getTime()
    expect(until).toBeGreaterThanOrEqual(yearOn(before))
    expect(until).toBeLessThanOrEqual(yearOn(after))
  })

  it('COMPLIANCE: shown on GET/HEAD, never deleted by id (not even with the bypass), only extended; a plain DELETE adds a marker', async () => {
    const Bucket = await lockBucket()
    const until = inDays(10)
    const VersionId = await put(Bucket, 'c', { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until })
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'c', VersionId }))
    expect(head.ObjectLockMode).toBe('COMPLIANCE')
    expect(head.ObjectLockRetainUntilDate?.toISOString()).toBe(until.toISOString())
    const get = await s3.send(new GetObjectCommand({ Bucket, Key: 'c' }))
    expect(get.ObjectLockMode).toBe('COMPLIANCE')
    await get.Body?.transformToString()
    await expectSdkError(s3.send(new DeleteObjectCommand({ Bucket, Key: 'c', VersionId })), {
      status: 403,
      code: 'AccessDenied',
    })
    await expectSdkError(
      s3.send(new DeleteObjectCommand({ Bucket, Key: 'c', VersionId, BypassGovernanceRetention: true })),
      { status: 403, code: 'AccessDenied' },
    )
    const shorter = { Mode: 'COMPLIANCE' as const, RetainUntilDate: inDays(5) }
    await expectSdkError(
      s3.send(
        new PutObjectRetentionCommand({
          Bucket,
          Key: 'c',
          VersionId,
          Retention: shorter,
          BypassGovernanceRetention: true,
        }),
      ),
      { status: 403, code: 'AccessDenied' },
    )
    await expectSdkError(
      s3.send(
        new PutObjectRetentionCommand({
          Bucket,
          Key: 'c',
          VersionId,
          Retention: { Mode: 'GOVERNANCE', RetainUntilDate: inDays(20) },
        }),
      ),
      { status: 403, code: 'AccessDenied' },
    )
    const later = inDays(20)
    await s3.send(
      new PutObjectRetentionCommand({
        Bucket,
        Key: 'c',
        VersionId,
        Retention: { Mode: 'COMPLIANCE', RetainUntilDate: later },
      }),
    )
    expect((await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'c', VersionId }))).Retention).toEqual({
      Mode: 'COMPLIANCE',
      RetainUntilDate: later,
    })
    const del = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'c' }))
    expect(del.DeleteMarker).toBe(true)
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'c', VersionId: del.VersionId }))
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'c' }))).VersionId).toBe(VersionId)
  })

  it('GOVERNANCE yields only to x-amz-bypass-governance-retention from a caller holding s3:BypassGovernanceRetention', async () => {
    const Bucket = await lockBucket()
    const retention = { ObjectLockMode: 'GOVERNANCE' as const, ObjectLockRetainUntilDate: inDays(3) }
    const a = await put(Bucket, 'g', retention)
    const b = await put(Bucket, 'g', retention)
    await expectSdkError(worker.send(new DeleteObjectCommand({ Bucket, Key: 'g', VersionId: a })), {
      status: 403,
      code: 'AccessDenied',
    })
    await expectSdkError(
      worker.send(new DeleteObjectCommand({ Bucket, Key: 'g', VersionId: a, BypassGovernanceRetention: true })),
      { status: 403, code: 'AccessDenied' },
    )
    await expectSdkError(supervisor.send(new DeleteObjectCommand({ Bucket, Key: 'g', VersionId: a })), {
      status: 403,
      code: 'AccessDenied',
    })
    await supervisor.send(new DeleteObjectCommand({ Bucket, Key: 'g', VersionId: a, BypassGovernanceRetention: true }))
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket, Key: 'g', VersionId: a })), {
      status: 404,
      code: 'NotFound',
    })
    // Shortening GOVERNANCE retention needs the bypass too; extending it does not.
    const shorter = { Mode: 'GOVERNANCE' as const, RetainUntilDate: inDays(1) }
    await expectSdkError(
      worker.send(
        new PutObjectRetentionCommand({
          Bucket,
          Key: 'g',
          VersionId: b,
          Retention: shorter,
          BypassGovernanceRetention: true,
        }),
      ),
      { status: 403, code: 'AccessDenied' },
    )
    await worker.send(
      new PutObjectRetentionCommand({
        Bucket,
        Key: 'g',
        VersionId: b,
        Retention: { Mode: 'GOVERNANCE', RetainUntilDate: inDays(4) },
      }),
    )
    await supervisor.send(
      new PutObjectRetentionCommand({
        Bucket,
        Key: 'g',
        VersionId: b,
        Retention: shorter,
        BypassGovernanceRetention: true,
      }),
    )
    expect(
      (
        await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'g', VersionId: b }))
      ).Retention?.RetainUntilDate?.toISOString(),
    ).toBe(shorter.RetainUntilDate.toISOString())
    // The bucket owner's account holds every permission, the bypass included.
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'g', VersionId: b, BypassGovernanceRetention: true }))
  })

  it('a legal hold holds against every bypass until it is lifted; GetObjectLegalHold answers ON, OFF, or 404 when never set', async () => {
    const Bucket = await lockBucket()
    const held = await put(Bucket, 'h', { ObjectLockLegalHoldStatus: 'ON' })
    const free = await put(Bucket, 'h')
    expect(
      (await s3.send(new HeadObjectCommand({ Bucket, Key: 'h', VersionId: held }))).ObjectLockLegalHoldStatus,
    ).toBe('ON')
    expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: 'h', VersionId: held }))).LegalHold).toEqual({
      Status: 'ON',
    })
    await expectSdkError(s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: 'h', VersionId: free })), {
      status: 404,
      code: 'NoSuchObjectLockConfiguration',
    })
    await expectSdkError(s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'h', VersionId: held })), {
      status: 404,
      code: 'NoSuchObjectLockConfiguration',
    })
    await expectSdkError(
      s3.send(new DeleteObjectCommand({ Bucket, Key: 'h', VersionId: held, BypassGovernanceRetention: true })),
      { status: 403, code: 'AccessDenied' },
    )
    await s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'h', VersionId: free, LegalHold: { Status: 'ON' } }))
    await expectSdkError(s3.send(new DeleteObjectCommand({ Bucket, Key: 'h', VersionId: free })), {
      status: 403,
      code: 'AccessDenied',
    })
    await s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'h', VersionId: held, LegalHold: { Status: 'OFF' } }))
    expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: 'h', VersionId: held }))).LegalHold).toEqual({
      Status: 'OFF',
    })
    expect(
      (await s3.send(new HeadObjectCommand({ Bucket, Key: 'h', VersionId: held }))).ObjectLockLegalHoldStatus,
    ).toBe('OFF')
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'h', VersionId: held }))
    await expectSdkError(
      s3.send(
        new PutObjectLegalHoldCommand({ Bucket, Key: 'h', VersionId: free, LegalHold: { Status: 'MAYBE' as 'ON' } }),
      ),
      { status: 400, code: 'MalformedXML' },
    )
  })

  it('the default retention locks every new version from its write time: PUT, copy and Complete', async () => {
    const Bucket = await lockBucket()
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } },
        },
      }),
    )
    const before = Date.now()
    const VersionId = await put(Bucket, 'd')
    const after = Date.now()
    const r = (await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'd', VersionId }))).Retention!
    expect(r.Mode).toBe('COMPLIANCE')
    expect(r.RetainUntilDate!.getTime()).toBeGreaterThanOrEqual(before + DAY)
    expect(r.RetainUntilDate!.getTime()).toBeLessThanOrEqual(after + DAY)
    await expectSdkError(s3.send(new DeleteObjectCommand({ Bucket, Key: 'd', VersionId })), {
      status: 403,
      code: 'AccessDenied',
    })
    const copy = await s3.send(new CopyObjectCommand({ Bucket, Key: 'd-copy', CopySource: `${Bucket}/d` }))
    expect(
      (await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'd-copy', VersionId: copy.VersionId }))).Retention
        ?.Mode,
    ).toBe('COMPLIANCE')
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'd-mpu' }))
    const part = await s3.send(
      new UploadPartCommand({
        Bucket,
        Key: 'd-mpu',
        UploadId: up.UploadId,
        PartNumber: 1,
        Body: 'part one',
        ...digest('part one'),
      }),
    )
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'd-mpu',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32 }] },
      }),
    )
    expect(
      (await s3.send(new HeadObjectCommand({ Bucket, Key: 'd-mpu', VersionId: done.VersionId }))).ObjectLockMode,
    ).toBe('COMPLIANCE')
    // Explicit headers win over the default.
    const g = await put(Bucket, 'd', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: inDays(2) })
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'd', VersionId: g }))).ObjectLockMode).toBe('GOVERNANCE')
  })

  it('a multipart upload created with lock headers locks the completed object', async () => {
    const Bucket = await lockBucket()
    const until = inDays(2)
    const up = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket,
        Key: 'm',
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: until,
        ObjectLockLegalHoldStatus: 'ON',
      }),
    )
    const part = await s3.send(
      new UploadPartCommand({
        Bucket,
        Key: 'm',
        UploadId: up.UploadId,
        PartNumber: 1,
        Body: 'only part',
        ...digest('only part'),
      }),
    )
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'm',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32 }] },
      }),
    )
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'm', VersionId: done.VersionId }))
    expect({
      mode: head.ObjectLockMode,
      until: head.ObjectLockRetainUntilDate?.toISOString(),
      hold: head.ObjectLockLegalHoldStatus,
    }).toEqual({ mode: 'GOVERNANCE', until: until.toISOString(), hold: 'ON' })
    await expectSdkError(
      s3.send(
        new DeleteObjectCommand({ Bucket, Key: 'm', VersionId: done.VersionId, BypassGovernanceRetention: true }),
      ),
      { status: 403, code: 'AccessDenied' },
    )
  })

  it('a copy takes its lock from its own headers, never from the source', async () => {
    const Bucket = await lockBucket()
    await put(Bucket, 'src', {
      ObjectLockMode: 'COMPLIANCE',
      ObjectLockRetainUntilDate: inDays(5),
      ObjectLockLegalHoldStatus: 'ON',
    })
    const bare = await s3.send(new CopyObjectCommand({ Bucket, Key: 'bare', CopySource: `${Bucket}/src` }))
    await expectSdkError(s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'bare', VersionId: bare.VersionId })), {
      status: 404,
      code: 'NoSuchObjectLockConfiguration',
    })
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'bare', VersionId: bare.VersionId }))
    const until = inDays(1)
    const locked = await s3.send(
      new CopyObjectCommand({
        Bucket,
        Key: 'locked',
        CopySource: `${Bucket}/src`,
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: until,
      }),
    )
    expect(
      (await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'locked', VersionId: locked.VersionId }))).Retention,
    ).toEqual({ Mode: 'GOVERNANCE', RetainUntilDate: until })
    await expectSdkError(s3.send(new DeleteObjectCommand({ Bucket, Key: 'locked', VersionId: locked.VersionId })), {
      status: 403,
      code: 'AccessDenied',
    })
  })

  it('DeleteObjects answers AccessDenied for each locked version and deletes the rest', async () => {
    const Bucket = await lockBucket()
    const locked = await put(Bucket, 'x', { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: inDays(1) })
    const gov = await put(Bucket, 'y', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: inDays(1) })
    const free = await put(Bucket, 'x')
    const r = await s3.send(
      new DeleteObjectsCommand({
        Bucket,
        Delete: {
          Objects: [
            { Key: 'x', VersionId: locked },
            { Key: 'x', VersionId: free },
            { Key: 'y', VersionId: gov },
            { Key: 'z' },
          ],
        },
      }),
    )
    expect(r.Errors?.map((e) => [e.Key, e.VersionId, e.Code])).toEqual([
      ['x', locked, 'AccessDenied'],
      ['y', gov, 'AccessDenied'],
    ])
    expect(r.Deleted?.map((d) => [d.Key, d.VersionId ?? null, d.DeleteMarker ?? false])).toEqual([
      ['x', free, false],
      ['z', null, true],
    ])
    const bypassed = await supervisor.send(
      new DeleteObjectsCommand({
        Bucket,
        BypassGovernanceRetention: true,
        Delete: {
          Objects: [
            { Key: 'x', VersionId: locked },
            { Key: 'y', VersionId: gov },
          ],
        },
      }),
    )
    expect(bypassed.Errors?.map((e) => [e.Key, e.Code])).toEqual([['x', 'AccessDenied']])
    expect(bypassed.Deleted?.map((d) => d.VersionId)).toEqual([gov])
  })

  it('lock headers are validated as AWS validates them', async () => {
    const Bucket = await lockBucket()
    await expectSdkError(s3.send(new PutObjectCommand({ Bucket, Key: 'v', Body: 'x', ObjectLockMode: 'GOVERNANCE' })), {
      status: 400,
      code: 'InvalidArgument',
    })
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket, Key: 'v', Body: 'x', ObjectLockRetainUntilDate: inDays(1) })),
      { status: 400, code: 'InvalidArgument' },
    )
    await expectSdkError(
      s3.send(
        new PutObjectCommand({
          Bucket,
          Key: 'v',
          Body: 'x',
          ObjectLockMode: 'FOREVER' as 'GOVERNANCE',
          ObjectLockRetainUntilDate: inDays(1),
        }),
      ),
      { status: 400, code: 'InvalidArgument' },
    )
    await expectSdkError(
      s3.send(
        new PutObjectCommand({
          Bucket,
          Key: 'v',
          Body: 'x',
          ObjectLockMode: 'GOVERNANCE',
          ObjectLockRetainUntilDate: inDays(-1),
        }),
      ),
      { status: 400, code: 'InvalidArgument', message: 'The retain until date must be in the future!' },
    )
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket, Key: 'v', Body: 'x', ObjectLockLegalHoldStatus: 'MAYBE' as 'ON' })),
      { status: 400, code: 'InvalidArgument' },
    )
    const VersionId = await put(Bucket, 'v')
    await expectSdkError(
      s3.send(
        new PutObjectRetentionCommand({
          Bucket,
          Key: 'v',
          VersionId,
          Retention: { Mode: 'GOVERNANCE', RetainUntilDate: inDays(-1) },
        }),
      ),
      { status: 400, code: 'InvalidArgument' },
    )
    await expectSdkError(
      s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'v', VersionId, Retention: { Mode: 'GOVERNANCE' } })),
      { status: 400, code: 'MalformedXML' },
    )
    await expectSdkError(s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'v', VersionId: '0'.repeat(32) })), {
      status: 404,
      code: 'NoSuchVersion',
    })
    await expectSdkError(s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'nokey' })), {
      status: 404,
      code: 'NoSuchKey',
    })
  })

  it('a PutObject or UploadPart with Object Lock parameters needs Content-MD5 or an x-amz-checksum-*', async () => {
    const Bucket = await lockBucket()
    const lock = { ObjectLockMode: 'GOVERNANCE' as const, ObjectLockRetainUntilDate: inDays(1) }
    await expectSdkError(plain.send(new PutObjectCommand({ Bucket, Key: 'p', Body: 'x', ...lock })), {
      status: 400,
      code: 'InvalidRequest',
      message:
        'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters',
    })
    await plain.send(new PutObjectCommand({ Bucket, Key: 'p', Body: 'x', ContentMD5: md5('x'), ...lock }))
    // Without lock parameters (no headers, no default retention) no digest is needed.
    await plain.send(new PutObjectCommand({ Bucket, Key: 'q', Body: 'x' }))
    const up = await plain.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp', ...lock }))
    await expectSdkError(
      plain.send(new UploadPartCommand({ Bucket, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: 'x' })),
      {
        status: 400,
        code: 'InvalidRequest',
        message:
          'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Part requests with Object Lock parameters',
      },
    )
    await plain.send(
      new UploadPartCommand({
        Bucket,
        Key: 'mp',
        UploadId: up.UploadId,
        PartNumber: 1,
        Body: 'x',
        ContentMD5: md5('x'),
      }),
    )
    // A default retention makes every PutObject one with Object Lock parameters.
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
        },
      }),
    )
    await expectSdkError(plain.send(new PutObjectCommand({ Bucket, Key: 'q', Body: 'x' })), {
      status: 400,
      code: 'InvalidRequest',
    })
  })

  it('PutObjectRetention, PutObjectLegalHold and PutObjectLockConfiguration bodies need Content-MD5 or a checksum (the SDKs always send one)', async () => {
    const Bucket = await lockBucket()
    await put(Bucket, 'k')
    const sign = { accessKeyId: ADMIN.accessKeyId, secretAccessKey: ADMIN.secretAccessKey }
    const bodies: Array<[Record<string, string>, string]> = [
      [
        { retention: '' },
        `<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>${inDays(1).toISOString()}</RetainUntilDate></Retention>`,
      ],
      [{ 'legal-hold': '' }, '<LegalHold><Status>ON</Status></LegalHold>'],
    ]
    for (const [query, body] of bodies) {
      expectRawError(await signedSend(srv.port, { method: 'PUT', path: `/${Bucket}/k`, query, body }, sign), {
        status: 400,
        code: 'InvalidRequest',
      })
      const ok = await signedSend(
        srv.port,
        { method: 'PUT', path: `/${Bucket}/k`, query, body, headers: { 'content-md5': md5(body) } },
        sign,
      )
      expect(ok.status).toBe(200)
    }
    const config = '<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>'
    expectRawError(
      await signedSend(
        srv.port,
        { method: 'PUT', path: `/${Bucket}`, query: { 'object-lock': '' }, body: config },
        sign,
      ),
      { status: 400, code: 'InvalidRequest' },
    )
  })

  it('the lock condition keys: a bucket policy can cap the retention a write asks for and demand COMPLIANCE', async () => {
    const Bucket = await lockBucket()
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'AtMost30Days',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:PutObject',
              Resource: `arn:aws:s3:::${Bucket}/*`,
              Condition: { NumericGreaterThan: { 's3:object-lock-remaining-retention-days': '30' } },
            },
            {
              Sid: 'OnlyCompliance',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:PutObject',
              Resource: `arn:aws:s3:::${Bucket}/*`,
              Condition: { StringEquals: { 's3:object-lock-mode': 'GOVERNANCE' } },
            },
          ],
        }),
      }),
    )
    await expectSdkError(
      worker.send(
        new PutObjectCommand({
          Bucket,
          Key: 'long',
          Body: 'x',
          ObjectLockMode: 'COMPLIANCE',
          ObjectLockRetainUntilDate: inDays(40),
        }),
      ),
      { status: 403, code: 'AccessDenied' },
    )
    await expectSdkError(
      worker.send(
        new PutObjectCommand({
          Bucket,
          Key: 'gov',
          Body: 'x',
          ObjectLockMode: 'GOVERNANCE',
          ObjectLockRetainUntilDate: inDays(2),
        }),
      ),
      { status: 403, code: 'AccessDenied' },
    )
    await worker.send(
      new PutObjectCommand({
        Bucket,
        Key: 'ok',
        Body: 'x',
        ...digest('x'),
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: inDays(2),
      }),
    )
  })

  it('the policy actions: s3:PutObjectLegalHold and s3:GetObjectRetention are their own permissions; GET/HEAD show lock headers only to callers holding them', async () => {
    const Bucket = await lockBucket()
    const VersionId = await put(Bucket, 'k', {
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: inDays(1),
      ObjectLockLegalHoldStatus: 'ON',
    })
    await expectSdkError(
      worker.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'k', VersionId, LegalHold: { Status: 'OFF' } })),
      { status: 403, code: 'AccessDenied' },
    )
    await expectSdkError(worker.send(new GetObjectRetentionCommand({ Bucket, Key: 'k', VersionId })), {
      status: 403,
      code: 'AccessDenied',
    })
    await expectSdkError(worker.send(new GetObjectLockConfigurationCommand({ Bucket })), {
      status: 403,
      code: 'AccessDenied',
    })
    const head = await worker.send(new HeadObjectCommand({ Bucket, Key: 'k', VersionId }))
    expect([head.ObjectLockMode, head.ObjectLockRetainUntilDate, head.ObjectLockLegalHoldStatus]).toEqual([
      undefined,
      undefined,
      undefined,
    ])
  })
})
