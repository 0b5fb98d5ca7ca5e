/**
 * @module Signature Version 2 (`Authorization: AWS AKID:signature` and presigned
 * `AWSAccessKeyId`/`Expires`/`Signature` query auth), as the AWS S3 developer guide's
 * "Signing and authenticating REST requests" describes it: HMAC-SHA1 over
 * Method, Content-MD5, Content-Type, Date (or Expires), the x-amz-* headers and the resource.
 * SigV2 carries no region; the identity lookup (access keys, session tokens) is SigV4's.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { S3Error } from '../errors.js'
import { uriEncode } from '../../../lib/sigv4.js'
import { isoSeconds, lookupCredential, parseAmzDate, parsePayloadMode } from './common.js'
import type { AuthContext, AuthDeps, AuthRequest, PayloadMode } from './types.js'

/** AWS's answer to SigV2 where only SigV4 is accepted (`--sigv4-only`, and AWS's newer regions). */
export const SIGV2_REFUSED_MESSAGE =
  'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.'

/**
 * Sub-resources the AWS developer guide lists for the CanonicalizedResource (with `delete`, `cors`, `restore`, as s3cmd
 * signs them).
 */
const CLASSIC_SUBRESOURCES = [
  'acl',
  'lifecycle',
  'location',
  'logging',
  'notification',
  'partNumber',
  'policy',
  'requestPayment',
  'torrent',
  'uploadId',
  'uploads',
  'versionId',
  'versioning',
  'versions',
  'website',
  'delete',
  'cors',
  'restore',
]
const RESPONSE_OVERRIDES = [
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
]
/** botocore's HmacV1 list (the classic ones, the response overrides and the newer configuration sub-resources). */
const BOTOCORE_SUBRESOURCES = [
  ...CLASSIC_SUBRESOURCES,
  ...RESPONSE_OVERRIDES,
  'accelerate',
  'defaultObjectAcl',
  'tagging',
  'storageClass',
  'replication',
  'analytics',
  'metrics',
  'inventory',
  'select',
  'select-type',
  'object-lock',
]
/** Every sub-resource any client signs (MinIO's list adds the Object Lock and encryption ones). */
const ALL_SUBRESOURCES = [
  ...BOTOCORE_SUBRESOURCES,
  'encryption',
  'retention',
  'legal-hold',
  'ownershipControls',
  'publicAccessBlock',
  'policyStatus',
]
/**
 * Clients disagree on which sub-resources they sign (s3cmd signs only the classic ones, botocore
 * adds `tagging` and the response overrides); each of these readings is tried in turn.
 */
const SUBRESOURCE_READINGS: ReadonlyArray<ReadonlySet<string>> = [
  new Set(ALL_SUBRESOURCES),
  new Set(BOTOCORE_SUBRESOURCES),
  new Set([...CLASSIC_SUBRESOURCES, ...RESPONSE_OVERRIDES]),
  new Set(CLASSIC_SUBRESOURCES),
]

const V4_QUERY = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Signature',
  'X-Amz-Date',
  'X-Amz-SignedHeaders',
  'X-Amz-Expires',
]

/** The `Authorization` header names the SigV2 scheme (`AWS AKID:signature`). */
export function isSigV2Header(authorization: string | undefined): boolean {
  return authorization !== undefined && /^AWS\s/.test(authorization.trimStart())
}

/** The query carries SigV2 auth (`AWSAccessKeyId` or `Signature`) and no SigV4 parameter. */
export function isSigV2Query(query: ReadonlyArray<readonly [string, string]>): boolean {
  const v2 = query.some(([n]) => n === 'AWSAccessKeyId' || n === 'Signature')
  return v2 && !query.some(([n]) => V4_QUERY.includes(n))
}

