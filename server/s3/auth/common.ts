/**
 * @module Checks shared by header and query (presigned) SigV4: credential scope, request time,
 * payload mode, unsigned headers and the signature comparison with its AWS error elements.
 */
import { S3Error } from '../errors.js'
import {
  canonicalRequest,
  credentialScope,
  signaturesEqual,
  signingKey,
  spacedHex,
  stringToSign,
  hmacHex,
  type CanonicalRequestParts,
} from '../../../lib/sigv4.js'
import { tokensEqual } from '../../iam/sessions.js'
import type { AuthDeps, Credential, PayloadMode } from './types.js'

/** Which flavour of message an error gets: header auth or query-string auth (docs/s3-sse-rules.md §2.8, §2.10). */
export type AuthStyle = 'header' | 'query'

const CODE = { header: 'AuthorizationHeaderMalformed', query: 'AuthorizationQueryParametersError' } as const
const PREFIX = {
  header: 'The authorization header is malformed; ',
  query: 'Error parsing the X-Amz-Credential parameter; ',
} as const

function malformed(style: AuthStyle, text: string, fields?: Array<[string, string]>): S3Error {
  return new S3Error(CODE[style], { message: PREFIX[style] + text, fields })
}

/** The five parts of `<AKID>/<YYYYMMDD>/<region>/<service>/aws4_request`. */
export interface ParsedCredential {
  accessKeyId: string
  date: string
  region: string
  service: string
  terminal: string
}

/** Splits a credential; A4 (not five parts) and A5 (empty access key) of §2.10, PRE-08. */
export function parseCredential(value: string, style: AuthStyle): ParsedCredential {
  const parts = value.split('/')
  if (parts.length !== 5) {
    throw malformed(
      style,
      'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
    )
  }
  const [accessKeyId, date, region, service, terminal] = parts
  if (accessKeyId === '') throw malformed(style, 'a non-empty Access Key (AKID) must be provided in the credential.')
  return { accessKeyId, date, region, service, terminal }
}

/** A7–A10 of §2.10 (and their query-auth twins): region, date, service, terminator. */
export function checkScope(cred: ParsedCredential, amzDate: string, deps: AuthDeps, style: AuthStyle): void {
  if (cred.region !== deps.region) {
    throw malformed(style, `the region '${cred.region}' is wrong; expecting '${deps.region}'`, [
      ['Region', deps.region],
    ])
  }
  if (cred.date !== amzDate.slice(0, 8)) {
    throw malformed(style, 'Invalid credential date. Date is not the same as X-Amz-Date.')
  }
  const service = deps.service ?? 's3'
  if (cred.service !== service) {
    throw malformed(style, `incorrect service "${cred.service}". This endpoint belongs to "${service}".`)
  }
  if (cred.terminal !== 'aws4_request') {
    throw malformed(style, `incorrect terminal "${cred.terminal}". This endpoint uses "aws4_request".`)
  }
}

const AMZ_DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/

/** Parses ISO 8601 basic `YYYYMMDDTHHMMSSZ`; undefined unless it is a real UTC instant. */
export function parseAmzDate(value: string | undefined): Date | undefined {
  const m = value === undefined ? null : AMZ_DATE_RE.exec(value)
  if (!m) return undefined
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number)
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s))
  const same =
    t.getUTCFullYear() === y &&
    t.getUTCMonth() === mo - 1 &&
    t.getUTCDate() === d &&
    t.getUTCHours() === h &&
    t.getUTCMinutes() === mi &&
    t.getUTCSeconds() === s
  return same ? t : undefined
}

