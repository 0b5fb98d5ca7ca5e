/**
 * @module The values every S3 handler receives (the parsed request and the store's services)
 * and the S3Result every handler returns; one function (respond.ts) writes results to the wire.
 */
import type { IncomingMessage } from 'node:http'
import type { RootKeyring } from '../../crypto/keyring.js'
import type { BlobStore, BucketRecord, MetadataStore } from '../../storage/types.js'
import type { Config } from '../config.js'
import type { AuditLog } from '../audit.js'
import type { IamIdentity } from '../iam/identity.js'
import type { KmsServices } from '../kms/setup.js'
import type { Logger } from '../log.js'
import type { Readiness } from '../health.js'
import type { Metrics } from '../metrics.js'
import type { AuthContext } from './auth/sigv4.js'
import type { ObjectDataKeys } from './kms-keys.js'
import type { S3Operation } from './route.js'

export interface Services {
  config: Config
  meta: MetadataStore
  blobs: BlobStore
  keyring: RootKeyring
  log: Logger
  /** SSE-KMS data keys (embedded or external KMS). */
  dataKeys?: ObjectDataKeys
  /** The KMS: its client, and the embedded service served on this listener (absent in unit tests). */
  kms?: KmsServices
  /** Prometheus metrics (`/metrics`); absent in unit tests. */
  metrics?: Metrics
  /** The `/health/ready` checks; absent in unit tests (then only the metadata store is checked). */
  readiness?: Readiness
  /** The audit log of key operations (server/audit.ts); absent = off. Call `svc.audit?.audit(event)`. */
  audit?: AuditLog
}

export interface Principal {
  accessKeyId: string
  accountId: string
  principalArn: string
  /** Authenticated requests: who the key acts as, with its policies (iam/identity.ts). */
  identity?: IamIdentity
  /** `kms:ViaService` when S3 calls the KMS for this principal. */
  viaService?: string
  /** The request's global condition keys, lowercase (iam/request.ts). */
  requestContext?: Readonly<Record<string, readonly string[]>>
}

export interface S3Request {
  op: S3Operation
  method: string
  /** Lowercase header names; repeated headers joined with ','. */
  headers: Record<string, string>
  /** Decoded query pairs in received order. */
  query: Array<[string, string]>
  requestId: string
  auth: AuthContext | null
  principal: Principal
  /**
   * May carry SSE-C/SSE-KMS: arrived over TLS, or plain HTTP from loopback without --strict-tls (docs/s3-behaviour.md).
   */
  secure: boolean
  /** The Host header as received. */
  host: string
  incoming: IncomingMessage
  /** The object body when it is not the request body itself (POST Object: the form's file field). */
  bodySource?: AsyncIterable<Uint8Array>
  /**
   * The record of the bucket the operation addresses, read once before authentication (its
   * region decides the signing scope); loadBucket (ops/common.ts) authorizes against this same
   * read instead of reading again. Absent for operations without a bucket; `record` undefined
   * when the bucket does not exist.
   */
  bucket?: { name: string; record: BucketRecord | undefined }
  /**
   * Registers a release of something the request holds (the blobs it reads): called once, after
   * the answer was written or abandoned, whichever way the request ended.
   */
  defer(release: () => void): void
  /** Tags the request gives an object (x-amz-tagging, a PutObjectTagging body): s3:RequestObjectTag/<key>. */
  requestTags?: Record<string, string>
  /** Tags of the object the request addresses, loaded only for a policy that asks (s3:ExistingObjectTag/<key>). */
  existingTags?: Record<string, string>
}

/** A streamed response body of known length. */
export interface StreamBody {
  length: number
  chunks: AsyncIterable<Buffer>
}

export interface S3Result {
  status: number
  headers?: Record<string, string>
  /** An XML document (already serialized). */
  xml?: string
  stream?: StreamBody
}

export const ok = (headers: Record<string, string> = {}, xml?: string): S3Result => ({ status: 200, headers, xml })
export const noContent = (headers: Record<string, string> = {}): S3Result => ({ status: 204, headers })
