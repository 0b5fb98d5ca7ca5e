/**
 * @module Put/GetBucketVersioning and ListObjectVersions, and the version rules the object
 * operations share: the versionId parameter, x-amz-version-id, and how a delete marker answers.
 * See https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html
 */
import type { BucketRecord, ObjectRecord, VersionRecord } from '../../../storage/types.js'
import { NULL_VERSION, externalVersionId, isVersionId } from '../../../storage/versions.js'
import { uriEncode } from '../../../lib/sigv4.js'
import type { S3Request, S3Result, Services } from '../context.js'
import { S3Error, invalidArgument, noSuchKey } from '../errors.js'
import { AMZ_DELETE_MARKER, AMZ_VERSION_ID } from '../headers.js'
import { checkObjectPlacement, getObjectForRead, type KeyOpContext } from '../object-io.js'
import { readSmallBody } from '../request-body.js'
import { queryValue } from '../route.js'
import { isoTime, parseXmlBody, textOf, xmlDocument, type XmlObject } from '../xml.js'
import { canonicalId, httpDate, loadBucket, quoteEtag, requireIntegrityHeader } from './common.js'
import { updateBucket } from './bucket-update.js'
import { listParams } from './list.js'

/** A client's version id: undefined (none), "null", or one of ours; anything else is refused. */
export function parseVersionId(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === NULL_VERSION || isVersionId(raw)) return raw
  throw invalidArgument(
    raw === '' ? 'Version id cannot be the empty string' : 'Invalid version id specified',
    'versionId',
    raw,
  )
}

/** `x-amz-version-id` of a version, sent once the bucket has had versioning turned on. */
export function versionHeaders(
  bucket: BucketRecord,
  rec: { versionId: string; nullVersion?: true },
): Record<string, string> {
  return bucket.versioning === undefined ? {} : { [AMZ_VERSION_ID]: externalVersionId(rec) }
}

/** The headers that say a delete marker is what was found or made. */
export function markerHeaders(rec: VersionRecord): Record<string, string> {
  return { [AMZ_DELETE_MARKER]: 'true', [AMZ_VERSION_ID]: externalVersionId(rec) }
}

/**
 * The version a GET, HEAD or copy source reads: the current one, or the one `versionIdRaw` names.
 * With `hold`, its blobs are held for the request (a GET or copy reads them). A current delete
 * marker is 404 NoSuchKey with the marker headers; a marker named by id is
 * 405 MethodNotAllowed (`Allow: DELETE`), or 400 for a copy source, as S3 answers.
 */
export async function readableVersion(
  svc: Services,
  bucket: string,
  key: string,
  versionIdRaw: string | undefined,
  method: string,
  opts: { copySource?: boolean; hold?: Pick<S3Request, 'defer'> } = {},
  ctx?: KeyOpContext,
): Promise<ObjectRecord> {
  const versionId = parseVersionId(versionIdRaw)
  // A read of the data holds the version's blobs until the request's answer is done (getObjectForRead).
  const rec = opts.hold
    ? await getObjectForRead(svc, opts.hold, bucket, key, versionId)
    : await svc.meta.getVersion(bucket, key, versionId)
  if (!rec) {
    if (versionId === undefined) throw noSuchKey(key)
    throw new S3Error('NoSuchVersion', {
      fields: [
        ['Key', key],
        ['VersionId', versionId],
      ],
    })
  }
  if (!rec.deleteMarker) {
    checkObjectPlacement(svc, rec, ctx)
    return rec
  }
  if (versionId === undefined) throw new S3Error('NoSuchKey', { fields: [['Key', key]], headers: markerHeaders(rec) })
  if (opts.copySource) {
    throw new S3Error('InvalidRequest', {
      message: 'The source of a copy request may not specifically refer to a delete marker by version id.',
    })
  }
  throw new S3Error('MethodNotAllowed', {
    fields: [
      ['Method', method],
      ['ResourceType', 'DeleteMarker'],
    ],
    headers: { ...markerHeaders(rec), Allow: 'DELETE', 'Last-Modified': httpDate(rec.lastModified) },
  })
}

export async function getBucketVersioning(svc: Services, req: S3Request, bucketName: string): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, bucketName)
  return { status: 200, xml: xmlDocument('VersioningConfiguration', { Status: bucket.versioning }) }
}

