/**
 * @module Unit: ObjectDataKeys — one GenerateDataKey per object without a bucket key, one per (bucket, KMS key) with
 * one (crypto/README.md §1).
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { KmsError } from '../../../kms/types.js'
import { ObjectDataKeys, type DataKeySource } from '../../../server/s3/kms-keys.js'

/** A fake KMS counting GenerateDataKey calls; each call can be held until released. */
function fakeKms(opts: { fail?: boolean } = {}) {
  let calls = 0
  const waiting: Array<() => void> = []
  let hold = false
  const source: DataKeySource = {
    async generateDataKey() {
      calls++
      if (hold) await new Promise<void>((r) => waiting.push(r))
      if (opts.fail) throw new KmsError('unavailable', undefined, 'down')
      return {
        plaintext: randomBytes(32),
        ciphertextBlob: randomBytes(64),
        keyArn: 'arn:aws:kms:us-east-1:000000000000:key/k',
      }
    },
    async decrypt() {
      throw new Error('not used')
    },
  }
  return {
    source,
    calls: () => calls,
    hold: () => {
      hold = true
    },
    release: () => {
      hold = false
      for (const r of waiting.splice(0)) r()
    },
  }
}

const req = (bucketKey: boolean, bucket = 'b') => ({
  keyId: 'alias/app',
  context: { 'aws:s3:arn': bucketKey ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/k` },
  bucketKey,
  dsse: false,
  bucket,
})

describe('ObjectDataKeys', () => {
  it('without a bucket key every write asks KMS for its own data key', async () => {
    const kms = fakeKms()
    const keys = new ObjectDataKeys(kms.source)
    const a = await keys.forWrite(req(false))
    const b = await keys.forWrite(req(false))
    expect(kms.calls()).toBe(2)
    expect(a.dataKey.equals(b.dataKey)).toBe(false)
    expect(a.record.bucketKeyEnabled).toBeUndefined()
  })

  it('with a bucket key the first write asks KMS once and the following ones reuse it (copies, so callers may zero theirs)', async () => {
    const kms = fakeKms()
    const keys = new ObjectDataKeys(kms.source)
    const a = await keys.forWrite(req(true))
    const copy = Buffer.from(a.dataKey)
    a.dataKey.fill(0)
    const b = await keys.forWrite(req(true))
    expect(kms.calls()).toBe(1)
    expect(b.dataKey.equals(copy)).toBe(true)
    expect(b.record).toMatchObject({ ciphertextBlob: a.record.ciphertextBlob, bucketKeyEnabled: true })
    await keys.forWrite(req(true, 'other'))
    expect(kms.calls()).toBe(2)
  })

  it('concurrent writes on a cold bucket key share one GenerateDataKey', async () => {
    const kms = fakeKms()
    kms.hold()
    const keys = new ObjectDataKeys(kms.source)
    const pending = Array.from({ length: 8 }, () => keys.forWrite(req(true)))
    await new Promise((r) => setTimeout(r, 10))
    kms.release()
    const out = await Promise.all(pending)
    expect(kms.calls()).toBe(1)
    for (const o of out) expect(o.dataKey.equals(out[0].dataKey)).toBe(true)
  })

  it('a failed GenerateDataKey reaches every waiter and is not cached', async () => {
    const kms = fakeKms({ fail: true })
    const keys = new ObjectDataKeys(kms.source)
    const results = await Promise.allSettled([keys.forWrite(req(true)), keys.forWrite(req(true))])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(kms.calls()).toBe(1)
    await expect(keys.forWrite(req(true))).rejects.toBeInstanceOf(KmsError)
    expect(kms.calls()).toBe(2)
  })
})
