/** @module S3Operation -> handler: the only big switch. Adding an operation without a handler fails to compile. */
import type { S3Request, S3Result, Services } from './context.js'
import { deleteBucketCors, getBucketCors, optionsPreflight, putBucketCors } from './ops/bucket-cors.js'
import { getBucketAcl, getObjectAcl, putBucketAcl, putObjectAcl } from './ops/acl.js'
import {
  deleteBucketOwnershipControls,
  deletePublicAccessBlock,
  getBucketOwnershipControls,
  getPublicAccessBlock,
  putBucketOwnershipControls,
  putPublicAccessBlock,
} from './ops/bucket-ownership.js'
import { deleteBucketEncryption, getBucketEncryption, putBucketEncryption } from './ops/bucket-encryption.js'
import { createBucket, deleteBucket, getBucketLocation, headBucket } from './ops/bucket.js'
import { deleteBucketPolicy, getBucketPolicy, getBucketPolicyStatus, putBucketPolicy } from './ops/bucket-policy.js'
import {
  deleteBucketLifecycle,
  getBucketLifecycleConfiguration,
  putBucketLifecycleConfiguration,
} from './ops/lifecycle.js'
import { listObjects, listObjectsV2 } from './ops/list.js'
import { getBucketVersioning, listObjectVersions, putBucketVersioning } from './ops/versioning.js'
import {
  getObjectLegalHold,
  getObjectLockConfiguration,
  getObjectRetention,
  putObjectLegalHold,
  putObjectLockConfiguration,
  putObjectRetention,
} from './ops/object-lock.js'
import {
  abortMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
  uploadPartCopy,
} from './ops/multipart.js'
import { completeMultipartUpload } from './ops/multipart-complete.js'
import { deleteObject, deleteObjects } from './ops/object-delete.js'
import { getObject } from './ops/object-get.js'
import { copyObject, putObject } from './ops/object-put.js'
import { postObject } from './ops/object-post.js'
import { listBuckets } from './ops/service.js'
import { refuseUnimplementedHeaders } from './unsupported-headers.js'
import {
  deleteBucketTagging,
  deleteObjectTagging,
  getBucketTagging,
  getObjectTagging,
  putBucketTagging,
  putObjectTagging,
} from './ops/tagging.js'
import { getObjectAttributes } from './ops/object-attributes.js'

