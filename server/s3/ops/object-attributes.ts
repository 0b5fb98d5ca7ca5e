/**
 * @module GetObjectAttributes (`GET /<key>?attributes`, AWS GetObjectAttributes API reference): the
 * attributes named by `x-amz-object-attributes` (ETag, Checksum, ObjectParts, StorageClass,
 * ObjectSize) of the current version or the one `versionId` names, without reading any data. An
 * SSE-C object needs its customer key, as for HEAD; ObjectParts exists only for multipart objects
 * and pages with `x-amz-max-parts` / `x-amz-part-number-marker`.
 */
import type { ObjectRecord } from '../../../storage/types.js'
import type { S3Request, S3Result, Services } from '../context.js'
import { S3Error, invalidArgument } from '../errors.js'
import { AMZ_VERSION_ID } from '../headers.js'
import { openObjectKey } from '../object-io.js'
import { queryValue } from '../route.js'
import { checksumValue, partChecksumValue } from '../stored-checksums.js'
import { precheckSseC, readCustomerKey, refuseSseOnRead, sseResponseHeaders } from '../sse-headers.js'
import { xmlDocument, type XmlObject } from '../xml.js'
import { httpDate, loadBucket } from './common.js'
import { externalVersionId } from '../../../storage/versions.js'
import { readableVersion } from './versioning.js'

const ATTRIBUTES = new Set(['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'])
const MAX_PARTS = 1000

/** `x-amz-object-attributes`: a comma-separated list of attribute names, at least one. */
function requestedAttributes(h: Record<string, string>): Set<string> {
  const raw = h['x-amz-object-attributes']
  const names = (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  if (names.length === 0) {
    throw new S3Error('InvalidArgument', {
      message:
        'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty',
      fields: [
        ['ArgumentName', 'x-amz-object-attributes'],
        ['ArgumentValue', raw ?? ''],
      ],
    })
  }
  for (const n of names)
    if (!ATTRIBUTES.has(n)) throw invalidArgument('Invalid attribute name specified.', 'x-amz-object-attributes', n)
  return new Set(names)
}

function intHeader(h: Record<string, string>, name: string, max: number, dflt: number): number {
  const raw = h[name]
  if (raw === undefined) return dflt
  const n = Number(raw)
  if (!/^\d+$/.test(raw.trim()) || n > max)
    throw invalidArgument(`Argument ${name} must be an integer between 0 and ${max}`, name, raw)
  return n
}

function objectParts(
  rec: ObjectRecord,
  h: Record<string, string>,
  checksums: ((p: ObjectRecord['parts'][number]) => string | undefined) | undefined,
): XmlObject {
  const maxParts = intHeader(h, 'x-amz-max-parts', MAX_PARTS, MAX_PARTS)
  const marker = intHeader(h, 'x-amz-part-number-marker', 10000, 0)
  const after = rec.parts.filter((p) => p.partNumber > marker)
  const page = after.slice(0, maxParts)
  const truncated = after.length > page.length
  const algorithm = rec.checksum?.algorithm
  return {
    PartsCount: rec.multipartCount,
    PartNumberMarker: marker,
    NextPartNumberMarker: page.length > 0 ? page[page.length - 1].partNumber : marker,
    MaxParts: maxParts,
    IsTruncated: truncated,
    Part: page.map((p) => {
      const value = checksums?.(p)
      return {
        PartNumber: p.partNumber,
        Size: p.size,
        ...(value !== undefined && algorithm ? { [`Checksum${algorithm}`]: value } : {}),
      }
    }),
  }
}

export async function getObjectAttributes(
  svc: Services,
  req: S3Request,
  op: { bucket: string; key: string; versionId?: string },
): Promise<S3Result> {
  const h = req.headers
  precheckSseC(h, req.secure)
  refuseSseOnRead(h)
  const wanted = requestedAttributes(h)
  const bucket = await loadBucket(svc, req, op.bucket)
  const rec = await readableVersion(svc, op.bucket, op.key, queryValue(req.query, 'versionId'), 'GET', {}, req)
  // SSE-C: the key must be presented and right, as for HEAD; opening the seal proves it.
  const customer = readCustomerKey(h, rec.encryption, req.secure)
  const oek = rec.encryption.mode === 'SSE-C' ? await openObjectKey(svc, rec.encryption, rec, customer, req) : undefined
  const body: XmlObject = {}
  if (wanted.has('ETag')) body.ETag = rec.etag
  if (wanted.has('Checksum')) {
    const c = checksumValue(rec, oek)
    if (c) body.Checksum = { [`Checksum${c.algorithm}`]: c.value, ChecksumType: c.type }
  }
  if (wanted.has('ObjectParts') && rec.multipartCount !== undefined) {
    const algorithm = rec.checksum?.algorithm
    body.ObjectParts = objectParts(rec, h, algorithm ? (p) => partChecksumValue(rec, p, algorithm, oek) : undefined)
  }
  if (wanted.has('StorageClass')) body.StorageClass = rec.storageClass
  if (wanted.has('ObjectSize')) body.ObjectSize = rec.size
  const headers: Record<string, string> = {
    'Last-Modified': httpDate(rec.lastModified),
    ...(bucket.versioning !== undefined ? { [AMZ_VERSION_ID]: externalVersionId(rec) } : {}),
    ...sseResponseHeaders(rec.encryption, { customerKeyMd5: customer?.md5 }),
  }
  return { status: 200, headers, xml: xmlDocument('GetObjectAttributesResponse', body) }
}
