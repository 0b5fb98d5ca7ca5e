/**
 * @module Put/Get/DeleteBucketOwnershipControls and Put/Get/DeletePublicAccessBlock: the two bucket
 * settings that decide whether ACLs count (acl.ts) and what Block Public Access refuses.
 */
import type { ObjectOwnership, PublicAccessBlock } from '../../../storage/types.js'
import { onlyFullControlOf, ownershipOf } from '../acl.js'
import type { S3Request, S3Result, Services } from '../context.js'
import { S3Error } from '../errors.js'
import { readXml } from '../request-body.js'
import { textOf, xmlDocument } from '../xml.js'
import { updateBucket } from './bucket-update.js'
import { loadBucket } from './common.js'

const OWNERSHIPS = new Set<ObjectOwnership>(['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'])

/** An `x-amz-object-ownership` header or `<ObjectOwnership>` value; InvalidArgument otherwise. */
export function parseOwnership(v: string, where: 'header' | 'xml'): ObjectOwnership {
  const s = v.trim()
  if (OWNERSHIPS.has(s as ObjectOwnership)) return s as ObjectOwnership
  if (where === 'xml') throw new S3Error('MalformedXML')
  throw new S3Error('InvalidArgument', {
    message: 'Invalid x-amz-object-ownership header',
    fields: [
      ['ArgumentName', 'x-amz-object-ownership'],
      ['ArgumentValue', s.slice(0, 64)],
    ],
  })
}

export async function putBucketOwnershipControls(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  await loadBucket(svc, req, name)
  const body = await readXml(req, 'OwnershipControls')
  const rules = Array.isArray(body.Rule) ? body.Rule : []
  if (rules.length !== 1 || typeof rules[0] !== 'object' || rules[0] === null) throw new S3Error('MalformedXML')
  const value = textOf(rules[0] as Record<string, unknown>, 'ObjectOwnership')
  if (value === undefined) throw new S3Error('MalformedXML')
  const ownership = parseOwnership(value, 'xml')
  await updateBucket(svc, req, name, (bucket) => {
    // Turning ACLs off while the bucket ACL grants anyone but the owner would silently revoke those grants.
    if (
      ownership === 'BucketOwnerEnforced' &&
      bucket.acl !== undefined &&
      !onlyFullControlOf(bucket.acl, bucket.ownerAccountId)
    ) {
      throw new S3Error('InvalidBucketAclWithObjectOwnership')
    }
    return ownershipOf(bucket) === ownership && bucket.objectOwnership !== undefined
      ? undefined
      : { ...bucket, objectOwnership: ownership }
  })
  return { status: 200 }
}

export async function getBucketOwnershipControls(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, name)
  const ownership = ownershipOf(bucket)
  if (ownership === 'none') throw new S3Error('OwnershipControlsNotFoundError', { fields: [['BucketName', name]] })
  return { status: 200, xml: xmlDocument('OwnershipControls', { Rule: { ObjectOwnership: ownership } }) }
}

/** Without ownership controls a bucket behaves as ObjectWriter (acl.ts ownershipOf 'none'). */
export async function deleteBucketOwnershipControls(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  await updateBucket(svc, req, name, (bucket) =>
    bucket.objectOwnership === 'none' ? undefined : { ...bucket, objectOwnership: 'none' },
  )
  return { status: 204 }
}

const PAB_FIELDS: ReadonlyArray<readonly [string, keyof PublicAccessBlock]> = [
  ['BlockPublicAcls', 'blockPublicAcls'],
  ['IgnorePublicAcls', 'ignorePublicAcls'],
  ['BlockPublicPolicy', 'blockPublicPolicy'],
  ['RestrictPublicBuckets', 'restrictPublicBuckets'],
]

/** `<PublicAccessBlockConfiguration>`: each setting `true` or `false`; an absent one is false. */
export function parsePublicAccessBlock(body: Record<string, unknown>): PublicAccessBlock {
  const out: PublicAccessBlock = {
    blockPublicAcls: false,
    ignorePublicAcls: false,
    blockPublicPolicy: false,
    restrictPublicBuckets: false,
  }
  for (const [element, field] of PAB_FIELDS) {
    const v = textOf(body, element)?.trim().toLowerCase()
    if (v === undefined) continue
    if (v !== 'true' && v !== 'false') throw new S3Error('MalformedXML')
    out[field] = v === 'true'
  }
  return out
}

export async function putPublicAccessBlock(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  await loadBucket(svc, req, name)
  const pab = parsePublicAccessBlock(await readXml(req, 'PublicAccessBlockConfiguration'))
  await updateBucket(svc, req, name, (bucket) => ({ ...bucket, publicAccessBlock: pab }))
  return { status: 200 }
}

export async function getPublicAccessBlock(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, name)
  const pab = bucket.publicAccessBlock
  if (pab === undefined) throw new S3Error('NoSuchPublicAccessBlockConfiguration', { fields: [['BucketName', name]] })
  const body: Record<string, boolean> = {}
  for (const [element, field] of PAB_FIELDS) body[element] = pab[field]
  return { status: 200, xml: xmlDocument('PublicAccessBlockConfiguration', body) }
}

export async function deletePublicAccessBlock(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  await updateBucket(svc, req, name, (bucket) =>
    bucket.publicAccessBlock === undefined ? undefined : { ...bucket, publicAccessBlock: undefined },
  )
  return { status: 204 }
}
