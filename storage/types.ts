/**
 * @module The storage interfaces (MetadataStore, BlobStore) and the records they keep.
 *
 * Ordering rule for every implementation: object keys, upload keys and bucket names are ordered by
 * their UTF-8 bytes (LevelDB gives this for free; a SQL backend must use a `C` collation).
 */
import type { EncryptionRecord } from '../crypto/types.js'
import type { LifecycleConfiguration } from './lifecycle.js'
import type { ObjectLockConfig, Retention } from './object-lock.js'

export type BlobId = string

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256'
export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE'

/** A checksum whose value is known: what S3 answers. */
export interface ChecksumValue {
  algorithm: ChecksumAlgorithm
  type: ChecksumType
  /** base64 of the big-endian digest; COMPOSITE values carry the `-N` suffix. */
  value: string
}

/**
 * A checksum as an object record keeps it: algorithm and type in the clear, the value in the
 * clear (SSE-S3, SSE-KMS, and SSE-C records written before sealing) or sealed under the object
 * key (SSE-C, crypto/README.md §10). An SSE-C multipart object completed without the customer key
 * has neither: its value is combined from the parts' sealed checksums when the key is presented.
 */
export interface StoredChecksum {
  algorithm: ChecksumAlgorithm
  type: ChecksumType
  value?: string
  /** The value sealed under the object key (crypto/README.md §10, slot 0). */
  sealed?: string
}

export interface BucketEncryptionConfig {
  sseAlgorithm: 'AES256' | 'aws:kms' | 'aws:kms:dsse'
  kmsMasterKeyId?: string
  bucketKeyEnabled: boolean
}

/** An ACL permission (S3 "Access control list (ACL) overview"). */
export type AclPermission = 'FULL_CONTROL' | 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP'

/** Who a grant names: an account by canonical user ID, or one of S3's predefined groups by URI. */
export type AclGrantee = { type: 'CanonicalUser'; id: string } | { type: 'Group'; uri: string }

export interface AclGrant {
  grantee: AclGrantee
  permission: AclPermission
}

/** S3 Object Ownership of a bucket; 'none' after DeleteBucketOwnershipControls (behaves as ObjectWriter). */
export type ObjectOwnership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter' | 'none'

/** The four Block Public Access settings of a bucket. */
export interface PublicAccessBlock {
  blockPublicAcls: boolean
  ignorePublicAcls: boolean
  blockPublicPolicy: boolean
  restrictPublicBuckets: boolean
}

export interface BucketRecord {
  v: 1
  name: string
  region: string
  ownerAccountId: string
  /** Epoch milliseconds. */
  createdAt: number
  /** Explicit default-encryption rule; undefined = never configured (implicit AES256). */
  encryption?: BucketEncryptionConfig
  /** BlockedEncryptionTypes (e.g. ["SSE-C"]); empty = nothing blocked. */
  blockedEncryptionTypes: string[]
  /** Bucket policy JSON as stored (PutBucketPolicy; README "Bucket policies that demand encryption"). */
  policy?: string
  /** Versioning state; undefined = never enabled (only the null version exists per key). */
  versioning?: 'Enabled' | 'Suspended'
  /**
   * Object Lock: set at creation (which also turns versioning on) or later by
   * PutObjectLockConfiguration on a versioning-enabled bucket; never removed, and versioning
   * can no longer be suspended.
   */
  objectLock?: ObjectLockConfig
  /** Lifecycle rules (storage/lifecycle.ts); undefined = none configured. */
  lifecycle?: LifecycleConfiguration
  /** CORS rules in the order given (PutBucketCors); undefined = no CORS configuration. */
  cors?: CorsRule[]
  /** Bucket tags (PutBucketTagging), key -> value; undefined = no tag set. */
  tags?: Record<string, string>
  /**
   * Object Ownership; undefined = BucketOwnerEnforced (buckets created before ownership controls
   * existed here never accepted an ACL, which is what BucketOwnerEnforced means).
   */
  objectOwnership?: ObjectOwnership
  /**
   * Block Public Access; undefined = none configured (new buckets get all four set; buckets created
   * before Block Public Access existed here keep answering their policies as they did).
   */
  publicAccessBlock?: PublicAccessBlock
  /** The bucket ACL's grants; undefined = private (the owner's FULL_CONTROL only). */
  acl?: AclGrant[]
}

/** One CORSRule of a bucket's CORS configuration, as PutBucketCors received it. */
export interface CorsRule {
  id?: string
  allowedOrigins: string[]
  allowedMethods: string[]
  allowedHeaders: string[]
  exposeHeaders: string[]
  maxAgeSeconds?: number
}

