/**
 * @module E2E: object tags (x-amz-tagging on PutObject, CopyObject's x-amz-tagging-directive,
 * CreateMultipartUpload; Put/Get/DeleteObjectTagging per version; x-amz-tagging-count), bucket
 * tags, AWS's limits, and the policy condition keys s3:RequestObjectTag/<key>,
 * s3:RequestObjectTagKeys and s3:ExistingObjectTag/<key>, driven with the JS SDK.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type S3Client,
  type Tag,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectRawError, expectSdkError } from '../support/expect-s3.js'
import { md5Base64, signedSend } from '../support/raw-s3.js'
import { K1, sdkSsec } from '../support/sse-c.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'

const BUCKET = 'tagging'
const tagSet = (o: Record<string, string>): Tag[] => Object.entries(o).map(([Key, Value]) => ({ Key, Value }))

describe('object and bucket tagging', () => {
  let srv: TestServer
  let s3: S3Client
  beforeAll(async () => {
    srv = await startTestServer({ args: ['--allow-sse-c-on-new-buckets'] })
    s3 = makeClient(srv.endpoint, { maxAttempts: 1 })
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
  })
  afterAll(async () => {
    await srv?.close()
  })

  const tagsOf = async (Key: string, VersionId?: string, Bucket = BUCKET) =>
    (await s3.send(new GetObjectTaggingCommand({ Bucket, Key, VersionId }))).TagSet

  it('PutObject with x-amz-tagging stores the tags; GET and HEAD answer x-amz-tagging-count', async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'tagged',
        Body: 'x',
        Tagging: 'project=blue&cost%20center=42&empty=',
      }),
    )
    expect(await tagsOf('tagged')).toEqual(
      expect.arrayContaining(tagSet({ project: 'blue', 'cost center': '42', empty: '' })),
    )
    expect((await tagsOf('tagged'))?.length).toBe(3)
    expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'tagged' }))).TagCount).toBe(3)
    const head = await signedSend(srv.port, { method: 'HEAD', path: `/${BUCKET}/tagged` })
    expect(head.headers['x-amz-tagging-count']).toBe('3')
    expect((await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'tagged' }))).TagCount).toBe(3)
  })

  it('an object without tags answers an empty TagSet and no x-amz-tagging-count', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'plain', Body: 'x' }))
    expect(await tagsOf('plain')).toEqual([])
    const get = await signedSend(srv.port, { method: 'GET', path: `/${BUCKET}/plain` })
    expect(get.headers['x-amz-tagging-count']).toBeUndefined()
  })

  it('PutObjectTagging replaces the tag set, keeps data and Last-Modified; DeleteObjectTagging removes every tag (204)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'retag', Body: 'data', Tagging: 'a=1' }))
    const before = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'retag' }))
    await s3.send(
      new PutObjectTaggingCommand({ Bucket: BUCKET, Key: 'retag', Tagging: { TagSet: tagSet({ b: '2', c: '3' }) } }),
    )
    expect(await tagsOf('retag')).toEqual(tagSet({ b: '2', c: '3' }))
    const after = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'retag' }))
    expect([after.ETag, after.LastModified?.getTime()]).toEqual([before.ETag, before.LastModified?.getTime()])
    expect(
      await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'retag' }))).Body!.transformToString(),
    ).toBe('data')
    const del = await signedSend(srv.port, { method: 'DELETE', path: `/${BUCKET}/retag`, query: { tagging: '' } })
    expect(del.status).toBe(204)
    expect(await tagsOf('retag')).toEqual([])
  })

  it('AWS limits: 11 tags is 400 BadRequest, a duplicate key or an aws: key is 400 InvalidTag, on the header and on PutObjectTagging', async () => {
    const eleven = Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&')
    await expectSdkError(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'limits', Body: 'x', Tagging: eleven })), {
      status: 400,
      code: 'BadRequest',
      message: 'Object tags cannot be greater than 10',
    })
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'limits', Body: 'x', Tagging: 'a=1&a=2' })),
      { status: 400, code: 'InvalidTag', message: 'Cannot provide multiple Tags with the same key' },
    )
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'limits', Body: 'x' }))
    await expectSdkError(
      s3.send(
        new PutObjectTaggingCommand({ Bucket: BUCKET, Key: 'limits', Tagging: { TagSet: tagSet({ 'aws:x': '1' }) } }),
      ),
      { status: 400, code: 'InvalidTag' },
    )
    await expectSdkError(
      s3.send(
        new PutObjectTaggingCommand({
          Bucket: BUCKET,
          Key: 'limits',
          Tagging: { TagSet: Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) },
        }),
      ),
      { status: 400, code: 'BadRequest' },
    )
    await expectSdkError(
      s3.send(
        new PutObjectTaggingCommand({
          Bucket: BUCKET,
          Key: 'limits',
          Tagging: { TagSet: [{ Key: 'k'.repeat(129), Value: 'v' }] },
        }),
      ),
      { status: 400, code: 'InvalidTag' },
    )
    expect(await tagsOf('limits')).toEqual([])
  })

  it('tagging a missing key is 404 NoSuchKey; a missing bucket is 404 NoSuchBucket; a malformed body is 400 MalformedXML', async () => {
    await expectSdkError(s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'nope' })), {
      status: 404,
      code: 'NoSuchKey',
    })
    await expectSdkError(
      s3.send(new PutObjectTaggingCommand({ Bucket: BUCKET, Key: 'nope', Tagging: { TagSet: [] } })),
      { status: 404, code: 'NoSuchKey' },
    )
    await expectSdkError(s3.send(new DeleteObjectTaggingCommand({ Bucket: BUCKET, Key: 'nope' })), {
      status: 404,
      code: 'NoSuchKey',
    })
    await expectSdkError(s3.send(new GetObjectTaggingCommand({ Bucket: 'no-such-bucket-here', Key: 'k' })), {
      status: 404,
      code: 'NoSuchBucket',
    })
    const bad = '<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>'
    expectRawError(
      await signedSend(srv.port, {
        method: 'PUT',
        path: `/${BUCKET}/plain`,
        query: { tagging: '' },
        headers: { 'content-md5': md5Base64(bad) },
        body: bad,
      }),
      { status: 400, code: 'MalformedXML' },
    )
    // As on AWS, the body must carry Content-MD5 or an x-amz-checksum-*.
    const good = '<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>'
    expectRawError(
      await signedSend(srv.port, { method: 'PUT', path: `/${BUCKET}/plain`, query: { tagging: '' }, body: good }),
      { status: 400, code: 'InvalidRequest' },
    )
    expectRawError(
      await signedSend(srv.port, { method: 'PUT', path: `/${BUCKET}`, query: { tagging: '' }, body: good }),
      { status: 400, code: 'InvalidRequest' },
    )
  })

  it('versioned bucket: tags belong to each version; versionId names one; a delete marker by id is 405; an unknown version is 404 NoSuchVersion', async () => {
    const b = 'tagging-versions'
    await s3.send(new CreateBucketCommand({ Bucket: b }))
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }))
    const v1 = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: '1', Tagging: 'gen=1' }))
    const v2 = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: '2', Tagging: 'gen=2' }))
    const put = await s3.send(
      new PutObjectTaggingCommand({
        Bucket: b,
        Key: 'k',
        VersionId: v1.VersionId,
        Tagging: { TagSet: tagSet({ gen: 'one' }) },
      }),
    )
    expect(put.VersionId).toBe(v1.VersionId)
    expect(await tagsOf('k', v1.VersionId, b)).toEqual(tagSet({ gen: 'one' }))
    const cur = await s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'k' }))
    expect([cur.VersionId, cur.TagSet]).toEqual([v2.VersionId, tagSet({ gen: '2' })])
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }))
    await expectSdkError(s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'k', VersionId: marker.VersionId })), {
      status: 405,
      code: 'MethodNotAllowed',
    })
    await expectSdkError(s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'k' })), {
      status: 404,
      code: 'NoSuchKey',
    })
    await expectSdkError(s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'k', VersionId: '0'.repeat(32) })), {
      status: 404,
      code: 'NoSuchVersion',
    })
    expect(await tagsOf('k', v2.VersionId, b)).toEqual(tagSet({ gen: '2' }))
  })

  it('CopyObject: COPY (the default) keeps the source tags, REPLACE takes x-amz-tagging (none without it), another directive is 400 InvalidArgument', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'copy-src', Body: 'src', Tagging: 'from=source' }))
    await s3.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'copy-keep',
        CopySource: `${BUCKET}/copy-src`,
        Tagging: 'ignored=yes',
      }),
    )
    expect(await tagsOf('copy-keep')).toEqual(tagSet({ from: 'source' }))
    await s3.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'copy-replace',
        CopySource: `${BUCKET}/copy-src`,
        TaggingDirective: 'REPLACE',
        Tagging: 'from=request',
      }),
    )
    expect(await tagsOf('copy-replace')).toEqual(tagSet({ from: 'request' }))
    await s3.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'copy-none',
        CopySource: `${BUCKET}/copy-src`,
        TaggingDirective: 'REPLACE',
      }),
    )
    expect(await tagsOf('copy-none')).toEqual([])
    const bad = await signedSend(srv.port, {
      method: 'PUT',
      path: `/${BUCKET}/copy-bad`,
      headers: { 'x-amz-copy-source': `/${BUCKET}/copy-src`, 'x-amz-tagging-directive': 'MERGE' },
    })
    expectRawError(bad, { status: 400, code: 'InvalidArgument' })
  })

  it('CreateMultipartUpload with x-amz-tagging: the completed object has the tags', async () => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mpu-tagged', Tagging: 'via=multipart' }),
    )
    const { ETag } = await s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: 'mpu-tagged', UploadId, PartNumber: 1, Body: 'part' }),
    )
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'mpu-tagged',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] },
      }),
    )
    expect(await tagsOf('mpu-tagged')).toEqual(tagSet({ via: 'multipart' }))
  })

  it('an SSE-C object is tagged and its tags read without the customer key', async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'ssec', Body: 'secret', ...sdkSsec(K1), Tagging: 'mode=c' }),
    )
    expect(await tagsOf('ssec')).toEqual(tagSet({ mode: 'c' }))
    await s3.send(
      new PutObjectTaggingCommand({ Bucket: BUCKET, Key: 'ssec', Tagging: { TagSet: tagSet({ mode: 'customer' }) } }),
    )
    expect(await tagsOf('ssec')).toEqual(tagSet({ mode: 'customer' }))
    const body = await (
      await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ssec', ...sdkSsec(K1) }))
    ).Body!.transformToString()
    expect(body).toBe('secret')
  })

  it('concurrent PutObjectTagging of one object: every request answers 200 and the result is one of the tag sets sent', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'race', Body: 'x' }))
    const sets = Array.from({ length: 8 }, (_, i) => tagSet({ writer: String(i) }))
    await Promise.all(
      sets.map((TagSet) => s3.send(new PutObjectTaggingCommand({ Bucket: BUCKET, Key: 'race', Tagging: { TagSet } }))),
    )
    expect(sets).toContainEqual(await tagsOf('race'))
  })

  it('bucket tagging: NoSuchTagSet until set; Put (204) / Get / Delete (204); 51 tags is 400 InvalidTag', async () => {
    await expectSdkError(s3.send(new GetBucketTaggingCommand({ Bucket: BUCKET })), {
      status: 404,
      code: 'NoSuchTagSet',
    })
    await s3.send(
      new PutBucketTaggingCommand({ Bucket: BUCKET, Tagging: { TagSet: tagSet({ team: 'storage', env: 'test' }) } }),
    )
    expect((await s3.send(new GetBucketTaggingCommand({ Bucket: BUCKET }))).TagSet).toEqual(
      tagSet({ team: 'storage', env: 'test' }),
    )
    await expectSdkError(
      s3.send(
        new PutBucketTaggingCommand({
          Bucket: BUCKET,
          Tagging: { TagSet: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) },
        }),
      ),
      { status: 400, code: 'InvalidTag' },
    )
    expect((await s3.send(new GetBucketTaggingCommand({ Bucket: BUCKET }))).TagSet?.length).toBe(2)
    await s3.send(new DeleteBucketTaggingCommand({ Bucket: BUCKET }))
    await expectSdkError(s3.send(new GetBucketTaggingCommand({ Bucket: BUCKET })), {
      status: 404,
      code: 'NoSuchTagSet',
    })
  })

  it('policy conditions: s3:RequestObjectTag/<key>, s3:RequestObjectTagKeys and s3:ExistingObjectTag/<key> decide as the tags say', async () => {
    const b = 'tagging-policy'
    await s3.send(new CreateBucketCommand({ Bucket: b }))
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'NoSecretUploads',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:PutObject',
          Resource: `arn:aws:s3:::${b}/*`,
          Condition: { StringEquals: { 's3:RequestObjectTag/class': 'secret' } },
        },
        {
          Sid: 'NoForbiddenKey',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:PutObjectTagging',
          Resource: `arn:aws:s3:::${b}/*`,
          Condition: { 'ForAnyValue:StringEquals': { 's3:RequestObjectTagKeys': 'forbidden' } },
        },
        {
          Sid: 'NoSecretReads',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${b}/*`,
          Condition: { StringEquals: { 's3:ExistingObjectTag/class': 'secret' } },
        },
      ],
    }
    await s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(policy) }))
    await expectSdkError(s3.send(new PutObjectCommand({ Bucket: b, Key: 'doc', Body: 'x', Tagging: 'class=secret' })), {
      status: 403,
      code: 'AccessDenied',
    })
    await expectSdkError(
      s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mpu', Tagging: 'class=secret' })),
      { status: 403, code: 'AccessDenied' },
    )
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'doc', Body: 'x', Tagging: 'class=public' }))
    await expectSdkError(
      s3.send(
        new CopyObjectCommand({
          Bucket: b,
          Key: 'copy',
          CopySource: `${b}/doc`,
          TaggingDirective: 'REPLACE',
          Tagging: 'class=secret',
        }),
      ),
      { status: 403, code: 'AccessDenied' },
    )
    expect(await (await s3.send(new GetObjectCommand({ Bucket: b, Key: 'doc' }))).Body!.transformToString()).toBe('x')
    await expectSdkError(
      s3.send(new PutObjectTaggingCommand({ Bucket: b, Key: 'doc', Tagging: { TagSet: tagSet({ forbidden: '1' }) } })),
      { status: 403, code: 'AccessDenied' },
    )
    await s3.send(
      new PutObjectTaggingCommand({ Bucket: b, Key: 'doc', Tagging: { TagSet: tagSet({ class: 'secret' }) } }),
    )
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'doc' })), {
      status: 403,
      code: 'AccessDenied',
    })
    expect(await tagsOf('doc', undefined, b)).toEqual(tagSet({ class: 'secret' }))
  })
})
