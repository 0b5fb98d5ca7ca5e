import { describe, expect, it } from 'vitest'
import { S3Error } from '../../../server/s3/errors.js'
import { newUploadId } from '../../../server/s3/ops/multipart.js'
import {
  bucketFromHost,
  canBeBucketName,
  canBeUploadId,
  parseOperation,
  parseTarget,
} from '../../../server/s3/route.js'
import { parseVersionId } from '../../../server/s3/ops/versioning.js'

function kindOf(method: string, target: string, headers: Record<string, string> = {}, vhost?: string) {
  return parseOperation(method, parseTarget(target), headers, vhost)
}

describe('parseOperation', () => {
  const rows: Array<[string, string, Record<string, string>, string, Record<string, unknown>?]> = [
    ['GET', '/', {}, 'ListBuckets'],
    ['PUT', '/b', {}, 'CreateBucket', { bucket: 'b' }],
    ['PUT', '/b/', {}, 'CreateBucket', { bucket: 'b' }],
    ['HEAD', '/b', {}, 'HeadBucket'],
    ['DELETE', '/b', {}, 'DeleteBucket'],
    ['GET', '/b?location', {}, 'GetBucketLocation'],
    ['GET', '/b', {}, 'ListObjects'],
    ['GET', '/b?list-type=2&prefix=a', {}, 'ListObjectsV2'],
    ['GET', '/b?uploads', {}, 'ListMultipartUploads'],
    ['POST', '/b?delete', {}, 'DeleteObjects'],
    ['POST', '/b', {}, 'PostObject'],
    ['PUT', '/b/k', {}, 'PutObject', { key: 'k' }],
    ['PUT', '/b/k', { 'x-amz-copy-source': '/s/k' }, 'CopyObject'],
    ['GET', '/b/k', {}, 'GetObject'],
    ['HEAD', '/b/k', {}, 'HeadObject'],
    ['DELETE', '/b/k', {}, 'DeleteObject'],
    ['POST', '/b/k?uploads', {}, 'CreateMultipartUpload'],
    ['PUT', '/b/k?partNumber=1&uploadId=u', {}, 'UploadPart', { uploadId: 'u', partNumber: '1' }],
    ['PUT', '/b/k?partNumber=2&uploadId=u', { 'x-amz-copy-source': 'b/x' }, 'UploadPartCopy'],
    ['POST', '/b/k?uploadId=u', {}, 'CompleteMultipartUpload'],
    ['DELETE', '/b/k?uploadId=u', {}, 'AbortMultipartUpload'],
    ['GET', '/b/k?uploadId=u', {}, 'ListParts'],
    ['GET', '/b?cors', {}, 'GetBucketCors'],
    ['PUT', '/b?cors', {}, 'PutBucketCors'],
    ['DELETE', '/b?cors', {}, 'DeleteBucketCors'],
    ['OPTIONS', '/b/k', {}, 'OptionsPreflight', { bucket: 'b', key: 'k' }],
    ['OPTIONS', '/b', {}, 'OptionsPreflight', { bucket: 'b', key: '' }],
    ['OPTIONS', '/b/k?acl', {}, 'OptionsPreflight'],
  ]
  it.each(rows)('%s %s is %s', (method, target, headers, kind, extra) => {
    const op = kindOf(method, target, headers)
    expect(op.kind).toBe(kind)
    if (extra) expect(op).toMatchObject(extra)
  })

  it('ADDR-03 keys keep //, ./, ../, %2B, spaces and unicode, decoded exactly once', () => {
    expect(kindOf('GET', '/b/a//b/./c/../d')).toMatchObject({ key: 'a//b/./c/../d' })
    expect(kindOf('GET', '/b/a%2Bb+c%20d')).toMatchObject({ key: 'a+b+c d' })
    expect(kindOf('GET', '/b/%C3%A9%E4%B8%AD')).toMatchObject({ key: 'é中' })
    expect(kindOf('GET', '/b/%2525')).toMatchObject({ key: '%25' })
    expect(kindOf('GET', '/b/../../x')).toMatchObject({ bucket: 'b', key: '../../x' })
  })

  it('ADDR-02 a virtual-hosted request takes the whole path as the key', () => {
    expect(kindOf('GET', '/a/b', {}, 'photos')).toMatchObject({ kind: 'GetObject', bucket: 'photos', key: 'a/b' })
    expect(kindOf('GET', '/?list-type=2', {}, 'photos')).toMatchObject({ kind: 'ListObjectsV2', bucket: 'photos' })
  })

  it('unsupported sub-resources answer 501 NotImplemented, never a wrong success (contract-defined)', () => {
    for (const t of [
      '/b?website',
      '/b?replication',
      '/b?notification',
      '/b/k?lifecycle',
      '/b/k?restore',
      '/b/k?select',
    ]) {
      expect(() => kindOf('GET', t)).toThrowError(expect.objectContaining({ code: 'NotImplemented' }))
    }
  })

  it('?object-lock on a bucket, ?retention and ?legal-hold on an object are the Object Lock operations', () => {
    expect(kindOf('GET', '/b?object-lock').kind).toBe('GetObjectLockConfiguration')
    expect(kindOf('PUT', '/b?object-lock').kind).toBe('PutObjectLockConfiguration')
    expect(kindOf('GET', '/b/k?retention&versionId=null')).toMatchObject({
      kind: 'GetObjectRetention',
      key: 'k',
      versionId: 'null',
    })
    expect(kindOf('PUT', '/b/k?retention').kind).toBe('PutObjectRetention')
    expect(kindOf('GET', '/b/k?legal-hold').kind).toBe('GetObjectLegalHold')
    expect(kindOf('PUT', '/b/k?legal-hold').kind).toBe('PutObjectLegalHold')
    expect(() => kindOf('DELETE', '/b/k?retention')).toThrowError(expect.objectContaining({ code: 'MethodNotAllowed' }))
  })

  it('a refused subresource names the operation it asked for (for logs and metrics)', () => {
    const refusal = (method: string, t: string) => {
      try {
        kindOf(method, t)
      } catch (err) {
        return (err as S3Error).refused
      }
      return undefined
    }
    expect(refusal('GET', '/b?website')).toEqual({ operation: 'GetBucketWebsite', subresource: 'website' })
    expect(refusal('PUT', '/b?logging')).toEqual({ operation: 'PutBucketLogging', subresource: 'logging' })
    expect(refusal('POST', '/b/k?select&select-type=2')).toEqual({
      operation: 'SelectObjectContent',
      subresource: 'select',
    })
    expect(refusal('PUT', '/b/k?encryption')).toEqual({
      operation: 'UpdateObjectEncryption',
      subresource: 'encryption',
    })
  })

  it('?tagging is object or bucket tagging by method; ?attributes is GetObjectAttributes', () => {
    expect(kindOf('GET', '/b/k?tagging&versionId=null')).toMatchObject({
      kind: 'GetObjectTagging',
      bucket: 'b',
      key: 'k',
      versionId: 'null',
    })
    expect(kindOf('PUT', '/b/k?tagging').kind).toBe('PutObjectTagging')
    expect(kindOf('DELETE', '/b/k?tagging').kind).toBe('DeleteObjectTagging')
    expect(kindOf('GET', '/b?tagging').kind).toBe('GetBucketTagging')
    expect(kindOf('PUT', '/b?tagging').kind).toBe('PutBucketTagging')
    expect(kindOf('DELETE', '/b?tagging').kind).toBe('DeleteBucketTagging')
    expect(kindOf('GET', '/b/k?attributes').kind).toBe('GetObjectAttributes')
    expect(() => kindOf('POST', '/b/k?tagging')).toThrowError(expect.objectContaining({ code: 'MethodNotAllowed' }))
  })

  it('?acl, ?ownershipControls and ?publicAccessBlock are the access-control operations', () => {
    expect(kindOf('GET', '/b?acl')).toMatchObject({ kind: 'GetBucketAcl', bucket: 'b' })
    expect(kindOf('PUT', '/b?acl')).toMatchObject({ kind: 'PutBucketAcl', bucket: 'b' })
    expect(kindOf('GET', '/b/k?acl&versionId=null')).toMatchObject({
      kind: 'GetObjectAcl',
      bucket: 'b',
      key: 'k',
      versionId: 'null',
    })
    expect(kindOf('PUT', '/b/k?acl')).toMatchObject({ kind: 'PutObjectAcl', bucket: 'b', key: 'k' })
    for (const [method, kind] of [
      ['GET', 'GetBucketOwnershipControls'],
      ['PUT', 'PutBucketOwnershipControls'],
      ['DELETE', 'DeleteBucketOwnershipControls'],
    ]) {
      expect(kindOf(method, '/b?ownershipControls')).toMatchObject({ kind })
    }
    for (const [method, kind] of [
      ['GET', 'GetPublicAccessBlock'],
      ['PUT', 'PutPublicAccessBlock'],
      ['DELETE', 'DeletePublicAccessBlock'],
    ]) {
      expect(kindOf(method, '/b?publicAccessBlock')).toMatchObject({ kind })
    }
    expect(() => kindOf('DELETE', '/b?acl')).toThrowError(expect.objectContaining({ code: 'MethodNotAllowed' }))
  })

  it('?policy and ?policyStatus are the bucket-policy operations (docs/s3-sse-rules.md §5.6)', () => {
    expect(kindOf('GET', '/b?policy').kind).toBe('GetBucketPolicy')
    expect(kindOf('PUT', '/b?policy').kind).toBe('PutBucketPolicy')
    expect(kindOf('DELETE', '/b?policy').kind).toBe('DeleteBucketPolicy')
    expect(kindOf('GET', '/b?policyStatus').kind).toBe('GetBucketPolicyStatus')
    expect(() => kindOf('POST', '/b?policy')).toThrowError(expect.objectContaining({ code: 'MethodNotAllowed' }))
  })

  it('bad percent-encoding answers 400 InvalidURI', () => {
    try {
      kindOf('GET', '/b/%E0%A4%A')
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(S3Error)
      expect((err as S3Error).code).toBe('InvalidURI')
    }
  })

  it('methods S3 does not define answer 405 MethodNotAllowed', () => {
    expect(() => kindOf('PATCH', '/b/k')).toThrowError(expect.objectContaining({ code: 'MethodNotAllowed' }))
    expect(() => kindOf('PUT', '/')).toThrowError(expect.objectContaining({ code: 'MethodNotAllowed' }))
  })
})

