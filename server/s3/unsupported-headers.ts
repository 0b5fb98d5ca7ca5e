/**
 * @module Request headers of features the store does not implement yet. Each answers 501
 * NotImplemented naming the header, never a success that silently drops what it asked for.
 */
import type { S3Operation } from './route.js'
import { S3Error } from './errors.js'

type Check = (h: Record<string, string | undefined>) => string | undefined

const present =
  (names: string[], why: string): Check =>
  (h) => {
    const name = names.find((n) => h[n] !== undefined)
    return name === undefined ? undefined : `${name} (${why})`
  }
const appendWrite = present(['x-amz-write-offset-bytes'], 'appends are not supported')

const CHECKS: Partial<Record<S3Operation['kind'], Check[]>> = {
  PutObject: [appendWrite],
}

/** Throws 501 NotImplemented when the request carries a header of a feature we do not implement. */
export function refuseUnimplementedHeaders(
  kind: S3Operation['kind'],
  headers: Record<string, string | undefined>,
): void {
  for (const check of CHECKS[kind] ?? []) {
    const what = check(headers)
    if (what !== undefined)
      throw new S3Error('NotImplemented', {
        message: `A header you provided implies functionality that is not implemented: ${what}`,
      })
  }
}
