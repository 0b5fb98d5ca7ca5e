/**
 * @module End-to-end lifecycle with the JS SDK: the configuration API (round trip, errors, the
 * transition-default header), `x-amz-expiration` on writes and reads, and the background sweeper
 * with `--lifecycle-day-seconds 1`: current and noncurrent expirations, delete-marker cleanup,
 * upload aborts (their part blobs leave the data directory), and locked versions that survive.
 * Object Lock's S3 API is not on this branch: versions get their hold through the metadata store
 * while the server is stopped.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { LevelMetadataStore } from '../../storage/level/metadata.js'
import type { ObjectRecord } from '../../storage/types.js'
import { blobFiles } from '../support/data-dir.js'
import { signedSend } from '../support/raw-s3.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'

const DAY_ARGS = ['--lifecycle-day-seconds', '1']
/** Polls `check` until it returns true: bounded by a count, never by a time threshold on the work. */
async function eventually(what: string, check: () => Promise<boolean>, rounds = 400): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (await check()) return
    await sleep(250)
  }
  throw new Error(`lifecycle never got there: ${what}`)
}

async function versionsOf(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<Array<{ id: string; marker: boolean; latest: boolean }>> {
  const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }))
  const out = [
    ...(r.Versions ?? [])
      .filter((v) => v.Key === key)
      .map((v) => ({ id: v.VersionId!, marker: false, latest: v.IsLatest! })),
    ...(r.DeleteMarkers ?? [])
      .filter((v) => v.Key === key)
      .map((v) => ({ id: v.VersionId!, marker: true, latest: v.IsLatest! })),
  ]
  return out
}

