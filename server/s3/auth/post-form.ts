/**
 * @module Authentication of a POST Object form: the signature is over the base64 policy field —
 * SigV4 (`x-amz-algorithm`, `x-amz-credential`, `x-amz-date`, `x-amz-signature`: hex HMAC-SHA256
 * under the credential scope's signing key) or SigV2 (`AWSAccessKeyId`, `signature`: base64
 * HMAC-SHA1 under the secret), as the AWS S3 API reference's "Authenticating Requests in Browser-Based
 * Uploads Using POST" describes. A form with neither is anonymous.
 */
import { S3Error } from '../errors.js'
import { ALGORITHM, hmacHex, signaturesEqual, signingKey } from '../../../lib/sigv4.js'
import { checkScope, lookupCredential, parseAmzDate, parseCredential } from './common.js'
import { sameSignature, signV2, SIGV2_REFUSED_MESSAGE } from './sigv2.js'
import type { AuthContext, AuthDeps } from './types.js'

/** Form fields by lowercase name (the first of repeated names). */
export type FormFields = ReadonlyMap<string, string>

function missing(name: string): S3Error {
  return new S3Error('InvalidArgument', {
    message: `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`,
    fields: [
      ['ArgumentName', name],
      ['ArgumentValue', ''],
    ],
  })
}

const mismatch = (accessKeyId: string, policy: string, provided: string) =>
  new S3Error('SignatureDoesNotMatch', {
    fields: [
      ['AWSAccessKeyId', accessKeyId],
      ['StringToSign', policy],
      ['SignatureProvided', provided],
    ],
  })

/** Verifies the form's signature over its policy; null for an anonymous form (no signature fields). */
export function authenticateForm(f: FormFields, deps: AuthDeps, now: Date): AuthContext | null {
  const v4 = f.has('x-amz-signature') || f.has('x-amz-credential') || f.has('x-amz-algorithm')
  const v2 = f.has('awsaccesskeyid') || f.has('signature')
  if (!v4 && !v2) return null
  if (v4 && v2)
    throw new S3Error('InvalidArgument', {
      message:
        'Only one auth mechanism allowed; only the X-Amz-Algorithm form field or the AWSAccessKeyId form field should be specified',
      fields: [['ArgumentName', 'x-amz-algorithm']],
    })
  const policy = f.get('policy')
  if (policy === undefined) throw missing('policy')
  const token = f.get('x-amz-security-token')
  if (v2) {
    if (deps.sigv4Only) throw new S3Error('InvalidRequest', { message: SIGV2_REFUSED_MESSAGE })
    const accessKeyId = f.get('awsaccesskeyid')
    if (accessKeyId === undefined) throw missing('AWSAccessKeyId')
    const provided = f.get('signature')
    if (provided === undefined) throw missing('Signature')
    const known = lookupCredential(deps, accessKeyId, token, now)
    if (!sameSignature(provided, signV2(known.secretAccessKey, policy))) throw mismatch(accessKeyId, policy, provided)
    return {
      accessKeyId,
      accountId: known.accountId,
      principalArn: known.principalArn,
      identity: known.identity,
      sessionToken: token !== undefined || undefined,
      mode: 'header',
      signatureVersion: 2,
      payload: { kind: 'unsigned' },
      amzDate: '',
      scope: '',
      signingKey: Buffer.alloc(0),
      seedSignature: provided,
      signedHeaders: [],
    }
  }
  const algorithm = f.get('x-amz-algorithm')
  if (algorithm === undefined) throw missing('x-amz-algorithm')
  if (algorithm !== ALGORITHM)
    throw new S3Error('InvalidArgument', {
      message: 'Only AWS4-HMAC-SHA256 is supported as the x-amz-algorithm',
      fields: [
        ['ArgumentName', 'x-amz-algorithm'],
        ['ArgumentValue', algorithm],
      ],
    })
  const credential = f.get('x-amz-credential')
  if (credential === undefined) throw missing('x-amz-credential')
  const amzDate = f.get('x-amz-date')
  if (amzDate === undefined) throw missing('x-amz-date')
  const provided = f.get('x-amz-signature')
  if (provided === undefined) throw missing('x-amz-signature')
  if (!parseAmzDate(amzDate))
    throw new S3Error('InvalidArgument', {
      message: `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`,
      fields: [
        ['ArgumentName', 'x-amz-date'],
        ['ArgumentValue', amzDate],
      ],
    })
  const cred = parseCredential(credential, 'query')
  checkScope(cred, amzDate, deps, 'query')
  const known = lookupCredential(deps, cred.accessKeyId, token, now)
  const key = signingKey(known.secretAccessKey, cred.date, cred.region, cred.service)
  if (!signaturesEqual(provided, hmacHex(key, policy))) throw mismatch(cred.accessKeyId, policy, provided)
  return {
    accessKeyId: cred.accessKeyId,
    accountId: known.accountId,
    principalArn: known.principalArn,
    identity: known.identity,
    sessionToken: token !== undefined || undefined,
    mode: 'header',
    payload: { kind: 'unsigned' },
    amzDate,
    scope: `${cred.date}/${cred.region}/${cred.service}/aws4_request`,
    signingKey: key,
    seedSignature: provided,
    signedHeaders: [],
  }
}