export interface StringToSignV2Parts {
  method: string
  /** Lowercase header names. */
  headers: Readonly<Record<string, string>>
  /** The Date line: the Date header ("" when x-amz-date is sent), or Expires for presigned URLs. */
  date: string
  /** Extra `x-amz-*` values signed as headers (presigned URLs carry them in the query). */
  extraAmz?: ReadonlyArray<readonly [string, string]>
  /** Content-MD5 / Content-Type from the query (presigned URLs), when not sent as headers. */
  contentMd5?: string
  contentType?: string
  /** The resource path as signed: `/bucket/key` percent-encoded as sent. */
  resourcePath: string
  query: ReadonlyArray<readonly [string, string]>
  subresources?: ReadonlySet<string>
}

/** CanonicalizedAmzHeaders: lowercase names sorted, values trimmed and unfolded, repeats joined with `,`. */
function canonicalAmzHeaders(
  headers: Readonly<Record<string, string>>,
  extra: ReadonlyArray<readonly [string, string]>,
): string {
  const all = new Map<string, string[]>()
  const add = (name: string, value: string) => {
    const n = name.toLowerCase()
    if (!n.startsWith('x-amz-')) return
    const v = value.replace(/\s*\r?\n\s*/g, ' ').trim()
    all.set(n, [...(all.get(n) ?? []), v])
  }
  for (const [n, v] of Object.entries(headers)) add(n, v)
  for (const [n, v] of extra) add(n, v)
  return [...all.keys()]
    .sort()
    .map((n) => `${n}:${all.get(n)!.join(',')}\n`)
    .join('')
}

/** The CanonicalizedResource: the path, then the signed sub-resources sorted by name (`?acl`, `?uploadId=…`). */
export function canonicalResourceV2(
  path: string,
  query: ReadonlyArray<readonly [string, string]>,
  subresources: ReadonlySet<string> = SUBRESOURCE_READINGS[0],
): string {
  const picked = query.filter(([n]) => subresources.has(n))
  if (picked.length === 0) return path
  const sorted = [...picked].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  return path + '?' + sorted.map(([n, v]) => (v === '' ? n : `${n}=${v}`)).join('&')
}

/** The SigV2 StringToSign. */
export function stringToSignV2(p: StringToSignV2Parts): string {
  const md5 = p.headers['content-md5'] ?? p.contentMd5 ?? ''
  const type = p.headers['content-type'] ?? p.contentType ?? ''
  return `${p.method}\n${md5}\n${type}\n${p.date}\n${canonicalAmzHeaders(p.headers, p.extraAmz ?? [])}${canonicalResourceV2(p.resourcePath, p.query, p.subresources)}`
}

/** Base64 HMAC-SHA1 of the string to sign under the secret access key. */
export function signV2(secret: string, stringToSign: string): string {
  return createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64')
}

/** Constant-time comparison of two base64 signatures (different lengths are simply unequal). */
export function sameSignature(provided: string, expected: string): boolean {
  const a = Buffer.from(provided, 'utf8')
  const b = Buffer.from(expected, 'utf8')
  const len = Math.max(a.length, b.length, 1)
  const pa = Buffer.alloc(len)
  const pb = Buffer.alloc(len)
  a.copy(pa)
  b.copy(pb)
  return timingSafeEqual(pa, pb) && a.length === b.length
}

/**
 * The paths a client may have signed: as sent, and (if it differs) the decoded path encoded once
 * the S3 way; a path-style bucket request (`/bucket`) also as `/bucket/`, which botocore signs.
 */
function resourcePaths(req: AuthRequest): string[] {
  const prefix = req.vhostBucket !== undefined ? `/${req.vhostBucket}` : ''
  const encoded = prefix + uriEncode(req.path, true)
  const raw = req.rawPath !== undefined ? prefix + req.rawPath : encoded
  const paths = raw === encoded ? [raw] : [raw, encoded]
  if (req.vhostBucket === undefined && /^\/[^/]+$/.test(raw)) paths.push(raw + '/')
  return paths
}

/**
 * Checks the signature against every reading of the request clients are known to sign (paths,
 * sub-resource lists, Date lines); the first reading's string is the one an error reports.
 */
