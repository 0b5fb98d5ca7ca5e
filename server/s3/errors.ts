/**
 * @module The one S3 error class, the table of every error code the store emits, and the one
 * function that turns domain errors (crypto, storage, KMS) into S3 answers.
 */
import { CryptoError } from '../../crypto/errors.js'
import { KmsError } from '../../kms/types.js'
import { ConflictError, NotFoundError, ObjectLockedError } from '../../storage/errors.js'

/** Every S3 error code we emit: status and AWS's default message (docs/s3-sse-rules.md §1.3, §2, §3, §4). */
const CODES = {
  AccessControlListNotSupported: { status: 400, message: 'The bucket does not allow ACLs' },
  AccessDenied: { status: 403, message: 'Access Denied' },
  /** A CORS preflight (OPTIONS) that the bucket's CORS configuration does not allow. */
  AccessForbidden: {
    status: 403,
    message:
      "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
  },
  AuthorizationHeaderMalformed: { status: 400, message: 'The authorization header is malformed.' },
  AuthorizationQueryParametersError: {
    status: 400,
    message: 'Error parsing the query-string authentication parameters.',
  },
  BadRequest: { status: 400, message: 'Bad Request' },
  BadDigest: { status: 400, message: 'The Content-MD5 you specified did not match what we received.' },
  BucketAlreadyExists: {
    status: 409,
    message:
      'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
  },
  BucketAlreadyOwnedByYou: {
    status: 409,
    message: 'Your previous request to create the named bucket succeeded and you already own it.',
  },
  BucketNotEmpty: { status: 409, message: 'The bucket you tried to delete is not empty' },
  EntityTooLarge: { status: 400, message: 'Your proposed upload exceeds the maximum allowed size' },
  EntityTooSmall: { status: 400, message: 'Your proposed upload is smaller than the minimum allowed size' },
  IllegalLocationConstraintException: {
    status: 400,
    message:
      'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.',
  },
  IncompleteBody: {
    status: 400,
    message: 'You did not provide the number of bytes specified by the Content-Length HTTP header',
  },
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
  InvalidAccessKeyId: { status: 403, message: 'The AWS Access Key Id you provided does not exist in our records.' },
  InvalidArgument: { status: 400, message: 'Invalid Argument' },
  InvalidTag: { status: 400, message: 'The tag provided was not a valid tag.' },
  NoSuchTagSet: { status: 404, message: 'The TagSet does not exist' },
  InvalidBucketAclWithObjectOwnership: {
    status: 400,
    message: "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
  },
  InvalidBucketName: { status: 400, message: 'The specified bucket is not valid.' },
  InvalidBucketState: { status: 409, message: 'The request is not valid with the current state of the bucket.' },
  InvalidChunkSizeError: { status: 403, message: 'Only the last chunk is allowed to have a size less than 8192 bytes' },
  InvalidDigest: { status: 400, message: 'The Content-MD5 you specified was invalid.' },
  InvalidEncryptionAlgorithmError: {
    status: 400,
    message: 'The Encryption request you specified is not valid. Supported value: AES256.',
  },
  InvalidLocationConstraint: { status: 400, message: 'The specified location-constraint is not valid' },
  InvalidPart: {
    status: 400,
    message:
      "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
  },
  InvalidPartNumber: { status: 416, message: 'The requested partnumber is not satisfiable' },
  InvalidPartOrder: {
    status: 400,
    message: 'The list of parts was not in ascending order. Parts must be ordered by part number.',
  },
  InvalidRange: { status: 416, message: 'The requested range is not satisfiable' },
  InvalidRequest: { status: 400, message: 'Invalid Request' },
  InvalidRetentionPeriod: { status: 400, message: 'Default retention period must be a positive integer value.' },
  InvalidURI: { status: 400, message: "Couldn't parse the specified URI." },
  InvalidStorageClass: { status: 400, message: 'The storage class you specified is not valid' },
  InvalidToken: { status: 403, message: 'The provided token is malformed or otherwise invalid.' },
  ExpiredToken: { status: 400, message: 'The provided token has expired.' },
  'KMS.AccessDeniedException': { status: 400, message: 'Access to the KMS key was denied.' },
  'KMS.DisabledException': { status: 400, message: 'The KMS key is disabled.' },
  'KMS.InvalidCiphertextException': {
    status: 400,
    message: 'The ciphertext of the object data key could not be decrypted by KMS.',
  },
  'KMS.InvalidKeyUsageException': { status: 400, message: 'The KMS key usage is not valid for GenerateDataKey.' },
  'KMS.KMSInvalidStateException': { status: 400, message: 'The KMS key is not in a valid state.' },
  'KMS.NotFoundException': { status: 400, message: 'The KMS key was not found.' },
  KeyTooLongError: { status: 400, message: 'Your key is too long' },
  MalformedTrailerError: {
    status: 400,
    message: 'The request contained trailing data that was not well-formed or did not conform to our published schema.',
  },
  MalformedACLError: {
    status: 400,
    message: 'The XML you provided was not well-formed or did not validate against our published schema',
  },
  MalformedPOSTRequest: {
    status: 400,
    message: 'The body of your POST request is not well-formed multipart/form-data.',
  },
  MaxPostPreDataLengthExceeded: {
    status: 400,
    message: 'Your POST request fields preceding the upload file were too large.',
  },
  InvalidPolicyDocument: {
    status: 400,
    message: 'The content of the form does not meet the conditions specified in the policy document.',
  },
  MalformedPolicy: { status: 400, message: "Policies must be valid JSON and the first byte must be '{'" },
  MalformedXML: {
    status: 400,
    message: 'The XML you provided was not well-formed or did not validate against our published schema',
  },
  MetadataTooLarge: { status: 400, message: 'Your metadata headers exceed the maximum allowed metadata size.' },
  MethodNotAllowed: { status: 405, message: 'The specified method is not allowed against this resource.' },
  MissingContentLength: { status: 411, message: 'You must provide the Content-Length HTTP header.' },
  MissingSecurityHeader: { status: 400, message: 'Your request was missing a required header' },
  NoSuchBucket: { status: 404, message: 'The specified bucket does not exist' },
  NoSuchCORSConfiguration: { status: 404, message: 'The CORS configuration does not exist' },
  NoSuchBucketPolicy: { status: 404, message: 'The bucket policy does not exist' },
  NoSuchLifecycleConfiguration: { status: 404, message: 'The lifecycle configuration does not exist' },
  NoSuchKey: { status: 404, message: 'The specified key does not exist.' },
  NoSuchObjectLockConfiguration: {
    status: 404,
    message: 'The specified object does not have a ObjectLock configuration',
  },
  NoSuchVersion: { status: 404, message: 'The specified version does not exist.' },
  NoSuchPublicAccessBlockConfiguration: { status: 404, message: 'The public access block configuration was not found' },
  NoSuchUpload: {
    status: 404,
    message:
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  },
  ObjectLockConfigurationNotFoundError: {
    status: 404,
    message: 'Object Lock configuration does not exist for this bucket',
  },
  NotImplemented: { status: 501, message: 'A header you provided implies functionality that is not implemented' },
  ConditionalRequestConflict: {
    status: 409,
    message: 'The conditional request cannot succeed due to a conflicting operation against this resource.',
  },
  OwnershipControlsNotFoundError: { status: 404, message: 'The bucket ownership controls were not found' },
  OperationAborted: {
    status: 409,
    message: 'A conflicting conditional operation is currently in progress against this resource. Please try again.',
  },
  PreconditionFailed: { status: 412, message: 'At least one of the pre-conditions you specified did not hold' },
  RequestTimeTooSkewed: {
    status: 403,
    message: 'The difference between the request time and the current time is too large.',
  },
  RequestTimeout: {
    status: 400,
    message:
      'Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.',
  },
  ServiceUnavailable: { status: 503, message: 'Please reduce your request rate.' },
  SignatureDoesNotMatch: {
    status: 403,
    message:
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  },
  UnexpectedContent: { status: 400, message: 'This request does not support content' },
  UnresolvableGrantByEmailAddress: {
    status: 400,
    message: 'The email address you provided does not match any account on record.',
  },
  XAmzContentSHA256Mismatch: {
    status: 400,
    message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
  },
} as const satisfies Record<string, { status: number; message: string }>

