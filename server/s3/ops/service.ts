/** @module ListBuckets (docs/s3-sse-rules.md §3.2). */
import type { S3Request, S3Result, Services } from '../context.js'
import { invalidArgument } from '../errors.js'
import { AWS_REGIONS } from '../regions.js'
import { queryValue } from '../route.js'
import { isoTime, xmlDocument } from '../xml.js'
import { canonicalId, isOwner } from './common.js'
import { authorizeIdentity } from '../policy/authorize.js'

/** Continuation tokens are opaque: base64url of the last bucket name returned. */
const encodeToken = (name: string) => Buffer.from(`b:${name}`).toString('base64url')
function decodeToken(token: string): string {
  const s = Buffer.from(token, 'base64url').toString('utf8')
  if (!s.startsWith('b:'))
    throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token)
  return s.slice(2)
}

export async function listBuckets(svc: Services, req: S3Request): Promise<S3Result> {
  authorizeIdentity(req, 's3:ListAllMyBuckets', '*', svc.audit)
  const q = req.query
  const region = queryValue(q, 'bucket-region')
  if (region !== undefined && !AWS_REGIONS.has(region)) {
    throw invalidArgument(`Argument value ${region} is not a valid AWS Region`, 'bucket-region', region)
  }
  const maxRaw = queryValue(q, 'max-buckets')
  let max = 10000
  if (maxRaw !== undefined) {
    max = Number(maxRaw)
    if (!/^\d+$/.test(maxRaw) || max < 1 || max > 10000)
      throw invalidArgument('Argument max-buckets must be an integer between 1 and 10000', 'max-buckets', maxRaw)
  }
  const prefix = queryValue(q, 'prefix')
  const token = queryValue(q, 'continuation-token')
  const after = token !== undefined ? decodeToken(token) : undefined
  const all = (await svc.meta.listBuckets()).filter(
    (b) =>
      isOwner(b, req.principal) &&
      (region === undefined || b.region === region) &&
      (prefix === undefined || b.name.startsWith(prefix)) &&
      (after === undefined || b.name > after),
  )
  const page = all.slice(0, max)
  const more = all.length > page.length
  return {
    status: 200,
    xml: xmlDocument('ListAllMyBucketsResult', {
      Buckets: {
        Bucket: page.map((b) => ({
          Name: b.name,
          CreationDate: isoTime(b.createdAt),
          BucketRegion: b.region,
          BucketArn: `arn:aws:s3:::${b.name}`,
        })),
      },
      Owner: { ID: canonicalId(req.principal.accountId) },
      ContinuationToken: more ? encodeToken(page[page.length - 1].name) : undefined,
      Prefix: prefix,
    }),
  }
}
