/**
 * @module The one way a handler changes a bucket's configuration: read the record, change it,
 * write it back with a compare-and-swap on the record read, and start over when another change won.
 */
import { ConflictError } from '../../../storage/errors.js'
import { LockTable } from '../../../storage/lock.js'
import type { BucketRecord } from '../../../storage/types.js'
import type { S3Request, Services } from '../context.js'
import { loadBucket } from './common.js'

/** Attempts before a change that keeps losing to concurrent changes of the bucket gives up. */
const MAX_ATTEMPTS = 20

/**
 * Changes of one bucket made through this process take turns: the compare-and-swap alone keeps
 * every change, but dozens of concurrent writers would each lose most rounds, and a writer could
 * lose MAX_ATTEMPTS of them. In turn, a conflict can come only from another process sharing the
 * metadata store (or an admin command), and the retries are for those.
 */
const turns = new LockTable()

/**
 * Applies `change` to the bucket's current record and stores the result only if the record is
 * still the one read (MetadataStore.putBucket with `expect`); on a conflict it reads again and
 * re-applies `change`, so concurrent changes of different settings (a policy and an encryption
 * rule sent together) are both kept. Every attempt loads the bucket as the request's own operation
 * does (NoSuchBucket, AccessDenied: a concurrent policy change may have revoked access meanwhile).
 *
 * `change` returns the new record, or undefined to leave the bucket as it is; it must not modify
 * its argument (stores may hand out a cached record). After MAX_ATTEMPTS lost races the conflict
 * is thrown (409 OperationAborted, S3's answer to conflicting concurrent operations).
 * Returns the record as stored.
 */
export async function updateBucket(
  svc: Services,
  req: S3Request,
  name: string,
  change: (current: BucketRecord) => BucketRecord | undefined,
): Promise<BucketRecord> {
  return turns.with(name, 'exclusive', async () => {
    // Each attempt reads the record afresh, in its turn: not the one the pipeline read for the request
    // before it waited (handler.ts), which a change made meanwhile has replaced.
    const fresh: S3Request = { ...req, bucket: undefined }
    for (let attempt = 1; ; attempt++) {
      const current = await loadBucket(svc, fresh, name)
      const next = change(current)
      if (next === undefined) return current
      try {
        await svc.meta.putBucket(next, { expect: current })
        return next
      } catch (err) {
        if (!(err instanceof ConflictError && err.kind === 'concurrent-change') || attempt >= MAX_ATTEMPTS) throw err
      }
    }
  })
}
