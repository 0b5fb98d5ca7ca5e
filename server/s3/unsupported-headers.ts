/**
 * @module Request headers of features the store does not implement yet. Each answers 501
 * NotImplemented naming the header, never a success that silently drops what it asked for.
 */
import type { S3Operation } from './route.js'
import { S3Error } from './errors.js'

/** Canned ACLs that ask for nothing beyond what every object already is: owned by the bucket owner, private. */
const HARMLESS_ACLS = new Set(['private', 'bucket-owner-full-control'])

const GRANT_HEADERS = ['x-amz-grant-read', 'x-amz-grant-write', 'x-amz-grant-read-acp', 'x-amz-grant-write-acp', 'x-amz-grant-full-control']

type Check = (h: Record<string, string | undefined>) => string | undefined

const acl: Check = (h) => {
  const v = h['x-amz-acl']
  if (v !== undefined && !HARMLESS_ACLS.has(v.trim())) return `x-amz-acl: ${v.trim().slice(0, 64)} (access control lists are not supported)`
  return GRANT_HEADERS.find((g) => h[g] !== undefined)
}
const present = (names: string[], why: string): Check => (h) => {
  const name = names.find((n) => h[n] !== undefined)
  return name === undefined ? undefined : `${name} (${why})`
}
const appendWrite = present(['x-amz-write-offset-bytes'], 'appends are not supported')

const ownership: Check = (h) => {
  const v = h['x-amz-object-ownership']
  // Without ACLs every object belongs to the bucket owner: that is what BucketOwnerEnforced asks for.
  return v !== undefined && v.trim() !== 'BucketOwnerEnforced' ? `x-amz-object-ownership: ${v.trim().slice(0, 64)} (only BucketOwnerEnforced is supported)` : undefined
}

const CHECKS: Partial<Record<S3Operation['kind'], Check[]>> = {
  PutObject: [acl, appendWrite],
  CopyObject: [acl],
  CreateMultipartUpload: [acl],
  CreateBucket: [acl, ownership],
}

/** Throws 501 NotImplemented when the request carries a header of a feature we do not implement. */
export function refuseUnimplementedHeaders(kind: S3Operation['kind'], headers: Record<string, string | undefined>): void {
  for (const check of CHECKS[kind] ?? []) {
    const what = check(headers)
    if (what !== undefined) throw new S3Error('NotImplemented', { message: `A header you provided implies functionality that is not implemented: ${what}` })
  }
}
