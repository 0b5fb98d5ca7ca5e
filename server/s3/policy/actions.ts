/**
 * @module S3 action names: the ones a policy may name (validation), and the action each S3
 * operation is authorized as (docs/s3-sse-rules.md §5.6).
 */
import type { S3Operation } from '../route.js'
import { wildcardMatch } from './match.js'

/** The S3 actions of the AWS Service Authorization Reference that a bucket policy may name. */
const S3_ACTIONS = [
  'AbortMultipartUpload',
  'BypassGovernanceRetention',
  'CreateBucket',
  'DeleteBucket',
  'DeleteBucketOwnershipControls',
  'DeleteBucketPolicy',
  'DeleteBucketWebsite',
  'DeleteObject',
  'DeleteObjectTagging',
  'DeleteObjectVersion',
  'DeleteObjectVersionTagging',
  'GetAccelerateConfiguration',
  'GetAnalyticsConfiguration',
  'GetBucketAcl',
  'GetBucketCORS',
  'GetBucketLocation',
  'GetBucketLogging',
  'GetBucketNotification',
  'GetBucketObjectLockConfiguration',
  'GetBucketOwnershipControls',
  'GetBucketPolicy',
  'GetBucketPolicyStatus',
  'GetBucketPublicAccessBlock',
  'GetBucketRequestPayment',
  'GetBucketTagging',
  'GetBucketVersioning',
  'GetBucketWebsite',
  'GetEncryptionConfiguration',
  'GetIntelligentTieringConfiguration',
  'GetInventoryConfiguration',
  'GetLifecycleConfiguration',
  'GetMetricsConfiguration',
  'GetObject',
  'GetObjectAcl',
  'GetObjectAttributes',
  'GetObjectLegalHold',
  'GetObjectRetention',
  'GetObjectTagging',
  'GetObjectTorrent',
  'GetObjectVersion',
  'GetObjectVersionAcl',
  'GetObjectVersionAttributes',
  'GetObjectVersionForReplication',
  'GetObjectVersionTagging',
  'GetObjectVersionTorrent',
  'GetReplicationConfiguration',
  'ListBucket',
  'ListBucketMultipartUploads',
  'ListBucketVersions',
  'ListMultipartUploadParts',
  'ObjectOwnerOverrideToBucketOwner',
  'PutAccelerateConfiguration',
  'PutAnalyticsConfiguration',
  'PutBucketAcl',
  'PutBucketCORS',
  'PutBucketLogging',
  'PutBucketNotification',
  'PutBucketObjectLockConfiguration',
  'PutBucketOwnershipControls',
  'PutBucketPolicy',
  'PutBucketPublicAccessBlock',
  'PutBucketRequestPayment',
  'PutBucketTagging',
  'PutBucketVersioning',
  'PutBucketWebsite',
  'PutEncryptionConfiguration',
  'PutIntelligentTieringConfiguration',
  'PutInventoryConfiguration',
  'PutLifecycleConfiguration',
  'PutMetricsConfiguration',
  'PutObject',
  'PutObjectAcl',
  'PutObjectLegalHold',
  'PutObjectRetention',
  'PutObjectTagging',
  'PutObjectVersionAcl',
  'PutObjectVersionTagging',
  'PutReplicationConfiguration',
  'ReplicateDelete',
  'ReplicateObject',
  'ReplicateTags',
  'RestoreObject',
  'ListAllMyBuckets',
  'GetBucketOwnershipControls',
  'PutObjectEncryption',
  'RenameObject',
  'GetBucketAbac',
  'PutBucketAbac',
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

/** The KMS actions of the AWS Service Authorization Reference a key or identity policy may name. */
const KMS_ACTIONS = [
  'CancelKeyDeletion',
  'ConnectCustomKeyStore',
  'CreateAlias',
  'CreateCustomKeyStore',
  'CreateGrant',
  'CreateKey',
  'Decrypt',
  'DeleteAlias',
  'DeleteCustomKeyStore',
  'DeleteImportedKeyMaterial',
  'DeriveSharedSecret',
  'DescribeCustomKeyStores',
  'DescribeKey',
  'DisableKey',
  'DisableKeyRotation',
  'DisconnectCustomKeyStore',
  'EnableKey',
  'EnableKeyRotation',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'GenerateDataKeyWithoutPlaintext',
  'GenerateMac',
  'GenerateRandom',
  'GetKeyPolicy',
  'GetKeyRotationStatus',
  'GetParametersForImport',
  'GetPublicKey',
  'ImportKeyMaterial',
  'ListAliases',
  'ListGrants',
  'ListKeyPolicies',
  'ListKeyRotations',
  'ListKeys',
  'ListResourceTags',
  'ListRetirableGrants',
  'PutKeyPolicy',
  'ReEncryptFrom',
  'ReEncryptTo',
  'ReplicateKey',
  'RetireGrant',
  'RevokeGrant',
  'RotateKeyOnDemand',
  'ScheduleKeyDeletion',
  'Sign',
  'SynchronizeMultiRegionKey',
  'TagResource',
  'UntagResource',
  'UpdateAlias',
  'UpdateCustomKeyStore',
  'UpdateKeyDescription',
  'UpdatePrimaryRegion',
  'Verify',
  'VerifyMac',
].map((a) => `kms:${a}`.toLowerCase())

/** The STS actions a trust or identity policy may name. */
const STS_ACTIONS = [
  'AssumeRole',
  'AssumeRoleWithSAML',
  'AssumeRoleWithWebIdentity',
  'DecodeAuthorizationMessage',
  'GetAccessKeyInfo',
  'GetCallerIdentity',
  'GetFederationToken',
  'GetServiceBearerToken',
  'GetSessionToken',
  'SetContext',
  'SetSourceIdentity',
  'TagSession',
].map((a) => `sts:${a}`.toLowerCase())

const BY_SERVICE: Record<string, readonly string[]> = { s3: S3_ACTIONS, kms: KMS_ACTIONS, sts: STS_ACTIONS }
/** The services each kind of document may name (identity and session policies: all of them). */
const SERVICES_OF: Record<'identity' | 'session' | 'key' | 'trust', readonly string[]> = {
  identity: ['s3', 'kms', 'sts'],
  session: ['s3', 'kms', 'sts'],
  key: ['kms'],
  trust: ['sts'],
}

/**
 * Whether an identity, session, key or trust policy may name this action: `*`, or a known action
 * (or a wildcard pattern matching one) of a service that kind of document covers. Identity and
 * session policies may also name other services' actions (`ec2:*`): IAM accepts them, and they
 * never match a request this store serves.
 */
export function isKnownPolicyAction(action: string, kind: 'identity' | 'session' | 'key' | 'trust'): boolean {
  if (action === '*') return true
  const lower = action.toLowerCase()
  const colon = lower.indexOf(':')
  if (colon <= 0 || colon === lower.length - 1) return false
  const service = lower.slice(0, colon)
  if (!SERVICES_OF[kind].includes(service))
    return (kind === 'identity' || kind === 'session') && /^[a-z0-9-]+$/.test(service)
  const known = BY_SERVICE[service]
  if (!/[*?]/.test(lower)) return known.includes(lower)
  return known.some((a) => wildcardMatch(lower, a))
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

/** The action of each bucket-scoped operation (docs/s3-sse-rules.md §5.6: s3:PutObject covers the writes). */
export function accessFor(op: S3Operation): Access | undefined {
  switch (op.kind) {
    case 'ListBuckets':
      return undefined
    case 'CreateBucket':
      return { action: 's3:CreateBucket' }
    case 'DeleteBucket':
      return { action: 's3:DeleteBucket' }
    case 'HeadBucket':
      return { action: 's3:ListBucket' }
    case 'GetBucketLocation':
      return { action: 's3:GetBucketLocation' }
    case 'GetBucketEncryption':
      return { action: 's3:GetEncryptionConfiguration' }
    case 'PutBucketEncryption':
    case 'DeleteBucketEncryption':
      return { action: 's3:PutEncryptionConfiguration' }
    case 'GetBucketPolicy':
      return { action: 's3:GetBucketPolicy' }
    case 'PutBucketPolicy':
      return { action: 's3:PutBucketPolicy' }
    case 'DeleteBucketPolicy':
      return { action: 's3:DeleteBucketPolicy' }
    case 'GetBucketPolicyStatus':
      return { action: 's3:GetBucketPolicyStatus' }
    case 'GetBucketAcl':
      return { action: 's3:GetBucketAcl' }
    case 'PutBucketAcl':
      return { action: 's3:PutBucketAcl' }
    case 'GetBucketOwnershipControls':
      return { action: 's3:GetBucketOwnershipControls' }
    case 'PutBucketOwnershipControls':
    case 'DeleteBucketOwnershipControls':
      return { action: 's3:PutBucketOwnershipControls' }
    case 'GetPublicAccessBlock':
      return { action: 's3:GetBucketPublicAccessBlock' }
    case 'PutPublicAccessBlock':
    case 'DeletePublicAccessBlock':
      return { action: 's3:PutBucketPublicAccessBlock' }
    case 'GetObjectAcl':
      return { action: op.versionId !== undefined ? 's3:GetObjectVersionAcl' : 's3:GetObjectAcl', key: op.key }
    case 'PutObjectAcl':
      return { action: op.versionId !== undefined ? 's3:PutObjectVersionAcl' : 's3:PutObjectAcl', key: op.key }
    case 'GetBucketVersioning':
      return { action: 's3:GetBucketVersioning' }
    case 'PutBucketVersioning':
      return { action: 's3:PutBucketVersioning' }
    case 'ListObjectVersions':
      return { action: 's3:ListBucketVersions' }
    case 'GetObjectLockConfiguration':
      return { action: 's3:GetBucketObjectLockConfiguration' }
    case 'PutObjectLockConfiguration':
      return { action: 's3:PutBucketObjectLockConfiguration' }
    case 'GetObjectRetention':
      return { action: 's3:GetObjectRetention', key: op.key }
    case 'PutObjectRetention':
      return { action: 's3:PutObjectRetention', key: op.key }
    case 'GetObjectLegalHold':
      return { action: 's3:GetObjectLegalHold', key: op.key }
    case 'PutObjectLegalHold':
      return { action: 's3:PutObjectLegalHold', key: op.key }
    case 'GetBucketLifecycleConfiguration':
      return { action: 's3:GetLifecycleConfiguration' }
    case 'PutBucketLifecycleConfiguration':
    case 'DeleteBucketLifecycle':
      return { action: 's3:PutLifecycleConfiguration' }
    case 'ListObjects':
    case 'ListObjectsV2':
      return { action: 's3:ListBucket' }
    case 'ListMultipartUploads':
      return { action: 's3:ListBucketMultipartUploads' }
    case 'DeleteObjects':
      return { action: 's3:DeleteObject', perKey: true }
    // Authorized as the PutObject it becomes, once its form names the key (ops/object-post.ts).
    case 'PostObject':
      return undefined
    case 'GetObject':
    case 'HeadObject':
      return { action: op.versionId !== undefined ? 's3:GetObjectVersion' : 's3:GetObject', key: op.key }
    case 'PutObject':
    case 'CopyObject':
    case 'CreateMultipartUpload':
    case 'UploadPart':
    case 'UploadPartCopy':
    case 'CompleteMultipartUpload':
      return { action: 's3:PutObject', key: op.key }
    case 'DeleteObject':
      return { action: op.versionId !== undefined ? 's3:DeleteObjectVersion' : 's3:DeleteObject', key: op.key }
    case 'AbortMultipartUpload':
      return { action: 's3:AbortMultipartUpload', key: op.key }
    case 'ListParts':
      return { action: 's3:ListMultipartUploadParts', key: op.key }
    case 'GetBucketCors':
      return { action: 's3:GetBucketCORS' }
    case 'PutBucketCors':
    case 'DeleteBucketCors':
      return { action: 's3:PutBucketCORS' }
    // A preflight is answered from the CORS rules alone, unauthenticated, as S3 answers it.
    case 'OptionsPreflight':
      return undefined
    case 'GetBucketTagging':
      return { action: 's3:GetBucketTagging' }
    case 'PutBucketTagging':
    case 'DeleteBucketTagging':
      return { action: 's3:PutBucketTagging' }
    case 'GetObjectTagging':
      return { action: op.versionId !== undefined ? 's3:GetObjectVersionTagging' : 's3:GetObjectTagging', key: op.key }
    case 'PutObjectTagging':
      return { action: op.versionId !== undefined ? 's3:PutObjectVersionTagging' : 's3:PutObjectTagging', key: op.key }
    case 'DeleteObjectTagging':
      return {
        action: op.versionId !== undefined ? 's3:DeleteObjectVersionTagging' : 's3:DeleteObjectTagging',
        key: op.key,
      }
    case 'GetObjectAttributes':
      return {
        action: op.versionId !== undefined ? 's3:GetObjectVersionAttributes' : 's3:GetObjectAttributes',
        key: op.key,
      }
    default: {
      const unreachable: never = op
      throw new Error(`no action for ${JSON.stringify(unreachable)}`)
    }
  }
}