function checkSignature(
  req: AuthRequest,
  accessKeyId: string,
  secret: string,
  provided: string,
  base: Omit<StringToSignV2Parts, 'resourcePath' | 'subresources' | 'date'>,
  dates: string[],
): void {
  let first: string | undefined
  for (const resourcePath of resourcePaths(req)) {
    for (const subresources of SUBRESOURCE_READINGS) {
      for (const date of dates) {
        const sts = stringToSignV2({ ...base, resourcePath, subresources, date })
        first ??= sts
        if (sameSignature(provided, signV2(secret, sts))) return
      }
    }
  }
  throw new S3Error('SignatureDoesNotMatch', {
    fields: [
      ['AWSAccessKeyId', accessKeyId],
      ['StringToSign', first ?? ''],
      ['SignatureProvided', provided],
      [
        'StringToSignBytes',
        Buffer.from(first ?? '', 'utf8')
          .toString('hex')
          .replace(/(..)(?!$)/g, '$1 '),
      ],
    ],
  })
}

/** A SigV2 date header: RFC 1123 (`Tue, 27 Mar 2007 19:36:42 +0000`) or ISO 8601 basic. */
function parseV2Date(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined
  const basic = parseAmzDate(value)
  if (basic) return basic
  if (!/^[A-Za-z]{3},\s/.test(value.trim())) return undefined
  const t = Date.parse(value)
  return Number.isNaN(t) ? undefined : new Date(t)
}

/** The payload of a SigV2 request: SigV2 signs no body; a hex `x-amz-content-sha256` is still checked. */
function v2Payload(headers: Readonly<Record<string, string>>): PayloadMode {
  const header = headers['x-amz-content-sha256']
  if (header === undefined) return { kind: 'unsigned' }
  const mode = parsePayloadMode(header)
  if (mode.kind === 'streaming-signed')
    throw new S3Error('InvalidRequest', { message: 'Signed aws-chunked payloads require AWS Signature Version 4.' })
  return mode
}

function context(
  req: AuthRequest,
  accessKeyId: string,
  known: ReturnType<typeof lookupCredential>,
  token: string | undefined,
  mode: AuthContext['mode'],
  provided: string,
): AuthContext {
  return {
    accessKeyId,
    accountId: known.accountId,
    principalArn: known.principalArn,
    identity: known.identity,
    sessionToken: token !== undefined || undefined,
    mode,
    payload: v2Payload(req.headers),
    signatureVersion: 2,
    amzDate: '',
    scope: '',
    signingKey: Buffer.alloc(0),
    seedSignature: provided,
    signedHeaders: [],
  }
}

/** `Authorization: AWS AKID:signature`; the request time (x-amz-date, else Date) must be within the skew window. */
export function verifySigV2Header(req: AuthRequest, deps: AuthDeps): AuthContext {
  const m = /^AWS\s+([^:\s]+):(\S+)\s*$/.exec((req.headers['authorization'] ?? '').trim())
  if (!m)
    throw new S3Error('InvalidArgument', {
      message: "Authorization header is invalid -- one and only one ' ' (space) required",
      fields: [
        ['ArgumentName', 'Authorization'],
        ['ArgumentValue', req.headers['authorization'] ?? ''],
      ],
    })
  const [, accessKeyId, provided] = m
  const amzDate = req.headers['x-amz-date']
  const dateText = amzDate ?? req.headers['date']
  const requestTime = parseV2Date(dateText)
  if (dateText === undefined || requestTime === undefined) {
    throw new S3Error('AccessDenied', { message: 'AWS authentication requires a valid Date or x-amz-date header' })
  }
  const token = req.headers['x-amz-security-token']
  const known = lookupCredential(deps, accessKeyId, token, req.now)
  if (Math.abs(req.now.getTime() - requestTime.getTime()) > deps.maxSkewSeconds * 1000) {
    throw new S3Error('RequestTimeTooSkewed', {
      fields: [
        ['RequestTime', dateText],
        ['ServerTime', isoSeconds(req.now)],
        ['MaxAllowedSkewMilliseconds', String(deps.maxSkewSeconds * 1000)],
      ],
    })
  }
  // With x-amz-date the Date line is empty (it is signed among the x-amz-* headers); some clients
  // still put their Date header there, which is accepted too.
  const dates =
    amzDate === undefined
      ? [req.headers['date'] ?? '']
      : ['', ...(req.headers['date'] !== undefined ? [req.headers['date']] : [])]
  checkSignature(
    req,
    accessKeyId,
    known.secretAccessKey,
    provided,
    { method: req.method, headers: req.headers, query: req.query },
    dates,
  )
  return context(req, accessKeyId, known, token, 'header', provided)
}

