/**
 * @module SSE request headers -> the typed encryption a request asks for, and an object's
 * encryption record -> SSE response headers (contract §4.2-§4.5). The only file that knows SSE
 * header names besides headers.ts. SSE-KMS and SSE-C arrive with the SSE-modes issue (#3).
 */
import type { EncryptionRecord } from '../../crypto/types.js'
import type { BucketRecord } from '../../storage/types.js'
import { S3Error, invalidArgument } from './errors.js'
import {
  AMZ_COPY_SSE_C_ALGORITHM, AMZ_COPY_SSE_C_KEY, AMZ_COPY_SSE_C_KEY_MD5, AMZ_SSE, AMZ_SSE_BUCKET_KEY, AMZ_SSE_CONTEXT,
  AMZ_SSE_C_ALGORITHM, AMZ_SSE_C_KEY, AMZ_SSE_C_KEY_MD5, AMZ_SSE_KMS_KEY_ID,
} from './headers.js'

/** What a write asks for once headers and the bucket default are resolved (contract §4.4). */
export type SseRequest = { mode: 'SSE-S3' }

const E2 = 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms'

const SSE_C_HEADERS = [AMZ_SSE_C_ALGORITHM, AMZ_SSE_C_KEY, AMZ_SSE_C_KEY_MD5]
const COPY_SSE_C_HEADERS = [AMZ_COPY_SSE_C_ALGORITHM, AMZ_COPY_SSE_C_KEY, AMZ_COPY_SSE_C_KEY_MD5]

/** True if the request carries any destination SSE header (used by the copy-onto-itself rule). */
export function hasEncryptionHeaders(h: Record<string, string>): boolean {
  return [AMZ_SSE, AMZ_SSE_KMS_KEY_ID, AMZ_SSE_CONTEXT, AMZ_SSE_BUCKET_KEY, ...SSE_C_HEADERS].some((n) => h[n] !== undefined)
}

function refuseUnimplementedModes(h: Record<string, string>, copySource: boolean): void {
  // SSE-C and SSE-KMS are the subject of issue #3; until then they are refused, never ignored.
  if (SSE_C_HEADERS.some((n) => h[n] !== undefined)) throw new S3Error('NotImplemented', { message: 'SSE-C is not implemented yet' })
  if (copySource && COPY_SSE_C_HEADERS.some((n) => h[n] !== undefined)) throw new S3Error('NotImplemented', { message: 'SSE-C is not implemented yet' })
}

/**
 * Resolves the encryption of a new object (PutObject, CopyObject destination,
 * CreateMultipartUpload), validating the headers per contract §4.4/§4.5.
 */
export function resolveWriteSse(h: Record<string, string>, _bucket: BucketRecord, opts: { copy?: boolean } = {}): SseRequest {
  refuseUnimplementedModes(h, opts.copy === true)
  const sse = h[AMZ_SSE]
  if (sse !== undefined) {
    if (sse !== 'AES256' && sse !== 'aws:kms' && sse !== 'aws:kms:dsse') {
      throw invalidArgument('The encryption method specified is not supported', AMZ_SSE, sse)
    }
    if (sse === 'AES256') {
      if (h[AMZ_SSE_KMS_KEY_ID] !== undefined || h[AMZ_SSE_CONTEXT] !== undefined) throw invalidArgument(E2, AMZ_SSE)
      return { mode: 'SSE-S3' }
    }
    throw new S3Error('NotImplemented', { message: 'SSE-KMS is not implemented yet' })
  }
  if (h[AMZ_SSE_KMS_KEY_ID] !== undefined || h[AMZ_SSE_CONTEXT] !== undefined) throw invalidArgument(E2, AMZ_SSE)
  return { mode: 'SSE-S3' }
}

/** Reads (GET/HEAD) and UploadPart(Copy) refuse SSE-S3/KMS headers (contract §4.2 E1-E3). */
export function refuseSseOnRead(h: Record<string, string>): void {
  if (h[AMZ_SSE] !== undefined) throw invalidArgument('x-amz-server-side-encryption header is not supported for this operation.', AMZ_SSE, h[AMZ_SSE])
  if (h[AMZ_SSE_KMS_KEY_ID] !== undefined) throw invalidArgument(E2, AMZ_SSE)
  if (h[AMZ_SSE_CONTEXT] !== undefined) throw invalidArgument('x-amz-server-side-encryption-context header is not supported for this operation.', AMZ_SSE_CONTEXT)
}

/** SSE-C headers on a read of an object that is not SSE-C: E4 (contract §4.2). */
export function refuseSseCForPlainObject(h: Record<string, string>, enc: EncryptionRecord): void {
  if (enc.mode !== 'SSE-C' && SSE_C_HEADERS.some((n) => h[n] !== undefined)) {
    throw new S3Error('InvalidRequest', { message: 'The encryption parameters are not applicable to this object.' })
  }
}

/** Refuses copy-source SSE-C headers for a source that is not SSE-C (contract §8.13 SSEC-31). */
export function refuseCopySourceSseC(h: Record<string, string>): void {
  if (COPY_SSE_C_HEADERS.some((n) => h[n] !== undefined)) {
    throw new S3Error('InvalidRequest', { message: 'The encryption parameters are not applicable to this object.' })
  }
}

/** SSE response headers of an object or upload (contract §4.3). */
export function sseResponseHeaders(enc: EncryptionRecord): Record<string, string> {
  switch (enc.mode) {
    case 'SSE-S3':
      return { [AMZ_SSE]: 'AES256' }
    default:
      return {}
  }
}
