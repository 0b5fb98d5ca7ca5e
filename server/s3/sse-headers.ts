/**
 * @module SSE request headers -> the typed encryption a request asks for (docs/s3-sse-rules.md §4.2-§4.9),
 * and an object's encryption record -> SSE response headers (§4.3). The only file that knows SSE
 * header names besides headers.ts.
 */
import { createHash } from 'node:crypto'
import type { EncryptionRecord } from '../../crypto/types.js'
import { AWS_MANAGED_S3_ALIAS } from '../../kms/types.js'
import type { BucketRecord } from '../../storage/types.js'
import { S3Error, invalidArgument } from './errors.js'
import {
  AMZ_COPY_SSE_C_ALGORITHM,
  AMZ_COPY_SSE_C_KEY,
  AMZ_COPY_SSE_C_KEY_MD5,
  AMZ_SSE,
  AMZ_SSE_BUCKET_KEY,
  AMZ_SSE_CONTEXT,
  AMZ_SSE_C_ALGORITHM,
  AMZ_SSE_C_KEY,
  AMZ_SSE_C_KEY_MD5,
  AMZ_SSE_KMS_KEY_ID,
} from './headers.js'

/** A customer key presented in a request: the raw 32 bytes and the base64 MD5 it was sent with. */
export interface CustomerKey {
  key: Buffer
  md5: string
}

export interface KmsRequest {
  mode: 'SSE-KMS'
  dsse: boolean
  /** Key id, key ARN, alias name or alias ARN, as given (request, bucket default, or alias/aws/s3). */
  keyId: string
  bucketKey: boolean
  /** The client's context pairs (without aws:s3:arn unless it sent one) and the header as sent. */
  clientContext: Record<string, string>
  contextHeader?: string
}

/** What a write asks for once headers and the bucket default are resolved (docs/s3-sse-rules.md §4.4). */
export type SseRequest = { mode: 'SSE-S3' } | { mode: 'SSE-C'; customer: CustomerKey } | KmsRequest

const E2 = 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms'
const KMS_OVER_HTTP =
  'Requests specifying Server Side Encryption with AWS KMS managed keys must be made over a secure connection.'
const INSECURE_SSE_C =
  'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.'
const STORED_WITH_SSE =
  'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.'
const NOT_APPLICABLE = 'The encryption parameters are not applicable to this object.'
const CONTEXT_INVALID =
  "The header 'x-amz-server-side-encryption-context' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map"

interface TrioNames {
  algorithm: string
  key: string
  md5: string
}
const DEST_TRIO: TrioNames = { algorithm: AMZ_SSE_C_ALGORITHM, key: AMZ_SSE_C_KEY, md5: AMZ_SSE_C_KEY_MD5 }
const SOURCE_TRIO: TrioNames = {
  algorithm: AMZ_COPY_SSE_C_ALGORITHM,
  key: AMZ_COPY_SSE_C_KEY,
  md5: AMZ_COPY_SSE_C_KEY_MD5,
}

const hasTrio = (h: Record<string, string>, t: TrioNames) =>
  h[t.algorithm] !== undefined || h[t.key] !== undefined || h[t.md5] !== undefined

/** True if the request carries any of the SSE-C trio for its destination (optional on Complete and ListParts). */
export const presentsCustomerKey = (h: Record<string, string>): boolean => hasTrio(h, DEST_TRIO)

/** True if the request carries any destination SSE header (the copy-onto-itself rule, §4.11). */
export function hasEncryptionHeaders(h: Record<string, string>): boolean {
  return (
    [AMZ_SSE, AMZ_SSE_KMS_KEY_ID, AMZ_SSE_CONTEXT, AMZ_SSE_BUCKET_KEY].some((n) => h[n] !== undefined) ||
    hasTrio(h, DEST_TRIO)
  )
}

/**
 * Validates an SSE-C trio, steps 1 and 3-8 of docs/s3-sse-rules.md §4.8 (step 2 is the caller's: only writes
 * refuse an `x-amz-server-side-encryption` beside it). `write` applies step 8's length rule; on
 * reads a key of the wrong length is simply the wrong key (403, SSEC-14).
 */
