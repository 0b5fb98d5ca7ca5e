/**
 * @module XML of the S3 wire: response documents (built with fast-xml-parser's builder) and
 * request bodies (validated, then parsed), with the size limit S3 applies to XML request bodies.
 */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser'
import { S3Error } from './errors.js'

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/'

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: false })

/** Elements that repeat in request bodies and must always parse as arrays. */
const ARRAY_ELEMENTS = new Set(['Part', 'Object', 'Rule', 'EncryptionType', 'Tag'])

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  // References are decoded by decodeReferences below: the parser's own entity handling knows the
  // five named entities but not numeric character references (`&#34;`), which Go clients (rclone)
  // write for every quote in an ETag.
  processEntities: false,
  removeNSPrefix: true,
  isArray: (name) => ARRAY_ELEMENTS.has(name),
})

/** XML element content; arrays become repeated elements, undefined members are omitted. */
export type XmlValue = string | number | boolean | XmlObject | XmlValue[] | undefined
export interface XmlObject {
  [name: string]: XmlValue
}

function clean(v: XmlValue): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== undefined).map(clean)
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = clean(x)
    return out
  }
  return typeof v === 'boolean' ? String(v) : v
}

/** A success document: XML prolog and the root element in the S3 namespace (docs/s3-sse-rules.md §1.2). */
export function xmlDocument(root: string, body: XmlObject, opts: { namespace?: boolean } = {}): string {
  const content = clean(body) as Record<string, unknown>
  const rootValue = opts.namespace === false ? content : { '@_xmlns': S3_NS, ...content }
  return builder.build({ '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' }, [root]: rootValue })
}

/** A root element whose content is text only (GetBucketLocation). */
export function xmlTextDocument(root: string, text: string): string {
  return builder.build({
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    [root]: { '@_xmlns': S3_NS, '#text': text },
  })
}

/** The `<Error>` body of docs/s3-sse-rules.md §1.3. */
export function xmlError(
  code: string,
  message: string,
  fields: ReadonlyArray<readonly [string, string | number]>,
  requestId: string,
  hostId: string,
): string {
  const body: Record<string, unknown> = { Code: code, Message: message }
  for (const [k, v] of fields) body[k] = v
  body.RequestId = requestId
  body.HostId = hostId
  return builder.build({ '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' }, Error: body })
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

/**
 * Replaces the references XML 1.0 defines without a DTD (§4.6 predefined entities, §4.1 character
 * references) in one pass, so `&amp;#34;` stays the text `&#34;`. Any other entity, or a character
 * reference to a code point XML does not allow, makes the body malformed.
 */
export function decodeReferences(text: string): string {
  if (!text.includes('&')) return text
  return text.replace(/&([^;&]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(';')) throw new S3Error('MalformedXML')
    const named = NAMED_ENTITIES[name]
    if (named !== undefined) return named
    const m = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(name)
    if (!m) throw new S3Error('MalformedXML')
    const cp = m[1] !== undefined ? parseInt(m[1], 16) : Number(m[2])
    const allowed =
      cp === 0x9 ||
      cp === 0xa ||
      cp === 0xd ||
      (cp >= 0x20 && cp <= 0xd7ff) ||
      (cp >= 0xe000 && cp <= 0xfffd) ||
      (cp >= 0x10000 && cp <= 0x10ffff)
    if (!allowed) throw new S3Error('MalformedXML')
    return String.fromCodePoint(cp)
  })
}

function decodeTree(v: unknown): unknown {
  if (typeof v === 'string') return decodeReferences(v)
  if (Array.isArray(v)) return v.map(decodeTree)
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) out[k] = decodeTree(x)
    return out
  }
  return v
}

/** S3 caps XML request bodies; anything larger is not a valid request (we use 2 MiB). */
export const MAX_XML_BODY = 2 * 1024 * 1024

/**
 * Parses an XML request body; throws MalformedXML if it is empty, not well-formed, or lacks the
 * expected root element. Returns the root element's content.
 */
export function parseXmlBody(text: string, root: string): Record<string, unknown> {
  if (!text.trim() || XMLValidator.validate(text) !== true) throw new S3Error('MalformedXML')
  let doc: Record<string, unknown>
  try {
    doc = parser.parse(text) as Record<string, unknown>
  } catch {
    // The parser's own limits (nesting depth) also mean a body we refuse.
    throw new S3Error('MalformedXML')
  }
  doc = decodeTree(doc) as Record<string, unknown>
  const content = doc[root]
  if (content === undefined) throw new S3Error('MalformedXML')
  if (content === '' || content === null) return {}
  if (typeof content !== 'object' || Array.isArray(content)) throw new S3Error('MalformedXML')
  return content as Record<string, unknown>
}

/** Reads a text child of a parsed element; undefined when absent, MalformedXML when not text. */
export function textOf(el: Record<string, unknown>, name: string): string | undefined {
  const v = el[name]
  if (v === undefined) return undefined
  if (typeof v === 'string') return v
  if (v === null || (typeof v === 'object' && Object.keys(v as object).length === 0)) return ''
  throw new S3Error('MalformedXML')
}

/** ISO 8601 with milliseconds, as S3 writes timestamps in XML. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString()
}