export async function putBucketVersioning(svc: Services, req: S3Request, bucketName: string): Promise<S3Result> {
  await loadBucket(svc, req, bucketName)
  requireIntegrityHeader(req.headers)
  const { bytes } = await readSmallBody(req)
  const doc = parseXmlBody(bytes.toString('utf8'), 'VersioningConfiguration')
  const status = textOf(doc, 'Status')
  const mfa = textOf(doc, 'MfaDelete')
  if (status !== undefined && status !== 'Enabled' && status !== 'Suspended') throw new S3Error('MalformedXML')
  if (mfa !== undefined && mfa !== 'Enabled' && mfa !== 'Disabled') throw new S3Error('MalformedXML')
  if (mfa === 'Enabled') throw new S3Error('NotImplemented', { message: 'MFA delete is not supported.' })
  // No Status leaves the state as it is: a bucket never goes back to unversioned.
  if (status !== undefined) {
    await updateBucket(svc, req, bucketName, (b) => {
      if (b.versioning === status) return undefined
      // Object Lock needs every version kept: its bucket's versioning can never be suspended.
      if (b.objectLock)
        throw new S3Error('InvalidBucketState', {
          message: 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.',
        })
      return { ...b, versioning: status }
    })
  }
  return { status: 200 }
}

/** Default and cap of max-keys. */
const MAX_KEYS = 1000

export async function listObjectVersions(svc: Services, req: S3Request, bucketName: string): Promise<S3Result> {
  const q = req.query
  const p = listParams(q)
  await loadBucket(svc, req, bucketName)
  const keyMarker = queryValue(q, 'key-marker') || undefined
  const versionIdMarkerRaw = queryValue(q, 'version-id-marker') || undefined
  if (versionIdMarkerRaw !== undefined && keyMarker === undefined) {
    throw invalidArgument(
      'A version-id marker cannot be specified without a key marker.',
      'version-id-marker',
      versionIdMarkerRaw,
    )
  }
  if (versionIdMarkerRaw !== undefined && versionIdMarkerRaw !== NULL_VERSION && !isVersionId(versionIdMarkerRaw)) {
    throw invalidArgument('Invalid version id specified', 'version-id-marker', versionIdMarkerRaw)
  }
  const res =
    p.limit === 0
      ? { entries: [], isTruncated: false }
      : await svc.meta.listObjectVersions(bucketName, {
          prefix: p.prefix || undefined,
          delimiter: p.delimiter,
          keyMarker,
          versionIdMarker: versionIdMarkerRaw,
          limit: p.limit,
        })
  const enc = p.encodeUrl ? (s: string) => uriEncode(s, true) : (s: string) => s
  const Version: XmlObject[] = []
  const DeleteMarker: XmlObject[] = []
  const CommonPrefixes: XmlObject[] = []
  for (const e of res.entries) {
    if (e.kind === 'prefix') {
      CommonPrefixes.push({ Prefix: enc(e.prefix) })
      continue
    }
    const r = e.record
    const common = {
      Key: enc(r.key),
      VersionId: externalVersionId(r),
      IsLatest: e.isLatest,
      LastModified: isoTime(Math.floor(r.lastModified / 1000) * 1000),
    }
    const Owner = { ID: canonicalId(r.ownerAccountId) }
    if (r.deleteMarker) {
      DeleteMarker.push({ ...common, Owner })
      continue
    }
    Version.push({
      ...common,
      ETag: quoteEtag(r.etag),
      ChecksumAlgorithm: r.checksum?.algorithm,
      ChecksumType: r.checksum?.type,
      Size: r.size,
      StorageClass: r.storageClass,
      Owner,
    })
  }
  const next = 'nextKeyMarker' in res && res.isTruncated ? res : undefined
  return {
    status: 200,
    xml: xmlDocument('ListVersionsResult', {
      Name: bucketName,
      Prefix: enc(p.prefix),
      KeyMarker: enc(keyMarker ?? ''),
      VersionIdMarker: versionIdMarkerRaw ?? '',
      NextKeyMarker: next?.nextKeyMarker !== undefined ? enc(next.nextKeyMarker) : undefined,
      NextVersionIdMarker: next?.nextVersionIdMarker,
      MaxKeys: p.maxKeysRaw ?? MAX_KEYS,
      Delimiter: p.delimiter !== undefined ? enc(p.delimiter) : undefined,
      EncodingType: p.encodeUrl ? 'url' : undefined,
      IsTruncated: res.isTruncated,
      Version,
      DeleteMarker,
      CommonPrefixes,
    }),
  }
}