/** One part write of an object: one blob of SR1 ciphertext. A single PUT is part 1. */
export interface PartRecord {
  partNumber: number
  blobId: BlobId
  /** Plaintext bytes in this part. */
  size: number
  /** The part's ETag as returned by UploadPart (lowercase hex, no quotes). */
  etag: string
  /** base64 of the 32-byte random part salt (crypto/README.md, part key derivation). */
  salt: string
  /** Part checksum (base64), in the clear (not SSE-C, or written before sealing). */
  checksum?: string
  /** SSE-C: the part checksum sealed under the object key (crypto/README.md §10, slot = part number). */
  sealedChecksum?: string
  /** Epoch milliseconds. */
  lastModified: number
}

/** Metadata that PutObject/CreateMultipartUpload/CopyObject(REPLACE) set and GET/HEAD return. */
export interface ObjectMetadata {
  contentType: string
  /** Stored system headers, lowercase names: cache-control, content-disposition, content-encoding,
   *  content-language, expires, x-amz-website-redirect-location. */
  headers: Record<string, string>
  /** User metadata: lowercase names without the x-amz-meta- prefix. */
  userMeta: Record<string, string>
  storageClass: string
}

/** What every version of an object has, data or delete marker (storage/versions.ts). */
export interface VersionFields {
  v: 2
  bucket: string
  key: string
  /** Internal version id: 32 lowercase hex digits that sort newest first within a key. */
  versionId: string
  /** The null version (written while versioning was off or suspended): clients see "null". */
  nullVersion?: true
  /** Epoch milliseconds. */
  lastModified: number
  ownerAccountId: string
}

/** A delete marker: a version without data that hides the key while it is the newest. */
export interface DeleteMarkerRecord extends VersionFields {
  deleteMarker: true
}

export interface ObjectRecord extends ObjectMetadata, VersionFields {
  deleteMarker?: undefined
  /** Plaintext size in bytes. */
  size: number
  /** lowercase hex, no quotes; multipart ETags end in -N. */
  etag: string
  checksum?: StoredChecksum
  /** Number of parts of a completed multipart upload; absent for single PUTs and copies. */
  multipartCount?: number
  /** The upload this object was completed from (a repeated Complete returns the same answer). */
  multipartUploadId?: string
  encryption: EncryptionRecord
  /** Blobs in plaintext order. */
  parts: PartRecord[]
  /** Object Lock retention of this version (storage/object-lock.ts). */
  retention?: Retention
  /**
   * Object Lock legal hold: while true, the version cannot be deleted or overwritten by id.
   * false = lifted (GetObjectLegalHold answers OFF); absent = never set.
   */
  legalHold?: boolean
  /** This version's tags, key -> value (absent = none); PutObjectTagging replaces the version in place. */
  tags?: Record<string, string>
  /** The version's ACL grants; undefined = private (its owner's FULL_CONTROL only). */
  acl?: AclGrant[]
}

/** Any version of an object. */
export type VersionRecord = ObjectRecord | DeleteMarkerRecord

export interface UploadRecord extends ObjectMetadata {
  v: 2
  uploadId: string
  bucket: string
  key: string
  /** The version id the completed object will have (chosen when its key is sealed). */
  versionId: string
  /** Epoch milliseconds. */
  initiated: number
  ownerAccountId: string
  checksumAlgorithm?: ChecksumAlgorithm
  checksumType?: ChecksumType
  /** The object key is created and sealed at CreateMultipartUpload. */
  encryption: EncryptionRecord
  /** Object Lock the completed object gets: from the Create headers or the bucket's default retention. */
  retention?: Retention
  legalHold?: boolean
  /** Tags sent with CreateMultipartUpload, given to the object at Complete. */
  tags?: Record<string, string>
  /** The ACL the completed object gets (CreateMultipartUpload's x-amz-acl / grant headers). */
  acl?: AclGrant[]
}

export interface UploadPartRecord extends PartRecord {
  uploadId: string
}

export type ListEntry = { kind: 'object'; record: ObjectRecord } | { kind: 'prefix'; prefix: string }

export interface ListQuery {
  prefix?: string
  delimiter?: string
  /** Return only keys strictly greater than this (marker / start-after / decoded continuation). */
  after?: string
  /** Maximum number of entries (objects + common prefixes), 0..1000. */
  limit: number
}

export interface ListResult {
  entries: ListEntry[]
  isTruncated: boolean
  /** The last key or common prefix returned, for the next page's `after`. */
  last?: string
}

