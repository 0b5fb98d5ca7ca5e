/**
 * @module Put/Get/DeleteBucketCors and the CORS preflight (OPTIONS on a bucket or object path).
 * The configuration is validated as AWS validates it (API_PutBucketCors, API_CORSRule; see
 * docs/s3-behaviour.md for the answers AWS does not document) and evaluated by ../cors.ts.
 */
import type { CorsRule } from '../../../storage/types.js'
import type { S3Operation } from '../route.js'
import { canBeBucketName } from '../route.js'
import type { S3Request, S3Result, Services } from '../context.js'
import { CORS_METHODS, corsAsk, corsHeaders, matchRule } from '../cors.js'
import { S3Error } from '../errors.js'
import { readSmallBody } from '../request-body.js'
import { parseXmlBody, textOf, xmlDocument } from '../xml.js'
import { updateBucket } from './bucket-update.js'
import { loadBucket, requireIntegrityHeader } from './common.js'

/** "The document is limited to 64 KB in size" (API_PutBucketCors). */
export const MAX_CORS_BODY = 64 * 1024
/** "You can add up to 100 rules to the configuration" (API_CORSConfiguration). */
export const MAX_CORS_RULES = 100
/** "The value cannot be longer than 255 characters" (API_CORSRule, ID). */
const MAX_ID_LENGTH = 255

const invalidRequest = (message: string) => new S3Error('InvalidRequest', { message })

/** A repeated element's values: absent is none, one is a list of one; each must be text. */
function texts(v: unknown): string[] {
  const list = v === undefined ? [] : Array.isArray(v) ? v : [v]
  return list.map((x) => {
    if (typeof x === 'string') return x.trim()
    if (x === null || (typeof x === 'object' && Object.keys(x as object).length === 0)) return ''
    throw new S3Error('MalformedXML')
  })
}

const countStars = (s: string) => s.split('*').length - 1

function parseRule(raw: unknown): CorsRule {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new S3Error('MalformedXML')
  const el = raw as Record<string, unknown>
  const allowedMethods = texts(el.AllowedMethod)
  const allowedOrigins = texts(el.AllowedOrigin)
  // Each CORSRule must identify at least one origin and one method.
  if (allowedMethods.length === 0 || allowedOrigins.length === 0) throw new S3Error('MalformedXML')
  for (const m of allowedMethods) {
    if (!CORS_METHODS.has(m))
      throw invalidRequest(`Found unsupported HTTP method in CORS config. Unsupported method is ${m}`)
  }
  for (const o of allowedOrigins) {
    if (countStars(o) > 1) throw invalidRequest(`AllowedOrigin "${o}" can not have more than one wildcard.`)
  }
  const allowedHeaders = texts(el.AllowedHeader)
  for (const h of allowedHeaders) {
    if (countStars(h) > 1) throw invalidRequest(`AllowedHeader "${h}" can not have more than one wildcard.`)
  }
  const exposeHeaders = texts(el.ExposeHeader)
  for (const h of exposeHeaders) {
    if (h.includes('*'))
      throw invalidRequest(
        `ExposeHeader "${h}" contains wildcard. We currently do not support wildcard for ExposeHeader.`,
      )
  }
  const rule: CorsRule = { allowedOrigins, allowedMethods, allowedHeaders, exposeHeaders }
  const id = textOf(el, 'ID')?.trim()
  if (id !== undefined) {
    if (id.length > MAX_ID_LENGTH) throw new S3Error('MalformedXML')
    rule.id = id
  }
  const maxAge = textOf(el, 'MaxAgeSeconds')?.trim()
  if (maxAge !== undefined) {
    const n = Number(maxAge)
    if (!/^\d{1,10}$/.test(maxAge) || n > 0x7fffffff) throw new S3Error('MalformedXML')
    rule.maxAgeSeconds = n
  }
  return rule
}

/** Parses and validates a `CORSConfiguration` document's content: 1 to 100 valid rules. */
export function parseCorsConfiguration(doc: Record<string, unknown>): CorsRule[] {
  const raw = doc.CORSRule
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]
  if (list.length === 0 || list.length > MAX_CORS_RULES) throw new S3Error('MalformedXML')
  return list.map(parseRule)
}

export async function putBucketCors(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  await loadBucket(svc, req, name)
  requireIntegrityHeader(req.headers)
  const { bytes } = await readSmallBody(req, MAX_CORS_BODY)
  const rules = parseCorsConfiguration(parseXmlBody(bytes.toString('utf8'), 'CORSConfiguration'))
  await updateBucket(svc, req, name, (bucket) => ({ ...bucket, cors: rules }))
  return { status: 200 }
}

const orUndefined = (list: string[]) => (list.length > 0 ? list : undefined)

export async function getBucketCors(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, name)
  if (bucket.cors === undefined) throw new S3Error('NoSuchCORSConfiguration', { fields: [['BucketName', name]] })
  const xml = xmlDocument('CORSConfiguration', {
    CORSRule: bucket.cors.map((r) => ({
      ID: r.id,
      AllowedHeader: orUndefined(r.allowedHeaders),
      AllowedMethod: r.allowedMethods,
      AllowedOrigin: r.allowedOrigins,
      ExposeHeader: orUndefined(r.exposeHeaders),
      MaxAgeSeconds: r.maxAgeSeconds,
    })),
  })
  return { status: 200, xml }
}

export async function deleteBucketCors(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  await updateBucket(svc, req, name, (bucket) =>
    bucket.cors === undefined ? undefined : { ...bucket, cors: undefined },
  )
  return { status: 204 }
}

/**
 * The preflight, unauthenticated, checked in the order S3 answers it: an Origin (400 BadRequest),
 * the bucket (403 "Bucket not found"), its CORS configuration (403 "not enabled"), a valid
 * Access-Control-Request-Method (400), then a matching rule (403 AccessForbidden). Each 403 names
 * the requested method (`OPTIONS` when none) and whether rules were judged for an OBJECT or BUCKET.
 */
export async function optionsPreflight(
  svc: Services,
  req: S3Request,
  op: Extract<S3Operation, { kind: 'OptionsPreflight' }>,
): Promise<S3Result> {
  const ask = corsAsk('OPTIONS', req.headers)
  if (!ask) throw new S3Error('BadRequest', { message: 'Insufficient information. Origin request header needed.' })
  const requested = req.headers['access-control-request-method']
  const forbidden = (message: string | undefined, resourceType: 'BUCKET' | 'OBJECT') =>
    new S3Error('AccessForbidden', {
      message,
      fields: [
        ['Method', requested ?? 'OPTIONS'],
        ['ResourceType', resourceType],
      ],
    })
  const bucket = canBeBucketName(op.bucket) ? await svc.meta.getBucket(op.bucket) : undefined
  if (!bucket) throw forbidden('CORSResponse: Bucket not found', 'BUCKET')
  if (bucket.cors === undefined) throw forbidden('CORSResponse: CORS is not enabled for this bucket.', 'BUCKET')
  if (requested === undefined || !CORS_METHODS.has(requested)) {
    throw new S3Error('BadRequest', { message: `Invalid Access-Control-Request-Method: ${requested ?? 'null'}` })
  }
  const match = matchRule(bucket.cors, ask)
  if (!match) throw forbidden(undefined, op.key === '' ? 'BUCKET' : 'OBJECT')
  return { status: 200, headers: corsHeaders(match, ask) }
}
