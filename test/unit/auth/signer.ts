/**
 * @module Test support: an independent SigV4 signer (@smithy/signature-v4 over node:crypto), the
 * AWS example credentials, and helpers to turn signed requests into AuthRequest values.
 */
import { SignatureV4 } from '@smithy/signature-v4'
import { expect } from 'vitest'
import type { AuthDeps, AuthRequest } from '../../../server/s3/auth/types.js'
import { S3Error } from '../../../server/s3/errors.js'
import { NodeSha256 } from '../../support/raw-s3.js'

export const AKID = 'AKIAIOSFODNN7EXAMPLE'
export const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
export const T0 = new Date('2013-05-24T00:00:00Z')
export const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

/** Deps with the example key (account 111122223333) for region `region`. */
export function deps(region = 'us-east-1', service: 's3' | 'kms' = 's3'): AuthDeps {
  return {
    lookup: (id) =>
      id === AKID
        ? { secretAccessKey: SECRET, accountId: '111122223333', principalArn: 'arn:aws:iam::111122223333:root' }
        : undefined,
    region,
    maxSkewSeconds: 900,
    service,
  }
}

export function signer(
  opts: { region?: string; service?: string; sessionToken?: string; secret?: string; applyChecksum?: boolean } = {},
): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId: AKID, secretAccessKey: opts.secret ?? SECRET, sessionToken: opts.sessionToken },
    region: opts.region ?? 'us-east-1',
    service: opts.service ?? 's3',
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: opts.applyChecksum ?? true,
  })
}

/** The S3 path encoding done independently of the code under test (encodeURIComponent + RFC 3986 extras). */
export function encodePath(decoded: string): string {
  return decoded
    .split('/')
    .map((seg) => encodeURIComponent(seg).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()))
    .join('/')
}

export interface PlainRequest {
  method: string
  host: string
  /** Decoded path. */
  path: string
  query?: Record<string, string>
  headers?: Record<string, string>
}

function toSmithy(r: PlainRequest) {
  return {
    method: r.method,
    protocol: 'https:',
    hostname: r.host,
    path: encodePath(r.path),
    query: { ...(r.query ?? {}) },
    headers: { host: r.host, ...(r.headers ?? {}) },
  }
}

function toAuthRequest(
  r: PlainRequest,
  signed: { headers: Record<string, string>; query?: Record<string, unknown> },
  now: Date,
): AuthRequest {
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = String(v)
  const query = Object.entries(signed.query ?? {}).map(([k, v]) => [k, String(v ?? '')] as [string, string])
  return { method: r.method, path: r.path, query, headers, now }
}

/** Signs in the Authorization header with smithy and returns the request as the server sees it. */
export async function signHeader(
  r: PlainRequest,
  opts: {
    date?: Date
    now?: Date
    region?: string
    service?: string
    sessionToken?: string
    unsignable?: string[]
    body?: string
    applyChecksum?: boolean
  } = {},
): Promise<AuthRequest> {
  const req = { ...toSmithy(r), body: opts.body }
  const signed = await signer(opts).sign(req, {
    signingDate: opts.date ?? T0,
    unsignableHeaders: opts.unsignable ? new Set(opts.unsignable) : undefined,
  })
  return toAuthRequest(r, signed as never, opts.now ?? opts.date ?? T0)
}

/** Presigns with smithy (payload UNSIGNED-PAYLOAD) and returns the request as the server sees it. */
export async function presign(
  r: PlainRequest,
  opts: {
    date?: Date
    now?: Date
    expiresIn?: number
    region?: string
    sessionToken?: string
    unhoistable?: string[]
  } = {},
): Promise<AuthRequest> {
  const req = toSmithy(r)
  // As @aws-sdk/s3-request-presigner does: the header is hoisted into the query.
  ;(req.headers as Record<string, string>)['X-Amz-Content-Sha256'] = 'UNSIGNED-PAYLOAD'
  const signed = await signer(opts).presign(req, {
    signingDate: opts.date ?? T0,
    expiresIn: opts.expiresIn ?? 3600,
    unhoistableHeaders: opts.unhoistable ? new Set(opts.unhoistable) : undefined,
  })
  return toAuthRequest(r, signed as never, opts.now ?? opts.date ?? T0)
}

/** Runs `fn` and asserts it throws an S3Error with `code` (and message / fields when given). */
export function expectS3Error(
  fn: () => unknown,
  code: string,
  opts: { message?: string | RegExp; fields?: Record<string, string | number | RegExp> } = {},
): S3Error {
  let caught: unknown
  try {
    fn()
  } catch (err) {
    caught = err
  }
  return checkS3Error(caught, code, opts)
}

/** Async twin of expectS3Error. */
export async function expectS3Rejects(
  p: Promise<unknown>,
  code: string,
  opts: { message?: string | RegExp; fields?: Record<string, string | number | RegExp> } = {},
): Promise<S3Error> {
  let caught: unknown
  try {
    await p
  } catch (err) {
    caught = err
  }
  return checkS3Error(caught, code, opts)
}

function checkS3Error(
  caught: unknown,
  code: string,
  opts: { message?: string | RegExp; fields?: Record<string, string | number | RegExp> },
): S3Error {
  expect(caught, `expected S3Error ${code}`).toBeInstanceOf(S3Error)
  const err = caught as S3Error
  expect(err.code).toBe(code)
  if (typeof opts.message === 'string') expect(err.message).toBe(opts.message)
  else if (opts.message) expect(err.message).toMatch(opts.message)
  for (const [name, want] of Object.entries(opts.fields ?? {})) {
    const f = err.fields.find(([n]) => n === name)
    expect(f, `field ${name}`).toBeDefined()
    if (want instanceof RegExp) expect(String(f![1])).toMatch(want)
    else expect(String(f![1])).toBe(String(want))
  }
  return err
}

/** Replaces or removes one header of a request copy. */
export function withHeaders(req: AuthRequest, changes: Record<string, string | undefined>): AuthRequest {
  const headers = { ...req.headers }
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete headers[k]
    else headers[k] = v
  }
  return { ...req, headers }
}

/** Replaces or removes one query parameter of a request copy. */
export function withQuery(req: AuthRequest, changes: Record<string, string | undefined>): AuthRequest {
  let query = req.query.filter(([n]) => !(n in changes))
  for (const [k, v] of Object.entries(changes)) if (v !== undefined) query = [...query, [k, v]]
  return { ...req, query }
}