export interface UploadListQuery {
  prefix?: string
  delimiter?: string
  keyMarker?: string
  uploadIdMarker?: string
  limit: number
}

export type UploadListEntry = { kind: 'upload'; record: UploadRecord } | { kind: 'prefix'; prefix: string }

export interface UploadListResult {
  entries: UploadListEntry[]
  isTruncated: boolean
  nextKeyMarker?: string
  nextUploadIdMarker?: string
}

export interface VersionListQuery {
  prefix?: string
  delimiter?: string
  keyMarker?: string
  /** Only with keyMarker: versions of keyMarker older than this one come first ("null" allowed). */
  versionIdMarker?: string
  /** Maximum number of entries (versions, markers and common prefixes), 0..1000. */
  limit: number
}

export type VersionListEntry =
  | { kind: 'version'; record: VersionRecord; isLatest: boolean }
  | { kind: 'prefix'; prefix: string }

export interface VersionListResult {
  entries: VersionListEntry[]
  isTruncated: boolean
  nextKeyMarker?: string
  /** The client-visible id of the last version returned ("null" for the null version). */
  nextVersionIdMarker?: string
}

export interface CommitExpectation {
  /** The current object must have this ETag (If-Match). */
  etag?: string
  /** No object may exist under the key (If-None-Match: *). */
  absent?: boolean
  /**
   * The version with the committed record's id must be exactly this record, and is replaced in
   * place (key rewrap beside traffic: an overwrite with the same bytes keeps the ETag but is
   * another record, with other blobs). `etag` is then checked against that version.
   */
  record?: ObjectRecord
  /**
   * With `record`: the caller may bypass GOVERNANCE retention (a retention change sent with
   * `x-amz-bypass-governance-retention: true` by a caller holding s3:BypassGovernanceRetention).
   * The store refuses, in the same atomic section as the write, any in-place change that changes a
   * locked version's data or weakens its running retention (storage/object-lock.ts checkLockedReplace).
   */
  bypassGovernance?: boolean
}

/** Blobs that a commit made unreferenced: the caller deletes them after the commit. */
export interface CommitResult {
  /** The version the commit replaced: the previous null version, or the version rewritten in place. */
  replaced?: VersionRecord
  garbage: BlobId[]
  /** The record as committed (`nullVersion` set as the bucket's versioning state decided). */
  version: ObjectRecord
}

export interface DeleteOptions {
  /** The current object (or the version named) must have this ETag (If-Match). */
  etag?: string
  /** Deletes this version for good ("null" = the null version) instead of the current object. */
  versionId?: string
  /**
   * The caller may bypass GOVERNANCE retention. Without it, removing a version that a legal hold
   * or running retention holds throws ObjectLockedError, decided in the same atomic section as
   * the delete (storage/object-lock.ts lockHold), so a hold set concurrently is never lost.
   */
  bypassGovernance?: boolean
  /**
   * A delete decided on what the caller read (the lifecycle sweeper): the key's versions, newest
   * first, must still be exactly `versions` (internal ids), and the version addressed (or, without
   * `versionId`, the current one) exactly `record`, else ConflictError('precondition') and nothing
   * changes. A version Object Lock holds is refused as by every delete (ObjectLockedError).
   * `nowMs` is when the caller evaluated the rules.
   */
  unchanged?: { versions: readonly string[]; record: VersionRecord; nowMs: number }
}

export interface DeleteResult {
  /** The version removed for good (it no longer exists). */
  removed?: VersionRecord
  /** The delete marker the delete created (versioning Enabled or Suspended, no versionId). */
  marker?: DeleteMarkerRecord
  garbage: BlobId[]
}

export interface MetadataStore {
  getBucket(name: string): Promise<BucketRecord | undefined>
  /** Creates the bucket unless one of that name exists; returns the existing record if it does. */
  createBucket(rec: BucketRecord): Promise<{ created: true } | { created: false; existing: BucketRecord }>
  /**
   * Replaces the record of an existing bucket (NotFoundError('bucket') if there is none). With
   * `expect`, a compare-and-swap: the write happens only if the stored record still equals
   * `expect` (the record the caller read and changed), else ConflictError('concurrent-change').
   * Every bucket-configuration change reads, changes and writes back with `expect`, so two
   * concurrent changes of different settings never lose one of them.
   */
  putBucket(rec: BucketRecord, opts?: { expect?: BucketRecord }): Promise<void>
  /** Throws ConflictError('bucket-not-empty') if any version or marker exists; discards its uploads. */
  deleteBucket(name: string): Promise<{ garbage: BlobId[] }>
  listBuckets(): Promise<BucketRecord[]>

