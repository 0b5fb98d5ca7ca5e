/**
 * @module The S3 operation a request names when the store refuses it before it becomes an
 * S3Operation (a subresource we do not implement, POST Object): one table, so the 501 is logged
 * and counted in metrics as e.g. GetBucketWebsite or PutBucketReplication, never "Unknown".
 * Names are those of the Amazon S3 API Reference.
 */

const VERBS: Record<string, string> = { GET: 'Get', PUT: 'Put', DELETE: 'Delete', HEAD: 'Head', POST: 'Post' }

/**
 * Subresource -> the name's stem after the verb, on a bucket and on an object (`verb + stem`), or
 * `name`: the one operation the subresource has whatever the method.
 */
const SUBRESOURCE_OPERATIONS: Record<string, { bucket?: string; object?: string; name?: string }> = {
  acl: { bucket: 'BucketAcl', object: 'ObjectAcl' },
  tagging: { bucket: 'BucketTagging', object: 'ObjectTagging' },
  lifecycle: { bucket: 'BucketLifecycleConfiguration' },
  website: { bucket: 'BucketWebsite' },
  replication: { bucket: 'BucketReplication' },
  notification: { bucket: 'BucketNotificationConfiguration' },
  logging: { bucket: 'BucketLogging' },
  'object-lock': { bucket: 'ObjectLockConfiguration' },
  retention: { object: 'ObjectRetention' },
  'legal-hold': { object: 'ObjectLegalHold' },
  requestPayment: { bucket: 'BucketRequestPayment' },
  accelerate: { bucket: 'BucketAccelerateConfiguration' },
  analytics: { bucket: 'BucketAnalyticsConfiguration' },
  inventory: { bucket: 'BucketInventoryConfiguration' },
  metrics: { bucket: 'BucketMetricsConfiguration' },
  'intelligent-tiering': { bucket: 'BucketIntelligentTieringConfiguration' },
  ownershipControls: { bucket: 'BucketOwnershipControls' },
  publicAccessBlock: { bucket: 'PublicAccessBlock' },
  restore: { name: 'RestoreObject' },
  select: { name: 'SelectObjectContent' },
  attributes: { object: 'ObjectAttributes' },
  torrent: { object: 'ObjectTorrent' },
  session: { name: 'CreateSession' },
  renameObject: { name: 'RenameObject' },
  metadataTable: { bucket: 'BucketMetadataTableConfiguration' },
  metadataConfiguration: { bucket: 'BucketMetadataConfiguration' },
  abac: { bucket: 'BucketAbac' },
}

/**
 * The operation `method` on `subresource` names, on an object when `onObject`. A subresource the
 * table lacks (or the wrong level) still gets a distinct name, `<Verb><Bucket|Object>:<subresource>`.
 */
export function refusedOperationName(method: string, subresource: string, onObject: boolean): string {
  const verb = VERBS[method] ?? method
  const entry = SUBRESOURCE_OPERATIONS[subresource]
  if (entry?.name) return entry.name
  const stem = onObject ? entry?.object : entry?.bucket
  return stem ? verb + stem : `${verb}${onObject ? 'Object' : 'Bucket'}:${subresource}`
}

/** Whether the table names `subresource` (the unit test checks every refused subresource). */
export function hasRefusedOperationName(subresource: string): boolean {
  return subresource in SUBRESOURCE_OPERATIONS
}