describe('lifecycle configuration API', () => {
  let server: TestServer
  afterAll(async () => server?.close())

  it('round-trips a configuration, answers 404 without one, and refuses what AWS refuses', async () => {
    server = await startTestServer()
    const s3 = makeClient(server.endpoint)
    await s3.send(new CreateBucketCommand({ Bucket: 'lc-api' }))
    await expect(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-api' }))).rejects.toMatchObject({
      name: 'NoSuchLifecycleConfiguration',
      $metadata: { httpStatusCode: 404 },
    })
    const rules: LifecycleRule[] = [
      {
        ID: 'logs',
        Filter: { Prefix: 'logs/' },
        Status: 'Enabled',
        Expiration: { Days: 30 },
        NoncurrentVersionExpiration: { NoncurrentDays: 7, NewerNoncurrentVersions: 2 },
      },
      {
        ID: 'big',
        Filter: { And: { Prefix: 'tmp/', ObjectSizeGreaterThan: 1024, ObjectSizeLessThan: 4096 } },
        Status: 'Disabled',
        Expiration: { Date: new Date('2030-01-01T00:00:00Z') },
      },
      {
        ID: 'markers',
        Filter: {},
        Status: 'Enabled',
        Expiration: { ExpiredObjectDeleteMarker: true },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 },
      },
    ]
    const put = await s3.send(
      new PutBucketLifecycleConfigurationCommand({ Bucket: 'lc-api', LifecycleConfiguration: { Rules: rules } }),
    )
    expect(put.TransitionDefaultMinimumObjectSize).toBe('all_storage_classes_128K')
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-api' }))
    expect(got.TransitionDefaultMinimumObjectSize).toBe('all_storage_classes_128K')
    expect(got.Rules).toEqual(rules)

    await expect(
      s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: 'lc-api',
          LifecycleConfiguration: {
            Rules: [{ ID: 'd', Filter: {}, Status: 'Enabled', Expiration: { Date: new Date('2030-01-01T12:00:00Z') } }],
          },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidArgument', message: "'Date' must be at midnight GMT" })
    await expect(
      s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: 'lc-api',
          LifecycleConfiguration: {
            Rules: [{ ID: 't', Filter: {}, Status: 'Enabled', Transitions: [{ Days: 30, StorageClass: 'GLACIER' }] }],
          },
        }),
      ),
    ).rejects.toMatchObject({ name: 'NotImplemented', $metadata: { httpStatusCode: 501 } })
    // A refused configuration leaves the stored one as it was.
    expect((await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-api' }))).Rules).toEqual(rules)

    await s3.send(new DeleteBucketLifecycleCommand({ Bucket: 'lc-api' }))
    await expect(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-api' }))).rejects.toMatchObject({
      name: 'NoSuchLifecycleConfiguration',
    })
  })

  it('requires Content-MD5 or a checksum header on PUT ?lifecycle', async () => {
    const body =
      '<LifecycleConfiguration><Rule><ID>a</ID><Filter></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>'
    const res = await signedSend(server.port, { method: 'PUT', path: '/lc-api', query: { lifecycle: '' }, body })
    expect(res.status).toBe(400)
    expect(res.text).toContain('<Code>InvalidRequest</Code>')
    expect(res.text).toContain('Missing required header for this request: Content-MD5')
    const md5 = createHash('md5').update(body).digest('base64')
    const ok = await signedSend(server.port, {
      method: 'PUT',
      path: '/lc-api',
      query: { lifecycle: '' },
      headers: { 'content-md5': md5 },
      body,
    })
    expect(ok.status).toBe(200)
    expect(ok.headers['x-amz-transition-default-minimum-object-size']).toBe('all_storage_classes_128K')
  })

  it('sends x-amz-expiration on PUT, HEAD, GET and Complete of objects a rule expires', async () => {
    const s3 = makeClient(server.endpoint)
    await s3.send(new CreateBucketCommand({ Bucket: 'lc-hdr' }))
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'lc-hdr',
        LifecycleConfiguration: {
          Rules: [
            { ID: 'picture-deletion-rule', Filter: { Prefix: 'pics/' }, Status: 'Enabled', Expiration: { Days: 2 } },
          ],
        },
      }),
    )
    const put = await s3.send(new PutObjectCommand({ Bucket: 'lc-hdr', Key: 'pics/a.jpg', Body: 'x' }))
    const m = /^expiry-date="([^"]+)", rule-id="picture-deletion-rule"$/.exec(put.Expiration ?? '')
    expect(m).not.toBeNull()
    const at = new Date(m![1])
    // Creation + 2 days, rounded up to the next midnight UTC.
    expect(at.toISOString().endsWith('T00:00:00.000Z')).toBe(true)
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'lc-hdr', Key: 'pics/a.jpg' }))
    expect(head.Expiration).toBe(put.Expiration)
    expect(head.LastModified!.getTime() + 2 * 86_400_000).toBeLessThanOrEqual(at.getTime())
    expect(head.LastModified!.getTime() + 3 * 86_400_000).toBeGreaterThan(at.getTime())
    const get = await s3.send(new GetObjectCommand({ Bucket: 'lc-hdr', Key: 'pics/a.jpg' }))
    expect(get.Expiration).toBe(put.Expiration)
    await get.Body!.transformToByteArray()
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'lc-hdr', Key: 'pics/mp' }))
    const part = await s3.send(
      new UploadPartCommand({ Bucket: 'lc-hdr', Key: 'pics/mp', UploadId: up.UploadId, PartNumber: 1, Body: 'y' }),
    )
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'lc-hdr',
        Key: 'pics/mp',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    )
    expect(done.Expiration).toMatch(/rule-id="picture-deletion-rule"/)
    const copy = await s3.send(
      new CopyObjectCommand({ Bucket: 'lc-hdr', Key: 'pics/copy', CopySource: 'lc-hdr/pics/a.jpg' }),
    )
    expect(copy.Expiration).toMatch(/rule-id="picture-deletion-rule"/)
    // Outside the rule's prefix: no header.
    expect(
      (await s3.send(new PutObjectCommand({ Bucket: 'lc-hdr', Key: 'other', Body: 'x' }))).Expiration,
    ).toBeUndefined()
  })
})

