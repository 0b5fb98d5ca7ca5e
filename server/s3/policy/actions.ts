/**
 * @module S3 action names: the ones a policy may name (validation), and the action each S3
 * operation is authorized as (contract §5.6).
 */
import type { S3Operation } from '../route.js'
import { wildcardMatch } from './match.js'

/** The S3 actions of the AWS Service Authorization Reference that a bucket policy may name. */
const S3_ACTIONS = [
  'AbortMultipartUpload', 'BypassGovernanceRetention', 'CreateBucket', 'DeleteBucket', 'DeleteBucketOwnershipControls',
  'DeleteBucketPolicy', 'DeleteBucketWebsite', 'DeleteObject', 'DeleteObjectTagging', 'DeleteObjectVersion',
  'DeleteObjectVersionTagging', 'GetAccelerateConfiguration', 'GetAnalyticsConfiguration', 'GetBucketAcl', 'GetBucketCORS',
  'GetBucketLocation', 'GetBucketLogging', 'GetBucketNotification', 'GetBucketObjectLockConfiguration',
  'GetBucketOwnershipControls', 'GetBucketPolicy', 'GetBucketPolicyStatus', 'GetBucketPublicAccessBlock',
  'GetBucketRequestPayment', 'GetBucketTagging', 'GetBucketVersioning', 'GetBucketWebsite', 'GetEncryptionConfiguration',
  'GetIntelligentTieringConfiguration', 'GetInventoryConfiguration', 'GetLifecycleConfiguration', 'GetMetricsConfiguration',
  'GetObject', 'GetObjectAcl', 'GetObjectAttributes', 'GetObjectLegalHold', 'GetObjectRetention', 'GetObjectTagging',
  'GetObjectTorrent', 'GetObjectVersion', 'GetObjectVersionAcl', 'GetObjectVersionAttributes', 'GetObjectVersionForReplication',
  'GetObjectVersionTagging', 'GetObjectVersionTorrent', 'GetReplicationConfiguration', 'ListBucket',
  'ListBucketMultipartUploads', 'ListBucketVersions', 'ListMultipartUploadParts', 'ObjectOwnerOverrideToBucketOwner',
  'PutAccelerateConfiguration', 'PutAnalyticsConfiguration', 'PutBucketAcl', 'PutBucketCORS', 'PutBucketLogging',
  'PutBucketNotification', 'PutBucketObjectLockConfiguration', 'PutBucketOwnershipControls', 'PutBucketPolicy',
  'PutBucketPublicAccessBlock', 'PutBucketRequestPayment', 'PutBucketTagging', 'PutBucketVersioning', 'PutBucketWebsite',
  'PutEncryptionConfiguration', 'PutIntelligentTieringConfiguration', 'PutInventoryConfiguration', 'PutLifecycleConfiguration',
  'PutMetricsConfiguration', 'PutObject', 'PutObjectAcl', 'PutObjectLegalHold', 'PutObjectRetention', 'PutObjectTagging',
  'PutObjectVersionAcl', 'PutObjectVersionTagging', 'PutReplicationConfiguration', 'ReplicateDelete', 'ReplicateObject',
  'ReplicateTags', 'RestoreObject', 'ListAllMyBuckets', 'GetBucketOwnershipControls', 'PutObjectEncryption',
  'RenameObject', 'GetBucketAbac', 'PutBucketAbac',
].map((a) => `s3:${a}`.toLowerCase())

/**
 * Whether a policy may name this action: `*`, or `s3:` followed by a name or wildcard pattern
 * matching at least one S3 action (case-insensitive). Other services' actions are refused, as S3
 * refuses them in bucket policies.
 */
export function isKnownAction(action: string): boolean {
  if (action === '*') return true
  const lower = action.toLowerCase()
  if (!lower.startsWith('s3:')) return false
  if (!/[*?]/.test(lower)) return S3_ACTIONS.includes(lower)
  return S3_ACTIONS.some((a) => wildcardMatch(lower, a))
}

/** True if a policy's action pattern covers `action` (case-insensitive, wildcards). */
export function actionMatches(pattern: string, action: string): boolean {
  return wildcardMatch(pattern, action, true)
}

/** The action and resource an operation is authorized as; `key` undefined means the bucket ARN. */
export interface Access {
  action: string
  key?: string
  /** DeleteObjects: each key is authorized on its own. */
  perKey?: boolean
  /** A copy's read of its source: not judged on the destination's SSE header keys. */
  source?: boolean
}

/** The action of each bucket-scoped operation (contract §5.6: s3:PutObject covers the writes). */
export function accessFor(op: S3Operation): Access | undefined {
  switch (op.kind) {
    case 'ListBuckets': return undefined
    case 'CreateBucket': return { action: 's3:CreateBucket' }
    case 'DeleteBucket': return { action: 's3:DeleteBucket' }
    case 'HeadBucket': return { action: 's3:ListBucket' }
    case 'GetBucketLocation': return { action: 's3:GetBucketLocation' }
    case 'GetBucketEncryption': return { action: 's3:GetEncryptionConfiguration' }
    case 'PutBucketEncryption':
    case 'DeleteBucketEncryption': return { action: 's3:PutEncryptionConfiguration' }
    case 'GetBucketPolicy': return { action: 's3:GetBucketPolicy' }
    case 'PutBucketPolicy': return { action: 's3:PutBucketPolicy' }
    case 'DeleteBucketPolicy': return { action: 's3:DeleteBucketPolicy' }
    case 'GetBucketPolicyStatus': return { action: 's3:GetBucketPolicyStatus' }
    case 'GetBucketVersioning': return { action: 's3:GetBucketVersioning' }
    case 'PutBucketVersioning': return { action: 's3:PutBucketVersioning' }
    case 'ListObjectVersions': return { action: 's3:ListBucketVersions' }
    case 'ListObjects':
    case 'ListObjectsV2': return { action: 's3:ListBucket' }
    case 'ListMultipartUploads': return { action: 's3:ListBucketMultipartUploads' }
    case 'DeleteObjects': return { action: 's3:DeleteObject', perKey: true }
    case 'GetObject':
    case 'HeadObject': return { action: op.versionId !== undefined ? 's3:GetObjectVersion' : 's3:GetObject', key: op.key }
    case 'PutObject':
    case 'CopyObject':
    case 'CreateMultipartUpload':
    case 'UploadPart':
    case 'UploadPartCopy':
    case 'CompleteMultipartUpload': return { action: 's3:PutObject', key: op.key }
    case 'DeleteObject': return { action: op.versionId !== undefined ? 's3:DeleteObjectVersion' : 's3:DeleteObject', key: op.key }
    case 'AbortMultipartUpload': return { action: 's3:AbortMultipartUpload', key: op.key }
    case 'ListParts': return { action: 's3:ListMultipartUploadParts', key: op.key }
    default: {
      const unreachable: never = op
      throw new Error(`no action for ${JSON.stringify(unreachable)}`)
    }
  }
}
