/** @module Put/Get/DeleteBucketEncryption, including BlockedEncryptionTypes (docs/s3-sse-rules.md §5). */
import { AWS_MANAGED_S3_ALIAS, KmsError } from '../../../kms/types.js'
import type { BucketEncryptionConfig } from '../../../storage/types.js'
import type { S3Request, S3Result, Services } from '../context.js'
import { S3Error, invalidArgument } from '../errors.js'
import { readXml } from '../request-body.js'
import { textOf, xmlDocument } from '../xml.js'
import { updateBucket } from './bucket-update.js'
import { loadBucket, requireIntegrityHeader } from './common.js'

const ALGORITHMS = new Set(['AES256', 'aws:kms', 'aws:kms:dsse'])
/** Values of the enum that only apply to FSx/Backup access points (docs/s3-sse-rules.md §4.1): refused. */
const FOREIGN_ALGORITHMS = new Set(['aws:fsx', 'aws:backup'])

interface ParsedRule {
  encryption: BucketEncryptionConfig
  /** undefined: the rule leaves the current block setting unchanged (§5.2). */
  blocked?: string[]
}

function asObject(v: unknown): Record<string, unknown> {
  if (v === undefined || v === '') return {}
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new S3Error('MalformedXML')
  return v as Record<string, unknown>
}

/** Parses and validates one `ServerSideEncryptionConfiguration` (docs/s3-sse-rules.md §5.2). */
export function parseEncryptionConfiguration(doc: Record<string, unknown>): ParsedRule {
  const rules = doc.Rule
  if (!Array.isArray(rules) || rules.length !== 1) throw new S3Error('MalformedXML')
  const rule = asObject(rules[0])
  const apply = asObject(rule.ApplyServerSideEncryptionByDefault)
  const algorithm =
    rule.ApplyServerSideEncryptionByDefault === undefined ? 'AES256' : textOf(apply, 'SSEAlgorithm')?.trim()
  if (algorithm === undefined) throw new S3Error('MalformedXML')
  if (FOREIGN_ALGORITHMS.has(algorithm))
    throw invalidArgument('The encryption method specified is not supported', 'x-amz-server-side-encryption', algorithm)
  if (!ALGORITHMS.has(algorithm)) throw new S3Error('MalformedXML')
  const kmsKey = textOf(apply, 'KMSMasterKeyID')?.trim()
  if (kmsKey !== undefined && algorithm === 'AES256') {
    throw invalidArgument(
      'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse',
      'ApplyServerSideEncryptionByDefault',
    )
  }
  const bkRaw = textOf(rule, 'BucketKeyEnabled')?.trim().toLowerCase()
  if (bkRaw !== undefined && bkRaw !== 'true' && bkRaw !== 'false') throw new S3Error('MalformedXML')
  let blocked: string[] | undefined
  if (rule.BlockedEncryptionTypes !== undefined) {
    const types = asObject(rule.BlockedEncryptionTypes).EncryptionType
    const list = (Array.isArray(types) ? types : types === undefined ? [] : [types]).map((t) =>
      typeof t === 'string' ? t.trim() : '',
    )
    if (list.length !== 1 || (list[0] !== 'NONE' && list[0] !== 'SSE-C')) throw new S3Error('MalformedXML')
    blocked = list[0] === 'SSE-C' ? ['SSE-C'] : []
  }
  const encryption: BucketEncryptionConfig = {
    sseAlgorithm: algorithm as BucketEncryptionConfig['sseAlgorithm'],
    bucketKeyEnabled: bkRaw === 'true',
  }
  if (kmsKey) encryption.kmsMasterKeyId = kmsKey
  return { encryption, blocked }
}

/**
 * Refuses a default KMS key that the store's KMS says does not exist, so the mistake is answered
 * here rather than by every later write into the bucket. AWS's PutBucketEncryption reference says
 * S3 does not validate the key id; we check what our own KMS can answer, as the requesting account
 * (the account a key id or alias resolves in when that account writes), and refuse only a
 * NotFoundException (malformed id, unknown key or alias, ARN of another region) — with the
 * `KMS.NotFoundException` answer, status and KMS message a PutObject under that default would get.
 * A KMS that cannot be reached answers 503 (neither accepted unchecked nor called missing).
 * Accepted unchecked: `alias/aws/s3` (the AWS managed key is created on first use) and keys the
 * KMS will not describe to this caller (another account's key ARN, DescribeKey denied).
 */
async function checkDefaultKmsKey(svc: Services, req: S3Request, keyId: string | undefined): Promise<void> {
  if (keyId === undefined || keyId === AWS_MANAGED_S3_ALIAS || keyId.endsWith(`:${AWS_MANAGED_S3_ALIAS}`)) return
  // Without a KMS (handler unit tests) there is nothing to check against; the server always has one.
  if (!svc.kms) return
  try {
    await svc.kms.client.describeKey(keyId, req.principal)
  } catch (err) {
    if (err instanceof KmsError && err.reason !== 'not-found' && err.reason !== 'unavailable') return
    throw err
  }
}

export async function putBucketEncryption(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  await loadBucket(svc, req, name)
  requireIntegrityHeader(req.headers)
  const parsed = parseEncryptionConfiguration(await readXml(req, 'ServerSideEncryptionConfiguration'))
  await checkDefaultKmsKey(svc, req, parsed.encryption.kmsMasterKeyId)
  await updateBucket(svc, req, name, (bucket) => ({
    ...bucket,
    encryption: parsed.encryption,
    blockedEncryptionTypes: parsed.blocked ?? bucket.blockedEncryptionTypes,
  }))
  return { status: 200 }
}

export async function getBucketEncryption(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, name)
  const enc = bucket.encryption ?? { sseAlgorithm: 'AES256', bucketKeyEnabled: false }
  const xml = xmlDocument('ServerSideEncryptionConfiguration', {
    Rule: {
      ApplyServerSideEncryptionByDefault: { SSEAlgorithm: enc.sseAlgorithm, KMSMasterKeyID: enc.kmsMasterKeyId },
      BucketKeyEnabled: enc.bucketKeyEnabled,
      BlockedEncryptionTypes: { EncryptionType: bucket.blockedEncryptionTypes.includes('SSE-C') ? 'SSE-C' : 'NONE' },
    },
  })
  return { status: 200, xml }
}

export async function deleteBucketEncryption(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  // Resets the default to AES256; the SSE-C block stays as it is (docs/s3-sse-rules.md §5.5 [C]).
  await updateBucket(svc, req, name, (bucket) =>
    bucket.encryption === undefined ? undefined : { ...bucket, encryption: undefined },
  )
  return { status: 204 }
}
