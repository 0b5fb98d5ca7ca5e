/**
 * @module Test support for versioned buckets: every page of ListObjectVersions, every version and
 * marker a bucket lists, and the writers of the crash tests (PUTs and deletes of random keys until
 * the server is killed, remembering what was acknowledged).
 */
import {
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { createHash, randomBytes, randomInt } from 'node:crypto'

export const md5Hex = (b: Uint8Array): string => createHash('md5').update(b).digest('hex')

/** Every page of ListObjectVersions, following NextKeyMarker / NextVersionIdMarker (bounded). */
export async function* versionPages(
  s3: S3Client,
  input: { Bucket: string; Delimiter?: string; MaxKeys: number },
): AsyncGenerator<ListObjectVersionsCommandOutput> {
  let KeyMarker: string | undefined
  let VersionIdMarker: string | undefined
  for (let page = 0; page < 1000; page++) {
    const r = await s3.send(new ListObjectVersionsCommand({ ...input, KeyMarker, VersionIdMarker }))
    yield r
    if (!r.IsTruncated) return
    KeyMarker = r.NextKeyMarker
    VersionIdMarker = r.NextVersionIdMarker
  }
  throw new Error('ListObjectVersions did not end')
}

export interface ListedVersion {
  key: string
  id: string
  marker: boolean
  etag?: string
}

/** Every version and delete marker of `bucket`, as ListObjectVersions shows them (pages of 50). */
export async function listedVersions(s3: S3Client, bucket: string): Promise<ListedVersion[]> {
  const listed: ListedVersion[] = []
  for await (const r of versionPages(s3, { Bucket: bucket, MaxKeys: 50 })) {
    for (const v of r.Versions ?? []) listed.push({ key: v.Key!, id: v.VersionId!, marker: false, etag: v.ETag })
    for (const m of r.DeleteMarkers ?? []) listed.push({ key: m.Key!, id: m.VersionId!, marker: true })
  }
  return listed
}

/** What a write that was answered 200 made: a version (with its content's MD5) or a delete marker. */
export interface AckedVersion {
  key: string
  md5?: string
  marker?: boolean
}

/**
 * `workers` clients each make up to `rounds` writes of `keyOf()` (one in `deleteOneIn` a DELETE,
 * else a PUT of a random size from `sizes`); after `killAfter` answers in all, `kill` runs and the
 * writers stop. A request failing before the kill fails the test. Returns the acknowledged writes
 * by version id, and whether the kill happened.
 */
export async function writeVersionsUntilKilled(opts: {
  s3: S3Client
  bucket: string
  workers: number
  rounds: number
  killAfter: number
  deleteOneIn: number
  sizes: readonly number[]
  keyOf: () => string
  kill: () => Promise<void>
}): Promise<{ acked: Map<string, AckedVersion>; killed: boolean }> {
  const { s3, bucket: Bucket } = opts
  const acked = new Map<string, AckedVersion>()
  let done = 0
  let killed = false
  const worker = async () => {
    for (let i = 0; i < opts.rounds && !killed; i++) {
      const key = opts.keyOf()
      try {
        if (randomInt(opts.deleteOneIn) === 0) {
          const r = await s3.send(new DeleteObjectCommand({ Bucket, Key: key }))
          acked.set(r.VersionId!, { key, marker: true })
        } else {
          const body = randomBytes(opts.sizes[randomInt(opts.sizes.length)])
          const r = await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: body }))
          acked.set(r.VersionId!, { key, md5: md5Hex(body) })
        }
      } catch {
        if (!killed) throw new Error('a request failed before the kill')
        return
      }
      if (++done === opts.killAfter) {
        killed = true
        await opts.kill()
      }
    }
  }
  await Promise.all(Array.from({ length: opts.workers }, worker))
  return { acked, killed }
}