export type S3ErrorCode = keyof typeof CODES

/** Extra XML elements of an error, in the order they are written (after Code and Message). */
export type ErrorFields = ReadonlyArray<readonly [string, string | number]>

export interface S3ErrorDetail {
  message?: string
  /** Error-specific elements (BucketName, Key, ArgumentName, …) in wire order. */
  fields?: ErrorFields
  /** Extra response headers (e.g. Content-Range on 416). */
  headers?: Record<string, string>
  cause?: unknown
  /**
   * A request refused before it became an S3Operation (a subresource we do not implement): the
   * operation it asked for (e.g. GetBucketWebsite) and the subresource, for the log and metrics.
   */
  refused?: { operation: string; subresource?: string }
}

export class S3Error extends Error {
  override readonly name = 'S3Error'
  readonly status: number
  readonly fields: ErrorFields
  readonly headers: Record<string, string>
  readonly refused?: { operation: string; subresource?: string }
  constructor(
    readonly code: S3ErrorCode,
    detail: S3ErrorDetail = {},
  ) {
    super(detail.message ?? CODES[code].message, { cause: detail.cause })
    this.status = CODES[code].status
    this.fields = detail.fields ?? []
    this.headers = detail.headers ?? {}
    this.refused = detail.refused
  }
}

export function statusOf(code: S3ErrorCode): number {
  return CODES[code].status
}

