/** @module Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus (docs/s3-sse-rules.md §5.6, POL-05/06). */
import type { S3Request, S3Result, Services } from '../context.js'
import { S3Error } from '../errors.js'
import { isPublic } from '../policy/public.js'
import { MAX_POLICY_BYTES, PolicyError, parsePolicy, type Policy } from '../policy/parse.js'
import { readSmallBody } from '../request-body.js'
import { xmlDocument } from '../xml.js'
import { updateBucket } from './bucket-update.js'
import { loadBucket } from './common.js'

/** Bodies are read up to a little over the 20 KB quota, so the size message can be AWS's. */
const MAX_BODY = MAX_POLICY_BYTES + 1

export async function putBucketPolicy(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  await loadBucket(svc, req, name)
  let text: string
  try {
    text = (await readSmallBody(req, MAX_BODY)).bytes.toString('utf8')
  } catch (err) {
    // readSmallBody refuses an oversized body as MalformedXML; here it is the policy quota.
    if (err instanceof S3Error && err.code === 'MalformedXML')
      throw new S3Error('MalformedPolicy', { message: 'Policy exceeds the maximum allowed document size.' })
    throw err
  }
  let policy: Policy
  try {
    policy = parsePolicy(text, name)
  } catch (err) {
    if (err instanceof PolicyError) throw new S3Error('MalformedPolicy', { message: err.message })
    throw err
  }
  await updateBucket(svc, req, name, (current) => {
    // BlockPublicPolicy: a public policy is refused, whoever sends it (S3 User Guide, Block Public Access).
    if (current.publicAccessBlock?.blockPublicPolicy && isPublic(policy)) throw new S3Error('AccessDenied')
    return { ...current, policy: text }
  })
  return { status: 204 }
}

export async function getBucketPolicy(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, name)
  if (bucket.policy === undefined) throw new S3Error('NoSuchBucketPolicy', { fields: [['BucketName', name]] })
  const body = Buffer.from(bucket.policy, 'utf8')
  return {
    status: 200,
    headers: { 'Content-Type': 'application/json' },
    stream: {
      length: body.length,
      chunks: (async function* () {
        yield body
      })(),
    },
  }
}

export async function deleteBucketPolicy(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  await updateBucket(svc, req, name, (bucket) =>
    bucket.policy === undefined ? undefined : { ...bucket, policy: undefined },
  )
  return { status: 204 }
}

export async function getBucketPolicyStatus(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, name)
  if (bucket.policy === undefined) throw new S3Error('NoSuchBucketPolicy', { fields: [['BucketName', name]] })
  const xml = xmlDocument('PolicyStatus', { IsPublic: isPublic(parsePolicy(bucket.policy, name)) })
  return { status: 200, xml }
}