function parseTrio(h: Record<string, string>, t: TrioNames, secure: boolean, write: boolean): CustomerKey | undefined {
  if (!hasTrio(h, t)) return undefined
  if (!secure) throw new S3Error('InvalidRequest', { message: INSECURE_SSE_C })
  const alg = h[t.algorithm]
  const keyB64 = h[t.key]
  const md5 = h[t.md5]
  const arg = (message: string) => invalidArgument(message, AMZ_SSE)
  if (alg === undefined)
    throw arg(
      'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.',
    )
  if (keyB64 === undefined)
    throw arg(
      'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.',
    )
  if (alg !== 'AES256') {
    throw new S3Error('InvalidEncryptionAlgorithmError', {
      fields: [
        ['ArgumentName', AMZ_SSE],
        ['ArgumentValue', alg],
      ],
    })
  }
  if (md5 === undefined)
    throw arg(
      'Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.',
    )
  const key = Buffer.from(keyB64, 'base64')
  if (createHash('md5').update(key).digest('base64') !== md5)
    throw arg('The calculated MD5 hash of the key did not match the hash that was provided.')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyB64) || (write && key.length !== 32))
    throw arg('The secret key was invalid for the specified algorithm.')
  return { key, md5 }
}

/**
 * The SSE-C checks that come before authorization and resource existence (docs/s3-sse-rules.md §1.4 step 3):
 * any SSE-C or copy-source SSE-C header over a connection that is not secure is refused first
 * (§4.8 step 1, §4.9), then each trio present must be well-formed (§4.8 steps 2-8). `write`: the
 * destination trio belongs to a write (PutObject, CopyObject, CreateMultipartUpload, UploadPart,
 * UploadPartCopy), so step 8's length rule applies; `sseHeaderAllowed`: the operation accepts
 * `x-amz-server-side-encryption`, which beside a destination trio is step 2's error; `copySource`:
 * the operation reads a copy source, so the copy-source trio is checked too (elsewhere it is
 * ignored, §4.2). With `tlsOnly` only step 1 is checked (CompleteMultipartUpload and ListParts,
 * where the trio is optional). Whether a trio is needed, and whether it is the right key, is
 * decided later by the handler.
 */
export function precheckSseC(
  h: Record<string, string>,
  secure: boolean,
  opts: { write?: boolean; sseHeaderAllowed?: boolean; copySource?: boolean; tlsOnly?: boolean } = {},
): void {
  const dest = hasTrio(h, DEST_TRIO)
  const source = hasTrio(h, SOURCE_TRIO)
  if (!secure && (dest || source)) throw new S3Error('InvalidRequest', { message: INSECURE_SSE_C })
  if (opts.tlsOnly) return
  if (dest) {
    if (opts.sseHeaderAllowed) refuseSseBesideTrio(h)
    parseTrio(h, DEST_TRIO, secure, opts.write ?? false)
  }
  if (source && opts.copySource) parseTrio(h, SOURCE_TRIO, secure, false)
}

/** §4.8 step 2: `x-amz-server-side-encryption` beside a destination SSE-C trio. */
function refuseSseBesideTrio(h: Record<string, string>): void {
  const sse = h[AMZ_SSE]
  if (sse === undefined) return
  throw new S3Error('InvalidArgument', {
    message: 'Server Side Encryption with Customer provided key is incompatible with the encryption method specified',
    fields: [
      ['ArgumentName', AMZ_SSE],
      ['ArgumentValue', sse],
    ],
  })
}

function parseBucketKeyHeader(h: Record<string, string>): boolean | undefined {
  const v = h[AMZ_SSE_BUCKET_KEY]
  if (v === undefined) return undefined
  const lower = v.toLowerCase()
  if (lower !== 'true' && lower !== 'false')
    throw invalidArgument('Invalid value for x-amz-server-side-encryption-bucket-key-enabled', AMZ_SSE_BUCKET_KEY, v)
  return lower === 'true'
}

/** Base64 of a UTF-8 JSON object of string values (docs/s3-sse-rules.md §4.5, KMS-14). */
function parseContext(header: string | undefined): Record<string, string> {
  if (header === undefined) return {}
  const invalid = () => invalidArgument(CONTEXT_INVALID, AMZ_SSE_CONTEXT)
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(header)) throw invalid()
  let parsed: unknown
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(header, 'base64')))
  } catch {
    throw invalid()
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid()
  for (const v of Object.values(parsed)) if (typeof v !== 'string') throw invalid()
  return parsed as Record<string, string>
}