export function defaultMessageOf(code: S3ErrorCode): string {
  return CODES[code].message
}

export const ALL_CODES = Object.keys(CODES) as S3ErrorCode[]

/** Shorthand for the frequent 400 InvalidArgument with ArgumentName/ArgumentValue. */
export function invalidArgument(message: string, name: string, value?: string): S3Error {
  const fields: Array<[string, string]> = [['ArgumentName', name]]
  if (value !== undefined) fields.push(['ArgumentValue', value])
  return new S3Error('InvalidArgument', { message, fields })
}

export function noSuchBucket(bucket: string): S3Error {
  return new S3Error('NoSuchBucket', { fields: [['BucketName', bucket]] })
}

export function noSuchKey(key: string): S3Error {
  return new S3Error('NoSuchKey', { fields: [['Key', key]] })
}

export function noSuchUpload(uploadId: string): S3Error {
  return new S3Error('NoSuchUpload', { fields: [['UploadId', uploadId]] })
}

/**
 * The one translation from domain errors to S3 answers (MinIO's toAPIErrorCode in miniature).
 * Unknown errors fail closed as InternalError; the cause is kept for the log, never the body.
 */
export function toS3Error(err: unknown): S3Error {
  if (err instanceof S3Error) return err
  if (err instanceof CryptoError) {
    switch (err.reason) {
      case 'wrong-key':
        return new S3Error('AccessDenied', {
          message:
            'Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key.',
          cause: err,
        })
      default:
        return new S3Error('InternalError', { cause: err })
    }
  }
  if (err instanceof KmsError) {
    // S3 answers KMS refusals with the KMS exception name prefixed `KMS.` and KMS's own message
    // (docs/s3-sse-rules.md §4.6); an unreachable KMS is a 503, so clients retry, never a silent success.
    // A principal the KMS refuses (key policy, grants, its IAM policies): 403 AccessDenied with
    // KMS's message, as S3 answers "… is not authorized to perform: kms:Decrypt …".
    if (err.exception === 'AccessDeniedException')
      return new S3Error('AccessDenied', { message: err.kmsMessage || undefined, cause: err })
    const code = err.s3Code
    if (code !== undefined && code in CODES)
      return new S3Error(code as S3ErrorCode, { message: err.kmsMessage || undefined, cause: err })
    if (err.reason === 'unavailable')
      return new S3Error('ServiceUnavailable', { message: 'The KMS is not available. Please try again.', cause: err })
    return new S3Error('InternalError', { cause: err })
  }
  if (err instanceof NotFoundError) {
    if (err.kind === 'bucket') return new S3Error('NoSuchBucket', { fields: [['BucketName', err.what]], cause: err })
    if (err.kind === 'upload') return new S3Error('NoSuchUpload', { fields: [['UploadId', err.what]], cause: err })
    // A blob is only ever read because a record references it: its absence is damage, not a 404,
    // and its id is internal (IntegrityError below for the same reason).
    if (err.kind === 'blob') return new S3Error('InternalError', { cause: err })
    return new S3Error('NoSuchKey', { fields: [['Key', err.what]], cause: err })
  }
  if (err instanceof ConflictError) {
    if (err.kind === 'bucket-not-empty')
      return new S3Error('BucketNotEmpty', { fields: [['BucketName', err.what]], cause: err })
    if (err.kind === 'precondition') return new S3Error('PreconditionFailed', { cause: err })
    // A compare-and-swap that kept losing to concurrent writers of the same record (its callers
    // retry a bounded number of times): S3's answer to conflicting concurrent operations.
    if (err.kind === 'concurrent-change') return new S3Error('OperationAborted', { cause: err })
    return new S3Error('InternalError', { cause: err })
  }
  // S3 refuses to delete, or weaken the retention of, a version Object Lock holds with a plain 403.
  if (err instanceof ObjectLockedError) return new S3Error('AccessDenied', { cause: err })
  return new S3Error('InternalError', { cause: err })
}
