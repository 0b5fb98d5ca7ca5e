/**
 * @module Object and bucket tags: the one parser of the `x-amz-tagging` header and of a `<Tagging>`
 * XML document, and the one set of validation rules (AWS S3 User Guide, "Categorizing your storage
 * using tags"; "Using cost allocation S3 bucket tags"): a key is 1..128 UTF-16 code units, a value
 * 0..256, both of Unicode letters, digits, white space and `+ - = . _ : / @`; a key appears once; a
 * user request may not use the `aws:` prefix; an object has at most 10 tags, a bucket 50.
 */
import { S3Error } from './errors.js'
import { AMZ_TAGGING, AMZ_TAGGING_COUNT } from './headers.js'
import { parseXmlBody, textOf, xmlDocument } from './xml.js'

/** Tag key -> value. Built with Object.fromEntries only, read with Object.hasOwn. */
export type TagSet = Record<string, string>

export const MAX_OBJECT_TAGS = 10
export const MAX_BUCKET_TAGS = 50
const MAX_KEY_LENGTH = 128
const MAX_VALUE_LENGTH = 256
const ALLOWED = /^[\p{L}\p{Z}\p{N}\s_.:/=+\-@]*$/u

export type TagTarget = 'object' | 'bucket'

const invalidTag = (message: string) => new S3Error('InvalidTag', { message })

/**
 * Checks tag pairs in the order sent and returns them as a TagSet. Errors: InvalidTag (bad key or
 * value, duplicate key, `aws:` prefix, too many bucket tags), BadRequest (more than 10 object tags).
 */
export function validateTags(pairs: ReadonlyArray<readonly [string, string]>, target: TagTarget): TagSet {
  const seen = new Set<string>()
  for (const [key, value] of pairs) {
    if (key.length === 0 || key.length > MAX_KEY_LENGTH || !ALLOWED.test(key))
      throw invalidTag('The TagKey you have provided is invalid')
    if (value.length > MAX_VALUE_LENGTH || !ALLOWED.test(value))
      throw invalidTag('The TagValue you have provided is invalid')
    if (key.toLowerCase().startsWith('aws:')) throw invalidTag('Your TagKey cannot be prefixed with aws:')
    if (seen.has(key)) throw invalidTag('Cannot provide multiple Tags with the same key')
    seen.add(key)
  }
  if (target === 'object' && pairs.length > MAX_OBJECT_TAGS)
    throw new S3Error('BadRequest', { message: `Object tags cannot be greater than ${MAX_OBJECT_TAGS}` })
  if (target === 'bucket' && pairs.length > MAX_BUCKET_TAGS)
    throw invalidTag(`Bucket tag count cannot be greater than ${MAX_BUCKET_TAGS}`)
  return Object.fromEntries(pairs.map(([k, v]) => [k, v]))
}

/**
 * The `x-amz-tagging` header (PutObject, CopyObject with REPLACE, CreateMultipartUpload; the POST
 * form's `tagging` field holds a Tagging document instead): URL query encoding, `k1=v1&k2=v2`, a
 * key without `=` has the empty value. An empty header is no tags.
 */
export function parseTaggingHeader(value: string): TagSet {
  const pairs: Array<[string, string]> = []
  if (value.trim() !== '') {
    for (const part of value.split('&')) {
      const eq = part.indexOf('=')
      pairs.push(eq < 0 ? [decodeQuery(part), ''] : [decodeQuery(part.slice(0, eq)), decodeQuery(part.slice(eq + 1))])
    }
  }
  return validateTags(pairs, 'object')
}

/** Header values reach us as latin1; a decoded tag is UTF-8. `+` is a space, as in any query string. */
function decodeQuery(s: string): string {
  try {
    const text = decodeURIComponent(s.replace(/\+/g, ' '))
    // eslint-disable-next-line no-control-regex
    return /[^\x00-\x7f]/.test(text) && !/%/.test(s) ? Buffer.from(text, 'latin1').toString('utf8') : text
  } catch {
    throw new S3Error('InvalidArgument', {
      message: 'The header x-amz-tagging is not a valid URL query string.',
      fields: [['ArgumentName', 'x-amz-tagging']],
    })
  }
}

/**
 * A `<Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>` document (PutObjectTagging,
 * PutBucketTagging, the POST form's `tagging` field). Character references are decoded (xml.ts);
 * a Tag without Key or Value, or without TagSet, is MalformedXML.
 */
export function parseTaggingXml(text: string, target: TagTarget): TagSet {
  const doc = parseXmlBody(text, 'Tagging')
  const tagSet = doc.TagSet
  if (tagSet === undefined) throw new S3Error('MalformedXML')
  if (tagSet === '') return validateTags([], target)
  if (typeof tagSet !== 'object' || tagSet === null || Array.isArray(tagSet)) throw new S3Error('MalformedXML')
  const raw = (tagSet as Record<string, unknown>).Tag ?? []
  if (!Array.isArray(raw)) throw new S3Error('MalformedXML')
  const pairs = raw.map((t): [string, string] => {
    if (typeof t !== 'object' || t === null) throw new S3Error('MalformedXML')
    const key = textOf(t as Record<string, unknown>, 'Key')
    const value = textOf(t as Record<string, unknown>, 'Value')
    if (key === undefined || value === undefined) throw new S3Error('MalformedXML')
    return [key, value]
  })
  return validateTags(pairs, target)
}

/** The `<Tagging>` answer of GetObjectTagging / GetBucketTagging. */
export function taggingXml(tags: TagSet | undefined): string {
  const Tag = Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }))
  return xmlDocument('Tagging', { TagSet: { Tag } })
}

/** How many tags a version has (the `x-amz-tagging-count` header when above 0). */
export function tagCount(tags: TagSet | undefined): number {
  return tags ? Object.keys(tags).length : 0
}

/**
 * The tags an `x-amz-tagging` request header gives the new object, also recorded on the request
 * for s3:RequestObjectTag conditions; undefined without the header.
 */
export function requestedTags(req: { headers: Record<string, string>; requestTags?: TagSet }): TagSet | undefined {
  const v = req.headers[AMZ_TAGGING]
  if (v === undefined) return undefined
  req.requestTags = parseTaggingHeader(v)
  return req.requestTags
}

/**
 * A TagSet as an `x-amz-tagging` header value (each key and value URL-encoded), which parseTaggingHeader reads back.
 */
export function taggingHeaderValue(tags: TagSet): string {
  return Object.entries(tags)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&')
}

/** A TagSet as a record keeps it: absent when empty. */
export function storedTags(tags: TagSet | undefined): { tags?: TagSet } {
  return tags && Object.keys(tags).length > 0 ? { tags } : {}
}

/** `x-amz-tagging-count` on GET/HEAD, sent only when the version has tags. */
export function tagCountHeader(tags: TagSet | undefined): Record<string, string> {
  const n = tagCount(tags)
  return n > 0 ? { [AMZ_TAGGING_COUNT]: String(n) } : {}
}
