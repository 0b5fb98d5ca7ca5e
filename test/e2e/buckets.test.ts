/**
 * @module E2E: bucket operations — CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, ListBuckets
 * (docs/s3-sse-rules.md §3.1–§3.6, §8.5).
 */
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectRawError, expectSdkError, expectSdkHeadError } from '../support/expect-s3.js'
import { asArray, parseXml, signedSend } from '../support/raw-s3.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/'

describe('buckets', () => {
  let srv: TestServer
  let s3: S3Client
  const clientIn = (region: string) => makeClient(srv.endpoint, { region, maxAttempts: 1 })

  beforeAll(async () => {
    srv = await startTestServer()
    s3 = makeClient(srv.endpoint, { maxAttempts: 1 })
  })
  afterAll(async () => {
    await srv?.close()
  })

  it('BKT-01 CreateBucket on us-east-1 without a body answers 200 with Location /<bucket> and x-amz-bucket-arn', async () => {
    const res = await signedSend(srv.port, { method: 'PUT', path: '/bkt-01' })
    expect(res.status).toBe(200)
    expect(res.headers.location).toBe('/bkt-01')
    expect(res.headers['x-amz-bucket-arn']).toBe('arn:aws:s3:::bkt-01')
    expect(res.body.length).toBe(0)
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'bkt-01' }))
    expect(head.BucketRegion).toBe('us-east-1')
  })

  it('CreateBucket through the SDK creates a bucket that ListBuckets shows', async () => {
    const out = await s3.send(new CreateBucketCommand({ Bucket: 'bkt-sdk' }))
    expect(out.Location).toBe('/bkt-sdk')
    const list = await s3.send(new ListBucketsCommand({}))
    expect(list.Buckets?.map((b) => b.Name)).toContain('bkt-sdk')
  })

  it.each([
    ['a', 'between 3 and 63'],
    ['ab', 'between 3 and 63'],
    ['Abc', 'only of lowercase'],
    ['foo_bar', 'only of lowercase'],
    ['foo..bar', 'two adjacent periods'],
    ['-foo', 'begin and end'],
    ['192.168.5.4', 'IP address'],
    ['xn--x', 'prefix xn--'],
    ['x-s3alias', 'suffix -s3alias'],
    ['foo-', 'begin and end'],
    ['a'.repeat(64), 'between 3 and 63'],
    ['sthree-x', 'prefix sthree-'],
    ['abc--ol-s3', 'suffix --ol-s3'],
  ])(
    'BKT-02 CreateBucket with the invalid name %j answers 400 InvalidBucketName with BucketName, naming the rule (%s)',
    async (name, rule) => {
      const res = await signedSend(srv.port, { method: 'PUT', path: `/${name}` })
      expectRawError(res, { status: 400, code: 'InvalidBucketName', fields: { BucketName: name } })
      const message = /<Message>([^<]*)<\/Message>/.exec(res.text)?.[1] ?? ''
      expect(message.startsWith('The specified bucket is not valid. ')).toBe(true)
      expect(message).toContain(rule)
    },
  )

  it('BKT-03 re-creating an own bucket that lives in us-west-1 answers 409 BucketAlreadyOwnedByYou with BucketName', async () => {
    const west = clientIn('us-west-1')
    await west.send(
      new CreateBucketCommand({ Bucket: 'bkt-03', CreateBucketConfiguration: { LocationConstraint: 'us-west-1' } }),
    )
    await expectSdkError(
      west.send(
        new CreateBucketCommand({ Bucket: 'bkt-03', CreateBucketConfiguration: { LocationConstraint: 'us-west-1' } }),
      ),
      {
        status: 409,
        code: 'BucketAlreadyOwnedByYou',
        message: 'Your previous request to create the named bucket succeeded and you already own it.',
        fields: { BucketName: 'bkt-03' },
      },
    )
  })

  it('BKT-04 re-creating an own us-east-1 bucket through us-east-1 answers 200 and changes nothing', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'bkt-04' }))
    await s3.send(new PutObjectCommand({ Bucket: 'bkt-04', Key: 'kept', Body: 'x' }))
    const again = await signedSend(srv.port, { method: 'PUT', path: '/bkt-04' })
    expect(again.status).toBe(200)
    const got = await s3.send(new GetObjectCommand({ Bucket: 'bkt-04', Key: 'kept' }))
    expect(await got.Body?.transformToString()).toBe('x')
  })

  it('BKT-06 LocationConstraint us-east-1 sent to the us-east-1 endpoint answers 400 InvalidLocationConstraint with LocationConstraint', async () => {
    await expectSdkError(
      s3.send(
        new CreateBucketCommand({
          Bucket: 'bkt-06',
          CreateBucketConfiguration: { LocationConstraint: 'us-east-1' as never },
        }),
      ),
      {
        status: 400,
        code: 'InvalidLocationConstraint',
        message: 'The specified location-constraint is not valid',
        fields: { LocationConstraint: 'us-east-1' },
      },
    )
  })

  it('an unknown region as LocationConstraint on the us-east-1 endpoint answers 400 InvalidLocationConstraint', async () => {
    const body =
      '<CreateBucketConfiguration><LocationConstraint>mars-north-9</LocationConstraint></CreateBucketConfiguration>'
    const res = await signedSend(srv.port, { method: 'PUT', path: '/bkt-mars', body })
    expectRawError(res, {
      status: 400,
      code: 'InvalidLocationConstraint',
      message: 'The specified location-constraint is not valid',
      fields: { LocationConstraint: 'mars-north-9' },
    })
  })

  it('BKT-07 CreateBucket signed for eu-west-1 without a constraint answers 400 IllegalLocationConstraintException (unspecified)', async () => {
    // Raw: the SDK would add the client's region as LocationConstraint by itself.
    const res = await signedSend(srv.port, { method: 'PUT', path: '/bkt-07' }, { region: 'eu-west-1' })
    expectRawError(res, {
      status: 400,
      code: 'IllegalLocationConstraintException',
      message:
        'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.',
    })
  })

  it('BKT-08 CreateBucket signed for eu-west-1 with constraint us-east-2 answers 400 IllegalLocationConstraintException naming us-east-2', async () => {
    await expectSdkError(
      clientIn('eu-west-1').send(
        new CreateBucketCommand({ Bucket: 'bkt-08', CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }),
      ),
      {
        status: 400,
        code: 'IllegalLocationConstraintException',
        message:
          'The us-east-2 location constraint is incompatible for the region specific endpoint this request was sent to.',
      },
    )
  })

  it('BKT-09 ListBuckets lists Bucket{Name, CreationDate, BucketRegion, BucketArn} sorted by name and Owner{ID} without DisplayName', async () => {
    for (const b of ['zz-last', 'aa-first', 'mm-middle']) await s3.send(new CreateBucketCommand({ Bucket: b }))
    const res = await signedSend(srv.port, { method: 'GET', path: '/' })
    expect(res.status).toBe(200)
    const doc = parseXml(res.text).ListAllMyBucketsResult
    expect(doc['@_xmlns']).toBe(NS)
    const buckets = asArray(doc.Buckets.Bucket) as Array<Record<string, string>>
    const names = buckets.map((b) => b.Name)
    expect(names).toEqual([...names].sort())
    expect(names).toEqual(expect.arrayContaining(['aa-first', 'mm-middle', 'zz-last']))
    for (const b of buckets) {
      expect(Object.keys(b).sort()).toEqual(['BucketArn', 'BucketRegion', 'CreationDate', 'Name'])
      expect(b.CreationDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
      expect(b.BucketArn).toBe(`arn:aws:s3:::${b.Name}`)
    }
    expect(doc.Owner.ID).toMatch(/^[0-9a-f]{64}$/)
    expect(doc.Owner.DisplayName).toBeUndefined()
    const sdk = await s3.send(new ListBucketsCommand({}))
    expect(sdk.Buckets?.map((b) => b.Name)).toEqual(names)
  })

  it('ListBuckets with prefix and max-buckets pages with a ContinuationToken', async () => {
    for (const b of ['page-1', 'page-2', 'page-3']) await s3.send(new CreateBucketCommand({ Bucket: b }))
    const first = await s3.send(new ListBucketsCommand({ Prefix: 'page-', MaxBuckets: 2 }))
    expect(first.Buckets?.map((b) => b.Name)).toEqual(['page-1', 'page-2'])
    expect(first.Prefix).toBe('page-')
    expect(first.ContinuationToken).toBeTruthy()
    const second = await s3.send(
      new ListBucketsCommand({ Prefix: 'page-', MaxBuckets: 2, ContinuationToken: first.ContinuationToken }),
    )
    expect(second.Buckets?.map((b) => b.Name)).toEqual(['page-3'])
    expect(second.ContinuationToken).toBeUndefined()
  })

  it('ListBuckets with bucket-region lists only the buckets of that region', async () => {
    await clientIn('ap-south-1').send(
      new CreateBucketCommand({
        Bucket: 'bkt-mumbai',
        CreateBucketConfiguration: { LocationConstraint: 'ap-south-1' },
      }),
    )
    const out = await s3.send(new ListBucketsCommand({ BucketRegion: 'ap-south-1' }))
    expect(out.Buckets?.map((b) => [b.Name, b.BucketRegion])).toEqual([['bkt-mumbai', 'ap-south-1']])
  })

  it('BKT-10 ListBuckets with bucket-region=eu-east-1 answers 400 InvalidArgument', async () => {
    await expectSdkError(s3.send(new ListBucketsCommand({ BucketRegion: 'eu-east-1' })), {
      status: 400,
      code: 'InvalidArgument',
      message: 'Argument value eu-east-1 is not a valid AWS Region',
      fields: { ArgumentName: 'bucket-region' },
    })
  })

  it('BKT-11 HeadBucket of an existing bucket answers 200 with x-amz-bucket-region, x-amz-bucket-arn, x-amz-access-point-alias: false', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'bkt-11' }))
    const res = await signedSend(srv.port, { method: 'HEAD', path: '/bkt-11' })
    expect(res.status).toBe(200)
    expect(res.headers['x-amz-bucket-region']).toBe('us-east-1')
    expect(res.headers['x-amz-bucket-arn']).toBe('arn:aws:s3:::bkt-11')
    expect(res.headers['x-amz-access-point-alias']).toBe('false')
    const out = await s3.send(new HeadBucketCommand({ Bucket: 'bkt-11' }))
    expect(out.BucketRegion).toBe('us-east-1')
    expect(out.AccessPointAlias).toBe(false)
  })

  it('BKT-12 HeadBucket of a missing bucket answers 404 without a body', async () => {
    const res = await signedSend(srv.port, { method: 'HEAD', path: '/no-such-bucket-12' })
    expect(res.status).toBe(404)
    expect(res.body.length).toBe(0)
    await expectSdkHeadError(s3.send(new HeadBucketCommand({ Bucket: 'no-such-bucket-12' })), 404)
  })

  it('BKT-13 DeleteBucket of a bucket with one object answers 409 BucketNotEmpty with BucketName', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'bkt-13' }))
    await s3.send(new PutObjectCommand({ Bucket: 'bkt-13', Key: 'one', Body: '1' }))
    await expectSdkError(s3.send(new DeleteBucketCommand({ Bucket: 'bkt-13' })), {
      status: 409,
      code: 'BucketNotEmpty',
      message: 'The bucket you tried to delete is not empty',
      fields: { BucketName: 'bkt-13' },
    })
  })

  it('BKT-14 DeleteBucket of an empty bucket with an in-progress multipart upload answers 204 (inferred)', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'bkt-14' }))
    await s3.send(new CreateMultipartUploadCommand({ Bucket: 'bkt-14', Key: 'pending' }))
    const res = await signedSend(srv.port, { method: 'DELETE', path: '/bkt-14' })
    expect(res.status).toBe(204)
    expect(res.body.length).toBe(0)
    await expectSdkHeadError(s3.send(new HeadBucketCommand({ Bucket: 'bkt-14' })), 404)
  })

  it('DeleteBucket of a missing bucket answers 404 NoSuchBucket', async () => {
    await expectSdkError(s3.send(new DeleteBucketCommand({ Bucket: 'no-such-bucket-del' })), {
      status: 404,
      code: 'NoSuchBucket',
      message: 'The specified bucket does not exist',
      fields: { BucketName: 'no-such-bucket-del' },
    })
  })

  it('BKT-15 GetBucketLocation of a us-east-1 bucket answers an empty LocationConstraint', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'bkt-15' }))
    const res = await signedSend(srv.port, { method: 'GET', path: '/bkt-15', query: { location: '' } })
    expect(res.status).toBe(200)
    expect(res.text.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true)
    const el = parseXml(res.text).LocationConstraint
    expect(el['@_xmlns']).toBe(NS)
    expect(el['#text'] ?? '').toBe('')
    const out = await s3.send(new GetBucketLocationCommand({ Bucket: 'bkt-15' }))
    expect(out.LocationConstraint ?? '').toBe('')
  })

  it('BKT-16 GetBucketLocation of an eu-west-1 bucket answers <LocationConstraint>eu-west-1</LocationConstraint>', async () => {
    const eu = clientIn('eu-west-1')
    await eu.send(
      new CreateBucketCommand({ Bucket: 'bkt-16', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }),
    )
    const out = await eu.send(new GetBucketLocationCommand({ Bucket: 'bkt-16' }))
    expect(out.LocationConstraint).toBe('eu-west-1')
    const res = await signedSend(
      srv.port,
      { method: 'GET', path: '/bkt-16', query: { location: '' } },
      { region: 'eu-west-1' },
    )
    expect(parseXml(res.text).LocationConstraint['#text']).toBe('eu-west-1')
  })

  it('CreateBucket of a bucket in another region by a path-style request answers Location /<bucket> (a bucket.127.0.0.1 host would not resolve)', async () => {
    const body =
      '<CreateBucketConfiguration><LocationConstraint>eu-central-1</LocationConstraint></CreateBucketConfiguration>'
    const res = await signedSend(srv.port, { method: 'PUT', path: '/bkt-frankfurt', body })
    expect(res.status).toBe(200)
    expect(res.headers.location).toBe('/bkt-frankfurt')
    expect(res.headers['x-amz-bucket-arn']).toBe('arn:aws:s3:::bkt-frankfurt')
  })

  it('BKT-17 object operations on a missing bucket answer 404 NoSuchBucket with BucketName', async () => {
    const want = {
      status: 404,
      code: 'NoSuchBucket',
      message: 'The specified bucket does not exist',
      fields: { BucketName: 'no-such-bucket-17' },
    }
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket-17', Key: 'k' })), want)
    await expectSdkError(s3.send(new PutObjectCommand({ Bucket: 'no-such-bucket-17', Key: 'k', Body: 'x' })), want)
    await expectSdkError(s3.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket-17' })), want)
    await expectSdkError(s3.send(new CreateMultipartUploadCommand({ Bucket: 'no-such-bucket-17', Key: 'k' })), want)
  })

  it('BKT-18 x-amz-expected-bucket-owner naming another account answers 403 AccessDenied; the own account is accepted', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'bkt-18' }))
    await expectSdkError(s3.send(new ListObjectsV2Command({ Bucket: 'bkt-18', ExpectedBucketOwner: '111111111111' })), {
      status: 403,
      code: 'AccessDenied',
    })
    await expectSdkHeadError(
      s3.send(new HeadBucketCommand({ Bucket: 'bkt-18', ExpectedBucketOwner: '111111111111' })),
      403,
    )
    const ok = await s3.send(new ListObjectsV2Command({ Bucket: 'bkt-18', ExpectedBucketOwner: '000000000000' }))
    expect(ok.KeyCount).toBe(0)
  })

  it('a request to a bucket of another region signed for us-east-1 answers 400 AuthorizationHeaderMalformed with Region', async () => {
    await clientIn('eu-west-2').send(
      new CreateBucketCommand({ Bucket: 'bkt-london', CreateBucketConfiguration: { LocationConstraint: 'eu-west-2' } }),
    )
    const res = await signedSend(srv.port, { method: 'GET', path: '/bkt-london', query: { 'list-type': '2' } })
    expectRawError(res, {
      status: 400,
      code: 'AuthorizationHeaderMalformed',
      message: "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-2'",
      fields: { Region: 'eu-west-2' },
    })
  })
})
