/** @module Every x-amz-* header name the store reads or writes, as lowercase constants, in one place. */

export const AMZ_CONTENT_SHA256 = 'x-amz-content-sha256'
export const AMZ_DECODED_CONTENT_LENGTH = 'x-amz-decoded-content-length'
export const AMZ_COPY_SOURCE = 'x-amz-copy-source'
export const AMZ_COPY_SOURCE_RANGE = 'x-amz-copy-source-range'
export const AMZ_COPY_SOURCE_IF_MATCH = 'x-amz-copy-source-if-match'
export const AMZ_COPY_SOURCE_IF_NONE_MATCH = 'x-amz-copy-source-if-none-match'
export const AMZ_COPY_SOURCE_IF_MODIFIED_SINCE = 'x-amz-copy-source-if-modified-since'
export const AMZ_COPY_SOURCE_IF_UNMODIFIED_SINCE = 'x-amz-copy-source-if-unmodified-since'
export const AMZ_METADATA_DIRECTIVE = 'x-amz-metadata-directive'
export const AMZ_STORAGE_CLASS = 'x-amz-storage-class'
export const AMZ_WEBSITE_REDIRECT = 'x-amz-website-redirect-location'
export const AMZ_META_PREFIX = 'x-amz-meta-'
export const AMZ_EXPECTED_BUCKET_OWNER = 'x-amz-expected-bucket-owner'
export const AMZ_CHECKSUM_MODE = 'x-amz-checksum-mode'
export const AMZ_CHECKSUM_TYPE = 'x-amz-checksum-type'
export const AMZ_CHECKSUM_ALGORITHM = 'x-amz-checksum-algorithm'
export const AMZ_SDK_CHECKSUM_ALGORITHM = 'x-amz-sdk-checksum-algorithm'
export const AMZ_MP_PARTS_COUNT = 'x-amz-mp-parts-count'
export const AMZ_BUCKET_REGION = 'x-amz-bucket-region'
export const AMZ_BUCKET_ARN = 'x-amz-bucket-arn'
export const AMZ_ACCESS_POINT_ALIAS = 'x-amz-access-point-alias'
export const AMZ_VERSION_ID = 'x-amz-version-id'
export const AMZ_DELETE_MARKER = 'x-amz-delete-marker'
export const AMZ_COPY_SOURCE_VERSION_ID = 'x-amz-copy-source-version-id'
export const AMZ_TAGGING = 'x-amz-tagging'
export const AMZ_TAGGING_DIRECTIVE = 'x-amz-tagging-directive'
export const AMZ_TAGGING_COUNT = 'x-amz-tagging-count'

export const AMZ_SSE = 'x-amz-server-side-encryption'
export const AMZ_SSE_KMS_KEY_ID = 'x-amz-server-side-encryption-aws-kms-key-id'
export const AMZ_SSE_CONTEXT = 'x-amz-server-side-encryption-context'
export const AMZ_SSE_BUCKET_KEY = 'x-amz-server-side-encryption-bucket-key-enabled'
export const AMZ_SSE_C_ALGORITHM = 'x-amz-server-side-encryption-customer-algorithm'
export const AMZ_SSE_C_KEY = 'x-amz-server-side-encryption-customer-key'
export const AMZ_SSE_C_KEY_MD5 = 'x-amz-server-side-encryption-customer-key-md5'
export const AMZ_COPY_SSE_C_ALGORITHM = 'x-amz-copy-source-server-side-encryption-customer-algorithm'
export const AMZ_COPY_SSE_C_KEY = 'x-amz-copy-source-server-side-encryption-customer-key'
export const AMZ_COPY_SSE_C_KEY_MD5 = 'x-amz-copy-source-server-side-encryption-customer-key-md5'

/** System metadata stored with an object and returned on GET/HEAD (besides Content-Type). */
export const STORED_SYSTEM_HEADERS = [
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'expires',
  AMZ_WEBSITE_REDIRECT,
] as const
