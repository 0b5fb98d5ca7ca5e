/**
 * @module Request bodies as handlers consume them: the verified, decoded byte stream (signatures,
 * payload hash, Content-MD5 and checksums checked as it ends), and small XML bodies read whole.
 */
import type { ChecksumAlgorithm } from '../../storage/types.js'
import { verifyBody, type BodyDigests } from './body.js'
import type { S3Request } from './context.js'
import { S3Error } from './errors.js'
import { MAX_XML_BODY, parseXmlBody } from './xml.js'

export interface VerifiedBody {
  /** Decoded plaintext; throws at the end if any digest or signature does not hold. */
  stream: AsyncGenerator<Buffer>
  /** Valid only after `stream` completed. */
  digests(): BodyDigests
}

/** Content-Length as a number, or undefined when the body is sent with chunked framing. */
export function contentLength(req: S3Request): number | undefined {
  const v = req.headers['content-length']
  if (v === undefined) return undefined
  const n = Number(v)
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined
}

/**
 * The verified body. `defaultChecksum` is computed when the client sent none (CRC64NVME otherwise);
 * UploadPart reports a bad Content-MD5's ExpectedDigest in base64, PutObject in hex (docs/s3-sse-rules.md §3.16).
 */
export function requestBody(
  req: S3Request,
  opts: { defaultChecksum?: ChecksumAlgorithm; md5ExpectedAs?: 'hex' | 'base64' } = {},
): VerifiedBody {
  if (req.bodySource) return verifyBody(req.bodySource, { auth: req.auth, headers: req.headers, ...opts })
  return verifyBody(req.incoming, { auth: req.auth, headers: req.headers, contentLength: contentLength(req), ...opts })
}

/**
 * Request headers without the `x-amz-checksum-*` ones: on CompleteMultipartUpload they carry the
 * checksum of the whole object, not of the XML body (AWS CompleteMultipartUpload API reference).
 */
function withoutChecksumHeaders(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).filter(([k]) => !k.startsWith('x-amz-checksum-')))
}

/**
 * Reads a whole (small) body; bodies above `limit` are refused without reading further. With
 * `objectChecksum`, `x-amz-checksum-*` headers describe the object, and the body is not checked against them.
 */
export async function readSmallBody(
  req: S3Request,
  limit = MAX_XML_BODY,
  opts: { objectChecksum?: boolean } = {},
): Promise<{ bytes: Buffer; digests: BodyDigests }> {
  const declared = contentLength(req)
  if (declared !== undefined && declared > limit) throw new S3Error('MalformedXML')
  const body = opts.objectChecksum
    ? verifyBody(req.incoming, {
        auth: req.auth,
        headers: withoutChecksumHeaders(req.headers),
        contentLength: contentLength(req),
      })
    : requestBody(req)
  const parts: Buffer[] = []
  let size = 0
  for await (const chunk of body.stream) {
    size += chunk.length
    if (size > limit) throw new S3Error('MalformedXML')
    parts.push(chunk)
  }
  return { bytes: Buffer.concat(parts), digests: body.digests() }
}

/** Reads and parses an XML request body with the given root element (MalformedXML otherwise). */
export async function readXml(
  req: S3Request,
  root: string,
  opts: { objectChecksum?: boolean } = {},
): Promise<Record<string, unknown>> {
  const { bytes } = await readSmallBody(req, MAX_XML_BODY, opts)
  return parseXmlBody(bytes.toString('utf8'), root)
}