describe('the sweeper with --lifecycle-day-seconds 1', () => {
  let server: TestServer | undefined
  let dataDir: string | undefined
  afterAll(async () => {
    await server?.close()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  it('expires current and noncurrent versions, removes lone markers and stale uploads, and never a locked version', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-lc-'))
    const B = 'lc-sweep'
    // Phase 1: versions that Object Lock will hold, written before any rule exists.
    server = await startTestServer({ dataDir })
    let s3 = makeClient(server.endpoint)
    await s3.send(new CreateBucketCommand({ Bucket: B }))
    await s3.send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Enabled' } }))
    const heldOld = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'lock/a', Body: 'held-old' }))).VersionId!
    const freeNew = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'lock/a', Body: 'free-new' }))).VersionId!
    const retained = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'lock/cur', Body: 'retained' }))).VersionId!
    await server.close()
    server = undefined
    const meta = await LevelMetadataStore.open(path.join(dataDir, 'meta'))
    const setHold = async (key: string, versionId: string, change: Partial<ObjectRecord>) => {
      const rec = (await meta.getVersion(B, key, versionId)) as ObjectRecord
      await meta.commitObject({ ...rec, ...change }, { expect: { record: rec } })
    }
    await setHold('lock/a', heldOld, { legalHold: true })
    await setHold('lock/cur', retained, { retention: { mode: 'COMPLIANCE', retainUntil: Date.now() + 3_600_000 } })
    await meta.close()

    // Phase 2: one-second days.
    server = await startTestServer({ dataDir, args: DAY_ARGS })
    s3 = makeClient(server.endpoint)
    // The upload exists before the rules do: a one-second day could end between its two requests.
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mp/u' }))
    const before = new Set(await blobFiles(dataDir))
    await s3.send(
      new UploadPartCommand({
        Bucket: B,
        Key: 'mp/u',
        UploadId: up.UploadId,
        PartNumber: 1,
        Body: Buffer.alloc(70_000, 1),
      }),
    )
    const partBlobs = (await blobFiles(dataDir)).filter((f) => !before.has(f))
    expect(partBlobs).toHaveLength(1)
    const days = { Days: 1 }
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: B,
        LifecycleConfiguration: {
          Rules: [
            { ID: 'exp', Filter: { Prefix: 'exp/' }, Status: 'Enabled', Expiration: days },
            {
              ID: 'nc',
              Filter: { Prefix: 'nc/' },
              Status: 'Enabled',
              NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            },
            { ID: 'dm', Filter: { Prefix: 'dm/' }, Status: 'Enabled', Expiration: { ExpiredObjectDeleteMarker: true } },
            {
              ID: 'mp',
              Filter: { Prefix: 'mp/' },
              Status: 'Enabled',
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            },
            {
              ID: 'lock',
              Filter: { Prefix: 'lock/' },
              Status: 'Enabled',
              Expiration: days,
              NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            },
            { ID: 'off', Filter: { Prefix: 'keep/' }, Status: 'Disabled', Expiration: days },
          ],
        },
      }),
    )
    const expPut = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'exp/x', Body: 'expires' }))
    expect(expPut.Expiration).toMatch(/rule-id="exp"/)
    const ncOld = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'nc/y', Body: 'old' }))).VersionId!
    const ncNew = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'nc/y', Body: 'new' }))).VersionId!
    const dmData = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'dm/z', Body: 'gone' }))).VersionId!
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'dm/z' }))
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'dm/z', VersionId: dmData }))
    const keep = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'keep/k', Body: 'kept' }))).VersionId!

    await eventually('exp/x gets a delete marker', async () => {
      const v = await versionsOf(s3, B, 'exp/x')
      return v.length === 2 && v.some((x) => x.marker && x.latest)
    })
    await expect(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'exp/x' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    })
    await eventually('nc/y loses its noncurrent version', async () => {
      const v = await versionsOf(s3, B, 'nc/y')
      return v.length === 1 && v[0].id === ncNew
    })
    expect((await versionsOf(s3, B, 'nc/y')).map((v) => v.id)).not.toContain(ncOld)
    await eventually('the lone marker of dm/z goes', async () => (await versionsOf(s3, B, 'dm/z')).length === 0)
    await eventually(
      'the upload is aborted',
      async () => ((await s3.send(new ListMultipartUploadsCommand({ Bucket: B }))).Uploads ?? []).length === 0,
    )
    await eventually("the aborted upload's part blob leaves the data directory", async () => !existsSync(partBlobs[0]))
    await eventually('lock/a: its unheld version expires, its held one stays', async () => {
      const v = await versionsOf(s3, B, 'lock/a')
      return !v.some((x) => x.id === freeNew) && v.some((x) => x.id === heldOld)
    })
    await eventually('lock/cur: expired behind a marker, the retained version stays', async () => {
      const v = await versionsOf(s3, B, 'lock/cur')
      return v.some((x) => x.marker && x.latest) && v.some((x) => x.id === retained)
    })
    // A pass more, so any action still due has run: the held versions are still there, whole.
    await server.lifecycle.sweepNow()
    const held = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'lock/a', VersionId: heldOld }))
    expect(await held.Body!.transformToString()).toBe('held-old')
    const ret = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'lock/cur', VersionId: retained }))
    expect(await ret.Body!.transformToString()).toBe('retained')
    // The disabled rule did nothing.
    expect((await versionsOf(s3, B, 'keep/k')).map((v) => v.id)).toEqual([keep])

    // The blobs of what the rules removed are gone, and every blob a record names is there.
    await server.close()
    server = undefined
    const after = await LevelMetadataStore.open(path.join(dataDir, 'meta'))
    try {
      const referenced = new Set<string>()
      for await (const id of after.referencedBlobs()) referenced.add(id)
      let files: string[] = []
      for (let i = 0; i < 100; i++) {
        files = (await blobFiles(dataDir)).map((f) => path.basename(f))
        if (files.every((f) => referenced.has(f))) break
        await sleep(100)
      }
      expect(files.filter((f) => !referenced.has(f))).toEqual([])
      expect([...referenced].filter((id) => !files.includes(id))).toEqual([])
    } finally {
      await after.close()
    }
  }, 300_000)
})