export async function dispatch(svc: Services, req: S3Request): Promise<S3Result> {
  const op = req.op
  refuseUnimplementedHeaders(op.kind, req.headers)
  switch (op.kind) {
    case 'ListBuckets':
      return listBuckets(svc, req)
    case 'CreateBucket':
      return createBucket(svc, req, op.bucket)
    case 'HeadBucket':
      return headBucket(svc, req, op.bucket)
    case 'DeleteBucket':
      return deleteBucket(svc, req, op.bucket)
    case 'GetBucketLocation':
      return getBucketLocation(svc, req, op.bucket)
    case 'GetBucketEncryption':
      return getBucketEncryption(svc, req, op.bucket)
    case 'PutBucketEncryption':
      return putBucketEncryption(svc, req, op.bucket)
    case 'DeleteBucketEncryption':
      return deleteBucketEncryption(svc, req, op.bucket)
    case 'GetBucketPolicy':
      return getBucketPolicy(svc, req, op.bucket)
    case 'PutBucketPolicy':
      return putBucketPolicy(svc, req, op.bucket)
    case 'DeleteBucketPolicy':
      return deleteBucketPolicy(svc, req, op.bucket)
    case 'GetBucketPolicyStatus':
      return getBucketPolicyStatus(svc, req, op.bucket)
    case 'GetBucketAcl':
      return getBucketAcl(svc, req, op.bucket)
    case 'PutBucketAcl':
      return putBucketAcl(svc, req, op.bucket)
    case 'GetBucketOwnershipControls':
      return getBucketOwnershipControls(svc, req, op.bucket)
    case 'PutBucketOwnershipControls':
      return putBucketOwnershipControls(svc, req, op.bucket)
    case 'DeleteBucketOwnershipControls':
      return deleteBucketOwnershipControls(svc, req, op.bucket)
    case 'GetPublicAccessBlock':
      return getPublicAccessBlock(svc, req, op.bucket)
    case 'PutPublicAccessBlock':
      return putPublicAccessBlock(svc, req, op.bucket)
    case 'DeletePublicAccessBlock':
      return deletePublicAccessBlock(svc, req, op.bucket)
    case 'GetObjectAcl':
      return getObjectAcl(svc, req, op.bucket, op.key, op.versionId)
    case 'PutObjectAcl':
      return putObjectAcl(svc, req, op.bucket, op.key, op.versionId)
    case 'GetBucketVersioning':
      return getBucketVersioning(svc, req, op.bucket)
    case 'PutBucketVersioning':
      return putBucketVersioning(svc, req, op.bucket)
    case 'ListObjectVersions':
      return listObjectVersions(svc, req, op.bucket)
    case 'GetObjectLockConfiguration':
      return getObjectLockConfiguration(svc, req, op.bucket)
    case 'PutObjectLockConfiguration':
      return putObjectLockConfiguration(svc, req, op.bucket)
    case 'GetObjectRetention':
      return getObjectRetention(svc, req, op.bucket, op.key)
    case 'PutObjectRetention':
      return putObjectRetention(svc, req, op.bucket, op.key)
    case 'GetObjectLegalHold':
      return getObjectLegalHold(svc, req, op.bucket, op.key)
    case 'PutObjectLegalHold':
      return putObjectLegalHold(svc, req, op.bucket, op.key)
    case 'GetBucketLifecycleConfiguration':
      return getBucketLifecycleConfiguration(svc, req, op.bucket)
    case 'PutBucketLifecycleConfiguration':
      return putBucketLifecycleConfiguration(svc, req, op.bucket)
    case 'DeleteBucketLifecycle':
      return deleteBucketLifecycle(svc, req, op.bucket)
    case 'ListObjects':
      return listObjects(svc, req, op.bucket)
    case 'ListObjectsV2':
      return listObjectsV2(svc, req, op.bucket)
    case 'ListMultipartUploads':
      return listMultipartUploads(svc, req, op.bucket)
    case 'DeleteObjects':
      return deleteObjects(svc, req, op.bucket)
    case 'PutObject':
      return putObject(svc, req, op.bucket, op.key)
    case 'PostObject':
      return postObject(svc, req, op.bucket)
    case 'CopyObject':
      return copyObject(svc, req, op.bucket, op.key)
    case 'GetObject':
      return getObject(svc, req, op.bucket, op.key)
    case 'HeadObject':
      return getObject(svc, req, op.bucket, op.key)
    case 'DeleteObject':
      return deleteObject(svc, req, op.bucket, op.key)
    case 'CreateMultipartUpload':
      return createMultipartUpload(svc, req, op.bucket, op.key)
    case 'UploadPart':
      return uploadPart(svc, req, op)
    case 'UploadPartCopy':
      return uploadPartCopy(svc, req, op)
    case 'CompleteMultipartUpload':
      return completeMultipartUpload(svc, req, op)
    case 'AbortMultipartUpload':
      return abortMultipartUpload(svc, req, op)
    case 'ListParts':
      return listParts(svc, req, op)
    case 'GetBucketCors':
      return getBucketCors(svc, req, op.bucket)
    case 'PutBucketCors':
      return putBucketCors(svc, req, op.bucket)
    case 'DeleteBucketCors':
      return deleteBucketCors(svc, req, op.bucket)
    case 'OptionsPreflight':
      return optionsPreflight(svc, req, op)
    case 'GetBucketTagging':
      return getBucketTagging(svc, req, op.bucket)
    case 'PutBucketTagging':
      return putBucketTagging(svc, req, op.bucket)
    case 'DeleteBucketTagging':
      return deleteBucketTagging(svc, req, op.bucket)
    case 'GetObjectTagging':
      return getObjectTagging(svc, req, op)
    case 'PutObjectTagging':
      return putObjectTagging(svc, req, op)
    case 'DeleteObjectTagging':
      return deleteObjectTagging(svc, req, op)
    case 'GetObjectAttributes':
      return getObjectAttributes(svc, req, op)
    default: {
      const unreachable: never = op
      throw new Error(`unhandled operation ${JSON.stringify(unreachable)}`)
    }
  }
}
