/**
 * @module SSE-KMS data keys for objects: GenerateDataKey on write, Decrypt on read, and S3 Bucket
 * Keys — one KMS data key per (bucket, KMS key) reused for a bounded time, so PUTs into a bucket
 * with BucketKeyEnabled stop costing a KMS round trip each (docs/s3-sse-rules.md §4.6, crypto/README.md §1).
 */
import type { KmsCaller } from '../../kms/types.js'
import type { KmsKeyRecord } from '../../crypto/types.js'
import { TtlCache } from '../../lib/ttl-cache.js'

/** What S3 needs from a KMS (the embedded one or any AWS KMS JSON API endpoint). */
export interface DataKeySource {
  /**
   * `caller`: the account the request runs as (the embedded KMS keeps keys per account; HTTP KMS clients ignore it).
   */
  generateDataKey(req: {
    keyId: string
    context: Record<string, string>
    caller?: KmsCaller
  }): Promise<{ plaintext: Buffer; ciphertextBlob: Buffer; keyArn: string }>
  decrypt(req: {
    ciphertextBlob: Buffer
    context: Record<string, string>
    keyId?: string
    caller?: KmsCaller
  }): Promise<{ plaintext: Buffer; keyArn: string }>
}

/** A bucket key is reused for at most this long (docs/s3-sse-rules.md §4.6: ≤ 10 minutes). */
const BUCKET_KEY_TTL_MS = 5 * 60 * 1000
const MAX_BUCKET_KEYS = 1024

interface CachedBucketKey {
  plaintext: Buffer
  ciphertextBlob: Buffer
  keyArn: string
  /** False once the plaintext has been zeroed (replaced, expired or evicted): take a fresh one. */
  live: boolean
}

/** Data keys for new objects, with the bucket-key cache. */
export class ObjectDataKeys {
  /** Bucket keys in the project's one cache (lib/ttl-cache.ts); concurrent PUTs on a cold key share one KMS call. */
  private readonly bucketKeys = new TtlCache<CachedBucketKey>({
    maxEntries: MAX_BUCKET_KEYS,
    ttlMs: BUCKET_KEY_TTL_MS,
    dispose: (entry) => {
      entry.live = false
      entry.plaintext.fill(0)
    },
  })

  /** `onBucketKey` is told of every bucket-key lookup: hit (live cached key) or miss (metrics). */
  constructor(
    private readonly kms: DataKeySource,
    private readonly onBucketKey?: (hit: boolean) => void,
  ) {}

  /**
   * A data key for a new object (or upload) and the KMS record to store with it. With a bucket
   * key, the context is the bucket ARN and the key is shared by the bucket's writes for a while.
   */
  async forWrite(req: {
    keyId: string
    context: Record<string, string>
    bucketKey: boolean
    dsse: boolean
    bucket: string
    contextHeader?: string
    caller?: KmsCaller
  }): Promise<{ dataKey: Buffer; record: KmsKeyRecord }> {
    const base = {
      context: req.context,
      clientContextHeader: req.contextHeader,
      dsse: req.dsse || undefined,
      bucketKeyEnabled: req.bucketKey || undefined,
    }
    if (!req.bucketKey) {
      const dk = await this.kms.generateDataKey({ keyId: req.keyId, context: req.context, caller: req.caller })
      return {
        dataKey: dk.plaintext,
        record: { keyArn: dk.keyArn, ciphertextBlob: dk.ciphertextBlob.toString('base64'), ...base },
      }
    }
    // Only pairs S3 itself adds make a bucket key shareable; a client context makes the key per object.
    // Per calling account too: a key id such as `alias/aws/s3` names a different key in each account.
    // And per principal: each one's kms:GenerateDataKey permission is checked by its own KMS call.
    const cacheKey = `${req.caller?.accountId ?? ''}\0${req.caller?.principalArn ?? ''}\0${req.bucket}\0${req.keyId}\0${JSON.stringify(Object.entries(req.context).sort())}`
    for (;;) {
      const cached = await this.bucketKeyFor(cacheKey, req)
      // Copied in the same turn it is checked: a zeroed (evicted meanwhile) entry is never handed out.
      if (cached?.live) {
        return {
          dataKey: Buffer.from(cached.plaintext),
          record: { keyArn: cached.keyArn, ciphertextBlob: cached.ciphertextBlob.toString('base64'), ...base },
        }
      }
    }
  }

  /** The live bucket key of `cacheKey`, else one GenerateDataKey shared by every caller waiting for it. */
  private async bucketKeyFor(
    cacheKey: string,
    req: { keyId: string; context: Record<string, string>; caller?: KmsCaller },
  ): Promise<CachedBucketKey | undefined> {
    const hit = this.bucketKeys.get(cacheKey)
    this.onBucketKey?.(hit?.live === true)
    if (hit?.live) return hit
    await this.bucketKeys.load(cacheKey, async () => {
      const dk = await this.kms.generateDataKey({ keyId: req.keyId, context: req.context, caller: req.caller })
      return { plaintext: dk.plaintext, ciphertextBlob: dk.ciphertextBlob, keyArn: dk.keyArn, live: true }
    })
    return this.bucketKeys.get(cacheKey)
  }

  /** The data key of a stored object: KMS Decrypt with the stored blob and context. */
  async forRead(rec: KmsKeyRecord, caller?: KmsCaller): Promise<Buffer> {
    const res = await this.kms.decrypt({
      ciphertextBlob: Buffer.from(rec.ciphertextBlob, 'base64'),
      context: rec.context,
      keyId: rec.keyArn,
      caller,
    })
    return Buffer.from(res.plaintext)
  }
}