export interface WriteSseOptions {
  /** Counts as secure for SSE-C/SSE-KMS (TLS, or loopback per docs/s3-behaviour.md). */
  secure: boolean
  /** CopyObject destination: the copy-source trio belongs to the source, not to this decision. */
  copy?: boolean
}

/**
 * Resolves the encryption of a new object (PutObject, CopyObject destination,
 * CreateMultipartUpload) from its headers and the bucket default, validating per §4.4, §4.5,
 * §4.8 and §4.9; a blocked SSE-C write answers 403 (§5.4) after validation.
 */
export function resolveWriteSse(
  h: Record<string, string>,
  bucket: BucketRecord,
  opts: WriteSseOptions,
  action = 's3:PutObject',
  key = '',
): SseRequest {
  const sse = h[AMZ_SSE]
  if (hasTrio(h, DEST_TRIO)) {
    if (!opts.secure) parseTrio(h, DEST_TRIO, false, true)
    refuseSseBesideTrio(h)
    const customer = parseTrio(h, DEST_TRIO, opts.secure, true)!
    refuseBlockedSseC(bucket, action, key)
    return { mode: 'SSE-C', customer }
  }
  const bucketKeyHeader = parseBucketKeyHeader(h)
  const rule = bucket.encryption
  let algorithm: string
  if (sse !== undefined) {
    if (sse !== 'AES256' && sse !== 'aws:kms' && sse !== 'aws:kms:dsse')
      throw invalidArgument('The encryption method specified is not supported', AMZ_SSE, sse)
    algorithm = sse
  } else {
    algorithm = rule?.sseAlgorithm ?? 'AES256'
  }
  const explicitKmsHeaders = h[AMZ_SSE_KMS_KEY_ID] !== undefined || h[AMZ_SSE_CONTEXT] !== undefined
  if (explicitKmsHeaders && (sse === undefined || sse === 'AES256')) throw invalidArgument(E2, AMZ_SSE)
  if (algorithm === 'AES256') return { mode: 'SSE-S3' }
  if (!opts.secure) throw invalidArgument(KMS_OVER_HTTP, AMZ_SSE)
  const dsse = algorithm === 'aws:kms:dsse'
  const ruleIsKms = rule?.sseAlgorithm === 'aws:kms' || rule?.sseAlgorithm === 'aws:kms:dsse'
  const keyId = h[AMZ_SSE_KMS_KEY_ID] || (ruleIsKms ? rule?.kmsMasterKeyId : undefined) || AWS_MANAGED_S3_ALIAS
  const bucketKey = dsse
    ? false
    : (bucketKeyHeader ?? (rule?.sseAlgorithm === 'aws:kms' ? rule.bucketKeyEnabled : false))
  const contextHeader = h[AMZ_SSE_CONTEXT]
  return { mode: 'SSE-KMS', dsse, keyId, bucketKey, clientContext: parseContext(contextHeader), contextHeader }
}

/** 403 for an SSE-C write into a bucket that blocks SSE-C (docs/s3-sse-rules.md §5.4). */
export function refuseBlockedSseC(bucket: BucketRecord, action: string, key: string): void {
  if (!bucket.blockedEncryptionTypes.includes('SSE-C')) return
  throw new S3Error('AccessDenied', {
    message:
      `User: arn:aws:iam::${bucket.ownerAccountId}:root is not authorized to perform: ${action} on resource: "arn:aws:s3:::${bucket.name}/${key}" ` +
      'because this bucket has blocked upload requests that specify Server Side Encryption with Customer provided keys (SSE-C). ' +
      'Please specify a different server-side encryption type. To allow SSE-C on this bucket, put a bucket encryption ' +
      'configuration whose rule has <BlockedEncryptionTypes><EncryptionType>NONE</EncryptionType></BlockedEncryptionTypes> ' +
      '(or start strongroom with --allow-sse-c-on-new-buckets for new buckets).',
  })
}

