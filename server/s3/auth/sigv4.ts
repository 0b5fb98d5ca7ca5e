/**
 * @module The authentication entry point: decides anonymous / header / presigned (docs/s3-sse-rules.md §2.9,
 * A1) and verifies `Authorization: AWS4-HMAC-SHA256 …` requests in the order of §2.10.
 */
import { S3Error } from '../errors.js'
import { ALGORITHM } from '../../../lib/sigv4.js'
import {
  checkHeadersSigned,
  checkScope,
  checkSkew,
  lookupCredential,
  parseAmzDate,
  parseCredential,
  parsePayloadMode,
  verifySignature,
} from './common.js'
import { hasQueryAuth, verifyPresigned } from './presign.js'
import { isSigV2Header, isSigV2Query, SIGV2_REFUSED_MESSAGE, verifySigV2Header, verifySigV2Presigned } from './sigv2.js'
import type { AuthContext, AuthDeps, AuthRequest, PayloadMode } from './types.js'

export type { AuthContext, AuthDeps, AuthRequest, PayloadMode } from './types.js'

const SIGV2_MESSAGE = SIGV2_REFUSED_MESSAGE

/**
 * Authenticates a request. Returns null for an anonymous request (no Authorization header and
 * no `X-Amz-*`/SigV2 query authentication), the verified context otherwise; throws S3Error with
 * the code, message and elements of §2.4–§2.10 (A1–A15). The body (A16, chunk signatures,
 * trailers) is checked later by `verifyBody` with the returned context.
 */
export function authenticate(req: AuthRequest, deps: AuthDeps): AuthContext | null {
  const authorization = req.headers['authorization']
  const query = hasQueryAuth(req.query)
  if (authorization !== undefined && query) {
    // A1: both mechanisms.
    throw new S3Error('InvalidArgument', {
      message:
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      fields: [['ArgumentName', 'Authorization']],
    })
  }
  const v2 = authorization !== undefined ? isSigV2Header(authorization) : query && isSigV2Query(req.query)
  if (v2 && deps.sigv4Only) throw new S3Error('InvalidRequest', { message: SIGV2_MESSAGE })
  if (authorization !== undefined) return v2 ? verifySigV2Header(req, deps) : verifyHeaderAuth(req, deps)
  if (query) return v2 ? verifySigV2Presigned(req, deps) : verifyPresigned(req, deps)
  return null
}

interface AuthorizationParts {
  credential: string
  signedHeaders: string[]
  signature: string
}

const A3_MESSAGE =
  'The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.'

/** A2 (scheme) and A3 (exactly the three components, each once, comma-separated with optional spaces). */
export function parseAuthorization(value: string): AuthorizationParts {
  const m = /^(\S*)\s*([\s\S]*)$/.exec(value.trim())
  const scheme = m ? m[1] : ''
  const rest = m ? m[2] : ''
  if (scheme === 'AWS') throw new S3Error('InvalidRequest', { message: SIGV2_MESSAGE })
  if (scheme === 'AWS4-ECDSA-P256-SHA256') throw new S3Error('NotImplemented')
  if (scheme !== ALGORITHM) {
    throw new S3Error('InvalidArgument', {
      message: 'Unsupported Authorization Type',
      fields: [
        ['ArgumentName', 'Authorization'],
        ['ArgumentValue', value],
      ],
    })
  }
  const found = new Map<string, string>()
  for (const component of rest.split(',')) {
    const eq = component.indexOf('=')
    const name = eq < 0 ? component.trim() : component.slice(0, eq).trim()
    if (!['Credential', 'SignedHeaders', 'Signature'].includes(name) || found.has(name) || eq < 0) {
      throw new S3Error('AuthorizationHeaderMalformed', { message: A3_MESSAGE })
    }
    found.set(name, component.slice(eq + 1).trim())
  }
  const credential = found.get('Credential')
  const signedHeaders = found.get('SignedHeaders')
  const signature = found.get('Signature')
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw new S3Error('AuthorizationHeaderMalformed', { message: A3_MESSAGE })
  }
  return { credential, signedHeaders: signedHeaders.split(';'), signature }
}

/**
 * Verifies a header-auth request (§2.10 order A2–A15). For service `kms` pass `bodySha256Hex`
 * (the hash of the whole body): it replaces `x-amz-content-sha256`, which KMS clients don't send,
 * and only `host` must be signed.
 */
export function verifyHeaderAuth(req: AuthRequest, deps: AuthDeps, bodySha256Hex?: string): AuthContext {
  const parts = parseAuthorization(req.headers['authorization'] ?? '')
  const cred = parseCredential(parts.credential, 'header')
  // A6: the request time comes from x-amz-date, else from Date in the same basic format.
  const amzDate = req.headers['x-amz-date'] ?? req.headers['date']
  const requestTime = parseAmzDate(amzDate)
  if (amzDate === undefined || requestTime === undefined) {
    throw new S3Error('AccessDenied', { message: 'AWS authentication requires a valid Date or x-amz-date header' })
  }
  checkScope(cred, amzDate, deps, 'header')
  // A session token is checked with the key it belongs to (InvalidToken wins over an unknown key).
  const token = req.headers['x-amz-security-token']
  const known = lookupCredential(deps, cred.accessKeyId, token, req.now)
  checkSkew(amzDate, requestTime, req.now, deps.maxSkewSeconds)
  let payload: PayloadMode
  let payloadHash: string
  if (bodySha256Hex !== undefined) {
    payload = { kind: 'sha256', hex: bodySha256Hex }
    payloadHash = bodySha256Hex
    checkHeadersSigned({}, parts.signedHeaders, true)
  } else {
    payloadHash = req.headers['x-amz-content-sha256'] ?? ''
    payload = parsePayloadMode(req.headers['x-amz-content-sha256'])
    checkHeadersSigned(req.headers, parts.signedHeaders, true)
  }
  const { key, scope, signature } = verifySignature({
    accessKeyId: cred.accessKeyId,
    secret: known.secretAccessKey,
    cred,
    amzDate,
    provided: parts.signature,
    request: {
      method: req.method,
      path: req.path,
      query: req.query,
      headers: req.headers,
      signedHeaders: parts.signedHeaders,
      payloadHash,
    },
  })
  return {
    accessKeyId: cred.accessKeyId,
    accountId: known.accountId,
    principalArn: known.principalArn,
    identity: known.identity,
    sessionToken: token !== undefined || undefined,
    mode: 'header',
    payload,
    amzDate,
    scope,
    signingKey: key,
    seedSignature: signature,
    signedHeaders: parts.signedHeaders,
  }
}