  /** The current version of a key, unless there is none or it is a delete marker. */
  getObject(bucket: string, key: string): Promise<ObjectRecord | undefined>
  /**
   * One version of a key: `versionId` undefined = the current version (which may be a delete
   * marker), "null" = the null version, else an internal id (undefined if malformed or absent).
   */
  getVersion(bucket: string, key: string, versionId?: string): Promise<VersionRecord | undefined>
  /**
   * Makes the record visible in one atomic, durable write, as a new version: in a bucket whose
   * versioning is not Enabled it is the null version and replaces the previous null version.
   * With `expect.record` it replaces that version in place instead. Throws
   * ConflictError('precondition') if an expectation fails and NotFoundError('object') for
   * If-Match on a missing key.
   * With `completeUpload`, the upload and all its parts are removed in the same write, and the
   * commit is over exactly the parts the caller read: each part of `rec` must still be the
   * upload's part of that number with the same blob, checked in the same atomic section as the
   * write, else ConflictError('concurrent-change') and nothing changes (re-read the parts and
   * retry). The garbage is computed in that section too, so it never names a blob `rec` references.
   */
  commitObject(rec: ObjectRecord, opts?: { expect?: CommitExpectation; completeUpload?: string }): Promise<CommitResult>
  /**
   * Deletes as S3 does: with `versionId` that version goes for good; without, an unversioned
   * bucket loses its null version, a versioned one gains a delete marker (Suspended: the null
   * version, replacing the previous one).
   */
  deleteObject(bucket: string, key: string, opts?: DeleteOptions): Promise<DeleteResult>
  /** Current versions that are not delete markers. */
  listObjects(bucket: string, q: ListQuery): Promise<ListResult>
  /** Every version and delete marker, by key, newest first within a key. */
  listObjectVersions(bucket: string, q: VersionListQuery): Promise<VersionListResult>

  createUpload(rec: UploadRecord): Promise<void>
  getUpload(bucket: string, key: string, uploadId: string): Promise<UploadRecord | undefined>
  /**
   * Stores (or replaces) a part durably; returns the replaced part's blob as garbage. Atomic with
   * respect to commitObject's `completeUpload` of the same upload: once that has committed, the
   * upload is gone and putPart throws NotFoundError('upload'), so the replaced blob it returns
   * is never one that a committed object references.
   */
  putPart(part: UploadPartRecord): Promise<{ garbage: BlobId[] }>
  listParts(
    uploadId: string,
    q: { after?: number; limit: number },
  ): Promise<{ parts: UploadPartRecord[]; isTruncated: boolean }>
  /** All parts of an upload, ascending. */
  getParts(uploadId: string): Promise<UploadPartRecord[]>
  abortUpload(bucket: string, key: string, uploadId: string): Promise<{ garbage: BlobId[] }>
  listUploads(bucket: string, q: UploadListQuery): Promise<UploadListResult>

  /** Every blob id any record references (for orphan collection at start). */
  referencedBlobs(): AsyncIterable<BlobId>
  /**
   * Every version that holds data, of every bucket (admin scans: keys list/rewrap, verify); bucket,
   * then key order, newest first within a key.
   */
  allObjects(): AsyncIterable<ObjectRecord>
  /** Every in-progress multipart upload of every bucket. */
  allUploads(): AsyncIterable<UploadRecord>
  /**
   * Replaces the encryption record of an upload (key rewrap); false if the upload is gone or its
   * record is no longer `expected` (compared as JSON), so a concurrent change always wins.
   */
  replaceUploadEncryption(rec: UploadRecord, expected: UploadRecord['encryption']): Promise<boolean>
  close(): Promise<void>
}

export interface BlobStore {
  /** A fresh, unique, filesystem-safe blob id. */
  newId(): BlobId
  /** Writes to a temp file, fsyncs, renames into place and fsyncs the directory. */
  write(id: BlobId, body: AsyncIterable<Uint8Array>): Promise<{ size: number }>
  /**
   * Reads [start, end) of a blob (whole blob without range). With `size`, the blob must be exactly
   * that many bytes, checked on the opened file before any byte is read: IntegrityError('blob-size')
   * otherwise. NotFoundError('blob') if it does not exist.
   */
  read(id: BlobId, range?: { start: number; end: number }, opts?: { size?: number }): AsyncIterable<Buffer>
  /** The blob's size in bytes; undefined if it does not exist. */
  size(id: BlobId): Promise<number | undefined>
  delete(id: BlobId): Promise<void>
  list(): AsyncIterable<BlobId>
  /** Removes leftovers of interrupted writes. */
  sweepTmp(): Promise<number>
}