describe('bucketFromHost', () => {
  const bases = ['localhost']
  it.each([
    ['photos.localhost:9000', 'photos'],
    ['Photos.LOCALHOST', 'photos'],
    ['my.dotted.bucket.localhost:9000', 'my.dotted.bucket'],
    ['photos.s3.localhost', 'photos'],
    ['photos.s3.us-east-1.localhost:9000', 'photos'],
    ['localhost:9000', undefined],
    ['127.0.0.1:9000', undefined],
    ['s3.localhost', undefined],
    ['s3.us-east-1.localhost', undefined],
    ['[::1]:9000', undefined],
    [undefined, undefined],
  ])('%s names bucket %s', (host, bucket) => {
    expect(bucketFromHost(host, bases)).toBe(bucket)
  })
})

describe('identifiers no record can have', () => {
  it.each([
    ['an id newUploadId issues', newUploadId(), true],
    ['1024 URL-safe characters', 'a'.repeat(1024), true],
    ['empty', '', false],
    ['a NUL', 'ab\0cd', false],
    ['1025 characters', 'a'.repeat(1025), false],
    ['non-ASCII', 'é', false],
    ['a slash', 'a/b', false],
  ])('Precondition: canBeUploadId of %s is %s', (_name, id, ok) => {
    expect(canBeUploadId(id)).toBe(ok)
  })

  it.each([
    ['b', true],
    ['a\0b', false],
    ['', false],
  ])('canBeBucketName(%j) is %s', (name, ok) => {
    expect(canBeBucketName(name)).toBe(ok)
  })

  it.each([
    [undefined, undefined],
    ['null', undefined],
    ['0123456789abcdef0123456789abcdef', undefined],
    ['', 'Version id cannot be the empty string'],
    ['3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY', 'Invalid version id specified'],
    ['0123456789ABCDEF0123456789ABCDEF', 'Invalid version id specified'],
  ])('parseVersionId(%j): "null" or one of our ids, anything else refused', (versionId, message) => {
    if (message === undefined) expect(parseVersionId(versionId)).toBe(versionId)
    else expect(() => parseVersionId(versionId)).toThrow(expect.objectContaining({ code: 'InvalidArgument', message }))
  })
})
