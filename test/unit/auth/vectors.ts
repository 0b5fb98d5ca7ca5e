/** @module Test vectors V1–V4 of docs/s3-sse-rules.md §0.3 as AuthRequest values and wire bodies. */
import type { AuthRequest } from '../../../server/s3/auth/types.js'
import { AKID, EMPTY, T0 } from './signer.js'

export const V1 = {
  canonicalHash: '7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972',
  signature: 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
}

/** V1: GET /test.txt with Range, header auth; `sep` joins the Authorization components. */
export function v1Request(sep = ',', signature = V1.signature): AuthRequest {
  return {
    method: 'GET',
    path: '/test.txt',
    query: [],
    headers: {
      host: 'examplebucket.s3.amazonaws.com',
      range: 'bytes=0-9',
      'x-amz-content-sha256': EMPTY,
      'x-amz-date': '20130524T000000Z',
      authorization:
        `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws4_request${sep}` +
        `SignedHeaders=host;range;x-amz-content-sha256;x-amz-date${sep}Signature=${signature}`,
    },
    now: T0,
  }
}

export const V2 = {
  canonicalHash: '3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04',
  signature: 'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
}

/** V2: presigned GET /test.txt, X-Amz-Expires=86400, SignedHeaders=host. */
export function v2Request(now = T0): AuthRequest {
  return {
    method: 'GET',
    path: '/test.txt',
    query: [
      ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
      ['X-Amz-Credential', `${AKID}/20130524/us-east-1/s3/aws4_request`],
      ['X-Amz-Date', '20130524T000000Z'],
      ['X-Amz-Expires', '86400'],
      ['X-Amz-SignedHeaders', 'host'],
      ['X-Amz-Signature', V2.signature],
    ],
    headers: { host: 'examplebucket.s3.amazonaws.com' },
    now,
  }
}

export const V3 = {
  canonicalHash: 'cee3fed04b70f867d036f722359b0b1f2f0e5dc0efadbc082b76c4c60e316455',
  seed: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  chunks: [
    'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
    '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
    'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
  ],
}

export const V4 = {
  canonicalHash: '44d48b8c2f70eae815a0198cc73d7a546a73a93359c070abbaa5e6c7de112559',
  seed: '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e',
  chunks: [
    'b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2',
    '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7',
    '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992',
  ],
  trailerLine: 'x-amz-checksum-crc32c:sOO8/Q==',
  trailerHash: '1e376db7e1a34a8ef1c4bcee131a2d60a1cb62503747488624e10995f448d774',
  trailerSignature: 'd81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435',
}

/** The 66560 × 'a' object of V3/V4. */
export const PAYLOAD = Buffer.alloc(66560, 'a')

/** V3/V4 request headers; `trailer` selects V4. */
export function v34Request(trailer: boolean, seed = trailer ? V4.seed : V3.seed): AuthRequest {
  const headers: Record<string, string> = {
    host: 's3.amazonaws.com',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'content-length': trailer ? '66946' : '66824',
    'x-amz-content-sha256': trailer
      ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
      : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  }
  const signed = trailer
    ? 'content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer'
    : 'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class'
  if (trailer) headers['x-amz-trailer'] = 'x-amz-checksum-crc32c'
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signed},Signature=${seed}`
  return { method: 'PUT', path: '/examplebucket/chunkObject.txt', query: [], headers, now: T0 }
}

/** The V3 wire body (66824 bytes), or V4's (66946 bytes) with its signed trailer. */
export function v34Body(
  trailer: boolean,
  sigs = trailer ? V4.chunks : V3.chunks,
  trailerSig = V4.trailerSignature,
): Buffer {
  const parts = [
    Buffer.from(`10000;chunk-signature=${sigs[0]}\r\n`),
    PAYLOAD.subarray(0, 65536),
    Buffer.from(`\r\n400;chunk-signature=${sigs[1]}\r\n`),
    PAYLOAD.subarray(65536),
    Buffer.from(`\r\n0;chunk-signature=${sigs[2]}\r\n`),
  ]
  if (trailer) parts.push(Buffer.from(`${V4.trailerLine}\r\nx-amz-trailer-signature:${trailerSig}\r\n\r\n`))
  else parts.push(Buffer.from('\r\n'))
  return Buffer.concat(parts)
}
