/**
 * @module Query-string (presigned URL) SigV4 verification, docs/s3-sse-rules.md §2.8: parameter checks,
 * scope, unsigned headers, signature, then validity window (checked after the signature).
 */
import { S3Error } from '../errors.js'
import { ALGORITHM } from '../../../lib/sigv4.js'
import {
  checkHeadersSigned,
  checkScope,
  isoSeconds,
  lookupCredential,
  parseAmzDate,
  parseCredential,
  parsePayloadMode,
  verifySignature,
} from './common.js'
import type { AuthContext, AuthDeps, AuthRequest, PayloadMode } from './types.js'

const V4_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Signature',
  'X-Amz-Date',
  'X-Amz-SignedHeaders',
  'X-Amz-Expires',
] as const
const V2_PARAMS = ['AWSAccessKeyId', 'Signature'] as const
const MAX_EXPIRES = 604800

/** True when the query carries any SigV4 (`X-Amz-*` auth parameter) or SigV2 (`Signature`, `AWSAccessKeyId`) auth. */
export function hasQueryAuth(query: ReadonlyArray<readonly [string, string]>): boolean {
  return query.some(
    ([n]) => (V4_PARAMS as readonly string[]).includes(n) || (V2_PARAMS as readonly string[]).includes(n),
  )
}

function queryError(message: string, fields?: Array<[string, string]>): S3Error {
  return new S3Error('AuthorizationQueryParametersError', { message, fields })
}

function firstParam(query: ReadonlyArray<readonly [string, string]>, name: string): string | undefined {
  for (const [n, v] of query) if (n === name) return v
  return undefined
}

/** `X-Amz-Expires` (§2.8): an integer 0–604800, else 400 AuthorizationQueryParametersError. */
export function parseExpires(value: string): number {
  if (!/^-?\d+$/.test(value)) throw queryError('X-Amz-Expires should be a number')
  const n = Number(value)
  if (n < 0) throw queryError('X-Amz-Expires must be non-negative')
  if (n > MAX_EXPIRES) throw queryError('X-Amz-Expires must be less than a week (in seconds) that is 604800')
  return n
}

/**
 * The payload of a presigned request: `UNSIGNED-PAYLOAD` in the canonical request (§2.8) unless
 * the URL itself carries `X-Amz-Content-Sha256`; the body framing follows a signed
 * `x-amz-content-sha256` header when the client sends one.
 */
function presignedPayload(req: AuthRequest): { hash: string; mode: PayloadMode } {
  // The AWS SDK v3 presigner hoists `X-Amz-Content-Sha256=UNSIGNED-PAYLOAD` into the URL.
  const hash = req.query.find(([n]) => n.toLowerCase() === 'x-amz-content-sha256')?.[1] ?? 'UNSIGNED-PAYLOAD'
  const header = req.headers['x-amz-content-sha256']
  return { hash, mode: header === undefined ? parsePayloadMode(hash) : parsePayloadMode(header) }
}

type PresignParams = Record<(typeof V4_PARAMS)[number], string>

/**
 * PRE-02 and the algorithm row of §2.8: all six `X-Amz-*` parameters present (only SigV2 ones →
 * the SigV2 answer of §2.9), algorithm `AWS4-HMAC-SHA256` (SigV4a → 501 NotImplemented).
 */
function readParams(query: ReadonlyArray<readonly [string, string]>): PresignParams {
  const p: Partial<PresignParams> = {}
  for (const n of V4_PARAMS) p[n] = firstParam(query, n)
  if (V4_PARAMS.every((n) => p[n] === undefined)) {
    throw new S3Error('InvalidRequest', {
      message: 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
    })
  }
  if (V4_PARAMS.some((n) => p[n] === undefined)) {
    throw queryError(
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    )
  }
  const algorithm = p['X-Amz-Algorithm']
  if (algorithm === 'AWS4-ECDSA-P256-SHA256') throw new S3Error('NotImplemented')
  if (algorithm !== ALGORITHM) throw queryError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
  return p as PresignParams
}

/**
 * Verifies a presigned request (§2.8). Order: all six parameters (else SigV2 query answer or
 * the "requires" message), algorithm, credential, date, expires, scope, token, access key,
 * unsigned `x-amz-*` headers, signature, "not valid yet", "expired".
 */
export function verifyPresigned(req: AuthRequest, deps: AuthDeps): AuthContext {
  const p = readParams(req.query)
  const credential = p['X-Amz-Credential']
  const provided = p['X-Amz-Signature']
  const amzDate = p['X-Amz-Date']
  const signedList = p['X-Amz-SignedHeaders']
  const expiresText = p['X-Amz-Expires']
  const cred = parseCredential(credential, 'query')
  const requestTime = parseAmzDate(amzDate)
  if (!requestTime) throw queryError(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`)
  const expires = parseExpires(expiresText)
  checkScope(cred, amzDate, deps, 'query')
  const token = firstParam(req.query, 'X-Amz-Security-Token') ?? req.headers['x-amz-security-token']
  const known = lookupCredential(deps, cred.accessKeyId, token, req.now)
  const signedHeaders = signedList.split(';')
  checkHeadersSigned(req.headers, signedHeaders, false)
  const payload = presignedPayload(req)
  const { key, scope, signature } = verifySignature({
    accessKeyId: cred.accessKeyId,
    secret: known.secretAccessKey,
    cred,
    amzDate,
    provided,
    request: {
      method: req.method,
      path: req.path,
      query: req.query,
      omitQuery: 'X-Amz-Signature',
      headers: req.headers,
      signedHeaders,
      payloadHash: payload.hash,
    },
  })
  checkValidityWindow(requestTime, expires, expiresText, req.now, deps.maxSkewSeconds)
  return {
    accessKeyId: cred.accessKeyId,
    accountId: known.accountId,
    principalArn: known.principalArn,
    identity: known.identity,
    sessionToken: token !== undefined || undefined,
    mode: 'presigned',
    payload: payload.mode,
    amzDate,
    scope,
    signingKey: key,
    seedSignature: signature,
    signedHeaders,
  }
}

/**
 * PRE-07: a URL dated more than the skew window in the future is "not valid yet"; PRE-03/PRE-06:
 * from `X-Amz-Date + X-Amz-Expires` on it has expired (so `X-Amz-Expires=0` always has).
 */
function checkValidityWindow(
  start: Date,
  expires: number,
  expiresText: string,
  now: Date,
  maxSkewSeconds: number,
): void {
  if (start.getTime() - now.getTime() > maxSkewSeconds * 1000) {
    throw new S3Error('AccessDenied', { message: 'Request is not valid yet' })
  }
  const end = new Date(start.getTime() + expires * 1000)
  if (now.getTime() >= end.getTime()) {
    throw new S3Error('AccessDenied', {
      message: 'Request has expired',
      fields: [
        ['X-Amz-Expires', expiresText],
        ['Expires', isoSeconds(end)],
        ['ServerTime', isoSeconds(now)],
      ],
    })
  }
}