/** The full KMS encryption context of an object (docs/s3-sse-rules.md §4.6): aws:s3:arn merged with the client's. */
export function kmsContext(req: KmsRequest, bucket: string, key: string): Record<string, string> {
  const arn = req.bucketKey ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`
  const given = req.clientContext['aws:s3:arn']
  if (given !== undefined && given !== arn)
    throw invalidArgument('Encryption context key aws:s3:arn has an invalid value', AMZ_SSE_CONTEXT)
  return { ...req.clientContext, 'aws:s3:arn': arn }
}

/** Reads (GET/HEAD) and UploadPart(Copy) refuse SSE-S3/KMS headers (docs/s3-sse-rules.md §4.2 E1-E3). */
export function refuseSseOnRead(h: Record<string, string>): void {
  if (h[AMZ_SSE] !== undefined)
    throw invalidArgument(
      'x-amz-server-side-encryption header is not supported for this operation.',
      AMZ_SSE,
      h[AMZ_SSE],
    )
  if (h[AMZ_SSE_KMS_KEY_ID] !== undefined) throw invalidArgument(E2, AMZ_SSE)
  if (h[AMZ_SSE_CONTEXT] !== undefined)
    throw invalidArgument(
      'x-amz-server-side-encryption-context header is not supported for this operation.',
      AMZ_SSE_CONTEXT,
    )
}

/**
 * The customer key a read of an object (or an UploadPart into an upload) must present, per the
 * record's mode: the key for SSE-C, none otherwise (docs/s3-sse-rules.md §4.8 "Reads", E4).
 */
export function readCustomerKey(
  h: Record<string, string>,
  enc: EncryptionRecord,
  secure: boolean,
  source = false,
): CustomerKey | undefined {
  const trio = source ? SOURCE_TRIO : DEST_TRIO
  const present = hasTrio(h, trio)
  if (enc.mode !== 'SSE-C') {
    if (present) throw new S3Error('InvalidRequest', { message: NOT_APPLICABLE })
    return undefined
  }
  if (!present) throw new S3Error('InvalidRequest', { message: STORED_WITH_SSE })
  return parseTrio(h, trio, secure, false)
}

/**
 * The customer key an UploadPart(Copy) or a Complete/ListParts with a declared checksum presents
 * for an upload (docs/s3-sse-rules.md §4.8 "Multipart").
 */
export function uploadCustomerKey(
  h: Record<string, string>,
  enc: EncryptionRecord,
  secure: boolean,
): CustomerKey | undefined {
  const present = hasTrio(h, DEST_TRIO)
  if ((enc.mode === 'SSE-C') !== present) {
    throw new S3Error('InvalidRequest', {
      message:
        'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.',
    })
  }
  return present ? parseTrio(h, DEST_TRIO, secure, true) : undefined
}

/** GET of an SSE-KMS object over plain HTTP from elsewhere is refused; HEAD is allowed (§4.9 [C]). */
export function refuseKmsReadOverHttp(enc: EncryptionRecord, secure: boolean): void {
  if (enc.mode === 'SSE-KMS' && !secure) throw invalidArgument(KMS_OVER_HTTP, AMZ_SSE)
}

export interface ResponseSseOptions {
  /** The key MD5 of the SSE-C key used (echoed as sent). */
  customerKeyMd5?: string
  /** Echo the client's context header (PutObject, CopyObject, CreateMultipartUpload). */
  echoContext?: boolean
}

/** SSE response headers of an object or upload (docs/s3-sse-rules.md §4.3). */
export function sseResponseHeaders(enc: EncryptionRecord, opts: ResponseSseOptions = {}): Record<string, string> {
  switch (enc.mode) {
    case 'SSE-S3':
      return { [AMZ_SSE]: 'AES256' }
    case 'SSE-C':
      return opts.customerKeyMd5 ? { [AMZ_SSE_C_ALGORITHM]: 'AES256', [AMZ_SSE_C_KEY_MD5]: opts.customerKeyMd5 } : {}
    case 'SSE-KMS': {
      const kms = enc.kms
      const out: Record<string, string> = { [AMZ_SSE]: kms?.dsse ? 'aws:kms:dsse' : 'aws:kms' }
      if (kms) out[AMZ_SSE_KMS_KEY_ID] = kms.keyArn
      if (kms?.bucketKeyEnabled) out[AMZ_SSE_BUCKET_KEY] = 'true'
      if (opts.echoContext && kms?.clientContextHeader !== undefined) out[AMZ_SSE_CONTEXT] = kms.clientContextHeader
      return out
    }
  }
}
