/**
 * @module E2E with the SDK: bucket versioning as AWS S3 answers it — version ids on every write,
 * reads and deletes by version, delete markers (404 with the marker header; 405 by id), copies
 * from a version, DeleteObjects with VersionId, ListObjectVersions on every bucket, the Suspended
 * null version, pagination over 1,200 versions with a delimiter, and the cleanup-fixture loop.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type ObjectIdentifier,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectRawError, expectSdkError, expectSdkHeadError } from '../support/expect-s3.js'
import { signedSend } from '../support/raw-s3.js'
import { versionPages } from '../support/versions.js'
import { CHECKSUM_MODES, makeClient, startTestServer, type TestServer } from '../support/server.js'

const text = async (r: { Body?: unknown }) =>
  Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).toString('utf8')

describe.each(CHECKSUM_MODES)('versioning (requestChecksumCalculation %s)', (checksumMode) => {
  let srv: TestServer
  let s3: S3Client
  let n = 0
  const fresh = async (versioning?: 'Enabled' | 'Suspended') => {
    const Bucket = `ver-${checksumMode.toLowerCase().replace('_', '-')}-${++n}`
    await s3.send(new CreateBucketCommand({ Bucket }))
    if (versioning)
      await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: versioning } }))
    return Bucket
  }
  const put = (Bucket: string, Key: string, Body: string) => s3.send(new PutObjectCommand({ Bucket, Key, Body }))

  beforeAll(async () => {
    srv = await startTestServer()
    s3 = makeClient(srv.endpoint, { maxAttempts: 1, requestChecksumCalculation: checksumMode })
  })
  afterAll(async () => {
    await srv?.close()
  })

  it('Put/GetBucketVersioning: unset, Enabled, Suspended; never back to unversioned; a bad Status is MalformedXML', async () => {
    const Bucket = await fresh()
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBeUndefined()
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }))
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Enabled')
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } }))
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Suspended')
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: {} }))
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Suspended')
    await expectSdkError(
      s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Off' as never } })),
      { status: 400, code: 'MalformedXML' },
    )
    await expectSdkError(
      s3.send(
        new PutBucketVersioningCommand({
          Bucket,
          VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Enabled' },
        }),
      ),
      { status: 501, code: 'NotImplemented' },
    )
  })

  it('two PUTs make two versions; GET/HEAD by id read each; ListObjectVersions lists both, newest IsLatest', async () => {
    const Bucket = await fresh('Enabled')
    const a = await put(Bucket, 'doc', 'first')
    const b = await put(Bucket, 'doc', 'second')
    expect(a.VersionId).toMatch(/^[0-9a-f]{32}$/)
    expect(b.VersionId).not.toBe(a.VersionId)
    const cur = await s3.send(new GetObjectCommand({ Bucket, Key: 'doc' }))
    expect([await text(cur), cur.VersionId]).toEqual(['second', b.VersionId])
    const old = await s3.send(new GetObjectCommand({ Bucket, Key: 'doc', VersionId: a.VersionId }))
    expect([await text(old), old.VersionId, old.ETag]).toEqual(['first', a.VersionId, a.ETag])
    const range = await s3.send(
      new GetObjectCommand({ Bucket, Key: 'doc', VersionId: a.VersionId, Range: 'bytes=1-3' }),
    )
    expect(await text(range)).toBe('irs')
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'doc', VersionId: a.VersionId }))).ContentLength).toBe(5)
    const list = await s3.send(new ListObjectVersionsCommand({ Bucket }))
    expect(list.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest, v.Size])).toEqual([
      ['doc', b.VersionId, true, 6],
      ['doc', a.VersionId, false, 5],
    ])
    expect((await s3.send(new ListObjectsV2Command({ Bucket }))).Contents?.map((c) => c.Key)).toEqual(['doc'])
    // Conditional requests apply to the version asked for.
    await expectSdkError(
      s3.send(new GetObjectCommand({ Bucket, Key: 'doc', VersionId: a.VersionId, IfMatch: b.ETag })),
      { status: 412, code: 'PreconditionFailed' },
    )
  })

  it('version ids: malformed is 400 InvalidArgument, unknown is 404 NoSuchVersion', async () => {
    const Bucket = await fresh('Enabled')
    await put(Bucket, 'k', 'x')
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket, Key: 'k', VersionId: 'nope' })), {
      status: 400,
      code: 'InvalidArgument',
      message: 'Invalid version id specified',
    })
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket, Key: 'k', VersionId: '0'.repeat(32) })), {
      status: 404,
      code: 'NoSuchVersion',
      fields: { Key: 'k', VersionId: '0'.repeat(32) },
    })
    await expectSdkHeadError(s3.send(new HeadObjectCommand({ Bucket, Key: 'k', VersionId: '0'.repeat(32) })), 404)
  })

  it('a delete adds a marker: GET is 404 with x-amz-delete-marker, GET/HEAD of the marker by id 405; deleting the marker brings the object back', async () => {
    const Bucket = await fresh('Enabled')
    const v = await put(Bucket, 'doc', 'content')
    const del = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'doc' }))
    expect(del.DeleteMarker).toBe(true)
    expect(del.VersionId).toMatch(/^[0-9a-f]{32}$/)
    const gone = await signedSend(srv.port, { method: 'GET', path: `/${Bucket}/doc` })
    expectRawError(gone, { status: 404, code: 'NoSuchKey' })
    expect([gone.headers['x-amz-delete-marker'], gone.headers['x-amz-version-id']]).toEqual(['true', del.VersionId])
    const byId = await signedSend(srv.port, {
      method: 'GET',
      path: `/${Bucket}/doc`,
      query: { versionId: del.VersionId! },
    })
    const e = expectRawError(byId, {
      status: 405,
      code: 'MethodNotAllowed',
      fields: { Method: 'GET', ResourceType: 'DeleteMarker' },
    })
    expect(e.Code).toBe('MethodNotAllowed')
    expect([byId.headers.allow, byId.headers['x-amz-delete-marker']]).toEqual(['DELETE', 'true'])
    const head = await signedSend(srv.port, {
      method: 'HEAD',
      path: `/${Bucket}/doc`,
      query: { versionId: del.VersionId! },
    })
    expect([head.status, head.headers['x-amz-delete-marker'], head.body.length]).toEqual([405, 'true', 0])
    expect((await s3.send(new ListObjectsV2Command({ Bucket }))).KeyCount).toBe(0)
    const list = await s3.send(new ListObjectVersionsCommand({ Bucket }))
    expect(list.DeleteMarkers?.map((m) => [m.Key, m.VersionId, m.IsLatest])).toEqual([['doc', del.VersionId, true]])
    expect(list.Versions?.map((m) => [m.VersionId, m.IsLatest])).toEqual([[v.VersionId, false]])
    const undo = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'doc', VersionId: del.VersionId }))
    expect([undo.DeleteMarker, undo.VersionId]).toEqual([true, del.VersionId])
    expect(await text(await s3.send(new GetObjectCommand({ Bucket, Key: 'doc' })))).toBe('content')
    // Deleting a data version by id removes it for good.
    const gone2 = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'doc', VersionId: v.VersionId }))
    expect([gone2.DeleteMarker, gone2.VersionId]).toEqual([undefined, v.VersionId])
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket, Key: 'doc' })), { status: 404, code: 'NoSuchKey' })
  })

  it('CopyObject from a version answers x-amz-copy-source-version-id and copies that version; a marker as source is refused', async () => {
    const Bucket = await fresh('Enabled')
    const a = await put(Bucket, 'src', 'old bytes')
    await put(Bucket, 'src', 'new bytes')
    const c = await s3.send(
      new CopyObjectCommand({ Bucket, Key: 'dst', CopySource: `${Bucket}/src?versionId=${a.VersionId}` }),
    )
    expect(c.CopySourceVersionId).toBe(a.VersionId)
    expect(c.VersionId).toMatch(/^[0-9a-f]{32}$/)
    expect(await text(await s3.send(new GetObjectCommand({ Bucket, Key: 'dst' })))).toBe('old bytes')
    // Copying an older version onto its own key restores it as a new version.
    const restored = await s3.send(
      new CopyObjectCommand({ Bucket, Key: 'src', CopySource: `${Bucket}/src?versionId=${a.VersionId}` }),
    )
    expect(await text(await s3.send(new GetObjectCommand({ Bucket, Key: 'src' })))).toBe('old bytes')
    expect((await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'src' }))).Versions?.[0].VersionId).toBe(
      restored.VersionId,
    )
    const marker = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'src' }))
    await expectSdkError(
      s3.send(new CopyObjectCommand({ Bucket, Key: 'x', CopySource: `${Bucket}/src?versionId=${marker.VersionId}` })),
      { status: 400, code: 'InvalidRequest' },
    )
    await expectSdkError(s3.send(new CopyObjectCommand({ Bucket, Key: 'x', CopySource: `${Bucket}/src` })), {
      status: 404,
      code: 'NoSuchKey',
    })
  })

  it('CompleteMultipartUpload answers the version id of the new version', async () => {
    const Bucket = await fresh('Enabled')
    await put(Bucket, 'mp', 'before')
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp' }))
    const p = await s3.send(new UploadPartCommand({ Bucket, Key: 'mp', UploadId, PartNumber: 1, Body: 'part one' }))
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'mp',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] },
      }),
    )
    expect(done.VersionId).toMatch(/^[0-9a-f]{32}$/)
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'mp', PartNumber: 1 }))
    expect([got.VersionId, await text(got)]).toEqual([done.VersionId, 'part one'])
    expect((await s3.send(new ListObjectVersionsCommand({ Bucket }))).Versions).toHaveLength(2)
  })

  it('DeleteObjects with VersionId deletes versions; without, it answers DeleteMarker and DeleteMarkerVersionId', async () => {
    const Bucket = await fresh('Enabled')
    const a = await put(Bucket, 'a', '1')
    await put(Bucket, 'b', '2')
    const r = await s3.send(
      new DeleteObjectsCommand({
        Bucket,
        Delete: { Objects: [{ Key: 'a', VersionId: a.VersionId }, { Key: 'b' }, { Key: 'c', VersionId: 'bad' }] },
      }),
    )
    const byKey = Object.fromEntries((r.Deleted ?? []).map((d) => [d.Key, d]))
    expect(byKey.a).toMatchObject({ Key: 'a', VersionId: a.VersionId })
    expect(byKey.a.DeleteMarker).toBeUndefined()
    expect(byKey.b).toMatchObject({ Key: 'b', DeleteMarker: true })
    expect(byKey.b.DeleteMarkerVersionId).toMatch(/^[0-9a-f]{32}$/)
    expect(r.Errors?.map((e) => [e.Key, e.VersionId, e.Code])).toEqual([['c', 'bad', 'InvalidArgument']])
    const m = await s3.send(
      new DeleteObjectsCommand({
        Bucket,
        Delete: { Objects: [{ Key: 'b', VersionId: byKey.b.DeleteMarkerVersionId }] },
      }),
    )
    expect(m.Deleted?.[0]).toMatchObject({
      Key: 'b',
      VersionId: byKey.b.DeleteMarkerVersionId,
      DeleteMarker: true,
      DeleteMarkerVersionId: byKey.b.DeleteMarkerVersionId,
    })
    expect(await text(await s3.send(new GetObjectCommand({ Bucket, Key: 'b' })))).toBe('2')
  })

  it('an unversioned bucket answers ListObjectVersions with the null version and sends no version ids', async () => {
    const Bucket = await fresh()
    const p = await put(Bucket, 'k', 'v1')
    expect(p.VersionId).toBeUndefined()
    await put(Bucket, 'k', 'v2')
    const list = await s3.send(new ListObjectVersionsCommand({ Bucket }))
    expect(list.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest])).toEqual([['k', 'null', true]])
    expect(await text(await s3.send(new GetObjectCommand({ Bucket, Key: 'k', VersionId: 'null' })))).toBe('v2')
    const del = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }))
    expect(del.DeleteMarker).toBeUndefined()
    expect((await s3.send(new ListObjectVersionsCommand({ Bucket }))).Versions).toBeUndefined()
  })

  it('Suspended: PUTs write and replace the null version; older versions stay', async () => {
    const Bucket = await fresh('Enabled')
    const kept = await put(Bucket, 'k', 'versioned')
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } }))
    expect((await put(Bucket, 'k', 'null one')).VersionId).toBe('null')
    expect((await put(Bucket, 'k', 'null two')).VersionId).toBe('null')
    const list = await s3.send(new ListObjectVersionsCommand({ Bucket }))
    expect(list.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([
      ['null', true],
      [kept.VersionId, false],
    ])
    expect(await text(await s3.send(new GetObjectCommand({ Bucket, Key: 'k', VersionId: 'null' })))).toBe('null two')
    const del = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }))
    expect([del.DeleteMarker, del.VersionId]).toEqual([true, 'null'])
    const after = await s3.send(new ListObjectVersionsCommand({ Bucket }))
    expect(after.DeleteMarkers?.map((m) => m.VersionId)).toEqual(['null'])
    expect(after.Versions?.map((v) => v.VersionId)).toEqual([kept.VersionId])
  })

  it('ListObjectVersions paginates 1,200 versions with a delimiter to the whole list, then the cleanup-fixture loop empties the bucket', async () => {
    const Bucket = await fresh('Enabled')
    const writes: Array<() => Promise<unknown>> = []
    for (let k = 0; k < 300; k++)
      for (let v = 0; v < 4; v++) writes.push(() => put(Bucket, `k${String(k).padStart(3, '0')}`, `v${v}`))
    for (let i = 0; i < 5; i++) writes.push(() => put(Bucket, `dir/x${i}`, 'in a prefix'))
    // The versions of one key are written in order; keys in parallel.
    for (let k = 0; k < 300; k += 30) {
      await Promise.all(
        Array.from({ length: 30 }, async (_, j) => {
          for (let v = 0; v < 4; v++) await writes[(k + j) * 4 + v]()
        }),
      )
    }
    for (let i = 1200; i < writes.length; i++) await writes[i]()
    for (let k = 0; k < 300; k += 7)
      await s3.send(new DeleteObjectCommand({ Bucket, Key: `k${String(k).padStart(3, '0')}` }))

    const versions: Array<[string, string, boolean]> = []
    const markers: Array<[string, string]> = []
    const prefixes = new Set<string>()
    let pages = 0
    for await (const page of versionPages(s3, { Bucket, Delimiter: '/', MaxKeys: 97 })) {
      pages++
      for (const v of page.Versions ?? []) versions.push([v.Key!, v.VersionId!, v.IsLatest!])
      for (const m of page.DeleteMarkers ?? []) markers.push([m.Key!, m.VersionId!])
      for (const p of page.CommonPrefixes ?? []) prefixes.add(p.Prefix!)
      expect(pages).toBeLessThan(100)
    }
    expect(versions).toHaveLength(1200)
    expect(markers).toHaveLength(43)
    expect([...prefixes]).toEqual(['dir/'])
    expect(new Set(versions.map(([, id]) => id)).size).toBe(1200)
    // Per key: exactly one latest unless a marker is latest; v3 (newest) first.
    const latest = versions.filter(([, , l]) => l).length
    expect(latest).toBe(300 - 43)

    // The usual cleanup: list every version and marker, delete them in batches, delete the bucket.
    await expectSdkError(s3.send(new DeleteBucketCommand({ Bucket })), { status: 409, code: 'BucketNotEmpty' })
    for (let round = 0; round < 10; round++) {
      const ids: ObjectIdentifier[] = []
      for await (const page of versionPages(s3, { Bucket, MaxKeys: 1000 })) {
        for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])])
          ids.push({ Key: v.Key!, VersionId: v.VersionId! })
      }
      if (ids.length === 0) break
      for (let i = 0; i < ids.length; i += 1000) {
        const r = await s3.send(
          new DeleteObjectsCommand({ Bucket, Delete: { Objects: ids.slice(i, i + 1000), Quiet: true } }),
        )
        expect(r.Errors ?? []).toEqual([])
      }
    }
    await s3.send(new DeleteBucketCommand({ Bucket }))
  }, 120_000)
})