function firstParam(query: ReadonlyArray<readonly [string, string]>, name: string): string | undefined {
  for (const [n, v] of query) if (n === name) return v
  return undefined
}

/**
 * Presigned SigV2: `AWSAccessKeyId`, `Expires` (epoch seconds) and `Signature` all present; the
 * signature is checked first, then whether `Expires` has passed (403 AccessDenied "Request has expired").
 */
export function verifySigV2Presigned(req: AuthRequest, deps: AuthDeps): AuthContext {
  const accessKeyId = firstParam(req.query, 'AWSAccessKeyId')
  const provided = firstParam(req.query, 'Signature')
  const expires = firstParam(req.query, 'Expires')
  if (accessKeyId === undefined || provided === undefined || expires === undefined) {
    throw new S3Error('AccessDenied', {
      message: 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters',
    })
  }
  if (!/^\d+$/.test(expires))
    throw new S3Error('AccessDenied', { message: 'Invalid date (should be seconds since epoch): ' + expires })
  // botocore moves the x-amz-* headers it signs (the session token among them) into the query.
  const amzQuery = req.query.filter(
    ([n]) => n.toLowerCase().startsWith('x-amz-') && req.headers[n.toLowerCase()] === undefined,
  )
  const token =
    req.headers['x-amz-security-token'] ?? amzQuery.find(([n]) => n.toLowerCase() === 'x-amz-security-token')?.[1]
  const known = lookupCredential(deps, accessKeyId, token, req.now)
  checkSignature(
    req,
    accessKeyId,
    known.secretAccessKey,
    provided,
    {
      method: req.method,
      headers: req.headers,
      query: req.query,
      extraAmz: amzQuery,
      contentMd5: firstParam(req.query, 'Content-MD5') ?? firstParam(req.query, 'content-md5'),
      contentType: firstParam(req.query, 'Content-Type') ?? firstParam(req.query, 'content-type'),
    },
    [expires],
  )
  const end = Number(expires) * 1000
  if (req.now.getTime() >= end) {
    throw new S3Error('AccessDenied', {
      message: 'Request has expired',
      fields: [
        ['Expires', isoSeconds(new Date(end))],
        ['ServerTime', isoSeconds(req.now)],
      ],
    })
  }
  return context(req, accessKeyId, known, token, 'presigned', provided)
}

/** AWS's answer when SSE-KMS meets a SigV2 request (asked for, a bucket default, or an object read). */
export function kmsNeedsSigV4(): S3Error {
  return new S3Error('InvalidArgument', {
    message: 'Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.',
    fields: [
      ['ArgumentName', 'Authorization'],
      ['ArgumentValue', 'null'],
    ],
  })
}

/** SSE-KMS needs SigV4 on AWS: a SigV2 request asking for it answers 400 InvalidArgument. */
export function refuseKmsOverSigV2(auth: AuthContext | null, headers: Readonly<Record<string, string>>): void {
  if (auth?.signatureVersion !== 2) return
  const sse = headers['x-amz-server-side-encryption']
  if (sse === undefined || !sse.startsWith('aws:kms')) return
  throw kmsNeedsSigV4()
}