/** ISO 8601 with whole seconds, as AWS writes `ServerTime`/`Expires`: `2013-05-24T00:00:00Z`. */
export function isoSeconds(t: Date): string {
  return t.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** A12 / §2.4: the request time must be within ±maxSkew of now. */
export function checkSkew(amzDate: string, requestTime: Date, now: Date, maxSkewSeconds: number): void {
  if (Math.abs(now.getTime() - requestTime.getTime()) > maxSkewSeconds * 1000) {
    throw new S3Error('RequestTimeTooSkewed', {
      fields: [
        ['RequestTime', amzDate],
        ['ServerTime', isoSeconds(now)],
        ['MaxAllowedSkewMilliseconds', String(maxSkewSeconds * 1000)],
      ],
    })
  }
}

const HEX64_RE = /^[0-9a-fA-F]{64}$/
const BAD_SHA256_MESSAGE =
  'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.'

/**
 * The payload mode named by `x-amz-content-sha256` (§2.5, A13). Throws 400 InvalidRequest when
 * absent, 400 InvalidArgument for an unknown value, 501 NotImplemented for SigV4a streaming.
 */
export function parsePayloadMode(value: string | undefined): PayloadMode {
  if (value === undefined) {
    throw new S3Error('InvalidRequest', { message: 'Missing required header for this request: x-amz-content-sha256' })
  }
  switch (value) {
    case 'UNSIGNED-PAYLOAD':
      return { kind: 'unsigned' }
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD':
      return { kind: 'streaming-signed', trailer: false }
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER':
      return { kind: 'streaming-signed', trailer: true }
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER':
      return { kind: 'streaming-unsigned-trailer' }
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD':
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER':
      throw new S3Error('NotImplemented')
  }
  if (HEX64_RE.test(value)) return { kind: 'sha256', hex: value }
  throw new S3Error('InvalidArgument', {
    message: BAD_SHA256_MESSAGE,
    fields: [
      ['ArgumentName', 'x-amz-content-sha256'],
      ['ArgumentValue', value],
    ],
  })
}

/**
 * A14 / PRE-10: `host` must be signed, and so must every `x-amz-*` header present (except
 * `x-amz-content-sha256` when `exemptContentSha256`, i.e. header auth).
 */
export function checkHeadersSigned(
  headers: Readonly<Record<string, string>>,
  signed: readonly string[],
  exemptContentSha256: boolean,
): void {
  const set = new Set(signed)
  const missing: string[] = []
  if (!set.has('host')) missing.push('host')
  for (const name of Object.keys(headers).sort()) {
    if (!name.startsWith('x-amz-') || set.has(name)) continue
    if (exemptContentSha256 && name === 'x-amz-content-sha256') continue
    missing.push(name)
  }
  if (missing.length > 0) {
    throw new S3Error('AccessDenied', {
      message: 'There were headers present in the request which were not signed',
      fields: [['HeadersNotSigned', missing.join(', ')]],
    })
  }
}

/**
 * Access-key lookup (A11): 403 InvalidAccessKeyId with `AWSAccessKeyId`. With a session token
 * (`x-amz-security-token`), the key must be temporary credentials issued with exactly that token
 * (else 403 InvalidToken) and not expired at `now` (else 400 ExpiredToken); a temporary key
 * without its token is unknown, as on AWS.
 */
export function lookupCredential(deps: AuthDeps, accessKeyId: string, token?: string, now = new Date()): Credential {
  if (token !== undefined) {
    const session = deps.sessions?.find(accessKeyId)
    if (!session || !tokensEqual(session.sessionToken, token)) throw new S3Error('InvalidToken')
    if (now.getTime() >= session.expiresAt) throw new S3Error('ExpiredToken')
    return session
  }
  const cred = deps.lookup(accessKeyId)
  if (!cred) throw new S3Error('InvalidAccessKeyId', { fields: [['AWSAccessKeyId', accessKeyId]] })
  return cred
}

export interface SignatureCheck {
  accessKeyId: string
  secret: string
  cred: ParsedCredential
  amzDate: string
  provided: string
  request: CanonicalRequestParts
}

/**
 * Rebuilds the canonical request and string to sign and compares signatures in constant time
 * (A15). Returns the signing key, scope and expected signature; throws 403 SignatureDoesNotMatch
 * with AWSAccessKeyId, StringToSign, SignatureProvided, StringToSignBytes, CanonicalRequest,
 * CanonicalRequestBytes.
 */
export function verifySignature(c: SignatureCheck): { key: Buffer; scope: string; signature: string } {
  const scope = credentialScope(c.cred.date, c.cred.region, c.cred.service)
  const canonical = canonicalRequest(c.request)
  const sts = stringToSign(c.amzDate, scope, canonical)
  const key = signingKey(c.secret, c.cred.date, c.cred.region, c.cred.service)
  let signature = hmacHex(key, sts)
  // Non-ASCII header values: clients differ (JS/Python sign the UTF-8 of a string sent as latin1,
  // Go/Java sign the raw bytes they send), so the raw-bytes reading gets a second chance.
  if (
    !signaturesEqual(c.provided, signature) &&
    /[\u0080-\u00ff]/.test(canonical) &&
    !/[^\u0000-\u00ff]/.test(canonical)
  ) {
    const raw = hmacHex(key, stringToSign(c.amzDate, scope, canonical, true))
    if (signaturesEqual(c.provided, raw)) signature = raw
  }
  if (!signaturesEqual(c.provided, signature)) {
    throw new S3Error('SignatureDoesNotMatch', {
      fields: [
        ['AWSAccessKeyId', c.accessKeyId],
        ['StringToSign', sts],
        ['SignatureProvided', c.provided],
        ['StringToSignBytes', spacedHex(sts)],
        ['CanonicalRequest', canonical],
        ['CanonicalRequestBytes', spacedHex(canonical)],
      ],
    })
  }
  return { key, scope, signature }
}
