/**
 * @module SigV4 for the embedded KMS's JSON API (docs/s3-sse-rules.md §6.1): same algorithm with service
 * `kms`, payload hash computed from the body, and the translation of auth failures into KMS faults.
 */
import { S3Error } from '../errors.js'
import { sha256Hex } from '../../../lib/sigv4.js'
import { verifyHeaderAuth } from './sigv4.js'
import type { AuthContext, AuthDeps, AuthRequest } from './types.js'

/** A KMS JSON error: `{"__type": type, "message": message}` with HTTP `status`. */
export interface KmsAuthFault {
  status: number
  type: string
  message?: string
}

/**
 * Verifies a KMS request signed in the Authorization header, given the hex SHA-256 of the whole
 * body (or the body itself). Returns null when there is no Authorization header (the KMS answers
 * MissingAuthenticationTokenException). Throws S3Error; map it with `kmsAuthFault`.
 * `deps.maxSkewSeconds` should be 300: JSON services allow 5 minutes, not 15.
 */
export function authenticateKms(
  req: AuthRequest,
  deps: Omit<AuthDeps, 'service'>,
  body: { sha256Hex: string } | Uint8Array | string,
): AuthContext | null {
  if (req.headers['authorization'] === undefined) return null
  const hash = typeof body === 'object' && 'sha256Hex' in body ? body.sha256Hex : sha256Hex(body)
  return verifyHeaderAuth(req, { ...deps, service: 'kms' }, hash)
}

const INVALID_SIGNATURE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'

function fieldOf(err: S3Error, name: string): string {
  const f = err.fields.find(([n]) => n === name)
  return f ? String(f[1]) : ''
}

/** `YYYYMMDDTHHMMSSZ` of an instant, as KMS writes times in "Signature expired" messages. */
function basic(t: Date): string {
  return t
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z')
}

/**
 * Translates an authentication S3Error into the KMS fault of §6.1 (null: use `missingToken`).
 * Unknown key → UnrecognizedClientException; mismatched signature, wrong scope service or
 * skewed time → InvalidSignatureException with AWS's wording; everything else →
 * IncompleteSignatureException carrying the S3 message.
 */
export function kmsAuthFault(err: S3Error | null, skewMinutes = 5): KmsAuthFault {
  if (err === null)
    return { status: 400, type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' }
  switch (err.code) {
    case 'InvalidAccessKeyId':
      return {
        status: 400,
        type: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      }
    case 'SignatureDoesNotMatch':
      return { status: 400, type: 'InvalidSignatureException', message: INVALID_SIGNATURE }
    case 'InvalidToken':
      return {
        status: 400,
        type: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      }
    case 'ExpiredToken':
      return {
        status: 400,
        type: 'ExpiredTokenException',
        message: 'The security token included in the request is expired',
      }
    case 'RequestTimeTooSkewed': {
      const requestTime = fieldOf(err, 'RequestTime')
      const now = new Date(fieldOf(err, 'ServerTime'))
      const shift = skewMinutes * 60_000
      const sent = /^\d{8}T\d{6}Z$/.test(requestTime)
        ? Date.UTC(
            +requestTime.slice(0, 4),
            +requestTime.slice(4, 6) - 1,
            +requestTime.slice(6, 8),
            +requestTime.slice(9, 11),
            +requestTime.slice(11, 13),
            +requestTime.slice(13, 15),
          )
        : 0
      const message =
        sent < now.getTime()
          ? `Signature expired: ${requestTime} is now earlier than ${basic(new Date(now.getTime() - shift))} (${basic(now)} - ${skewMinutes} min.)`
          : `Signature not yet current: ${requestTime} is still later than ${basic(new Date(now.getTime() + shift))} (${basic(now)} + ${skewMinutes} min.)`
      return { status: 400, type: 'InvalidSignatureException', message }
    }
    case 'AuthorizationHeaderMalformed':
      if (err.message.includes('incorrect service')) {
        return {
          status: 400,
          type: 'InvalidSignatureException',
          message: "Credential should be scoped to correct service: 'kms'. ",
        }
      }
      if (err.message.includes('the region')) {
        return {
          status: 400,
          type: 'InvalidSignatureException',
          message: 'Credential should be scoped to a valid region. ',
        }
      }
      return { status: 400, type: 'IncompleteSignatureException', message: err.message }
    default:
      return { status: 400, type: 'IncompleteSignatureException', message: err.message }
  }
}
