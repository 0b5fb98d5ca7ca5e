/**
 * @module ListObjects / ListObjectVersions / ListMultipartUploads over any sorted key space: a range scan in byte order
 * that groups keys under common prefixes and seeks past each prefix instead of visiting its keys.
 */
import { compareUtf8, justAfter, parseUploadSortKey, successor, escapeNul, uploadsOfKey, utf8 } from './order.js'
import type {
  ListEntry,
  ListQuery,
  ListResult,
  UploadListEntry,
  UploadListQuery,
  UploadListResult,
  UploadRecord,
  VersionListEntry,
  VersionListQuery,
  VersionListResult,
  VersionRecord,
} from './types.js'
import { externalVersionId } from './versions.js'

/** A forward cursor over one key space; keys are relative to the space and compared as bytes. */
export interface Cursor<V> {
  /**
   * The next entry, or undefined at the end of the range. `want` is how many more entries the
   * caller expects to consume (a read-ahead hint, never a limit).
   */
  next(want: number): Promise<[Buffer, V] | undefined>
  /** Moves forward to the first entry whose key is >= target (the end if it is past the range). */
  seek(target: Buffer): void
  close(): Promise<void>
}

/** Where a version was found: its key and version id, from the storage key (never from the record). */
export interface VersionAt {
  key: string
  versionId: string
}

/** Opens a cursor over [gte, lt) of a key space (lt undefined = to the end of the space). */
export type OpenCursor<V> = (range: { gte: Buffer; lt?: Buffer }) => Cursor<V>

interface ScanSpec<V, E> {
  open: OpenCursor<V>
  /** Names are stored under escape(name) (upload keys) rather than utf8(name) (object keys). */
  escaped: boolean
  prefix: string
  delimiter?: string
  /** A common prefix is returned only if it sorts after this name. */
  after?: string
  /** Where the scan starts (inclusive); at least the encoded prefix. */
  start: Buffer
  limit: number
  /** The name in an entry's key. */
  nameOf(key: Buffer): string
  toEntry(key: Buffer, value: V): E
}

type Scanned<E> = { entries: Array<E | { kind: 'prefix'; prefix: string }>; isTruncated: boolean }

/** The shared scan loop: emits entries and common prefixes, skipping each prefix with one seek. */
async function scan<V, E>(s: ScanSpec<V, E>): Promise<Scanned<E>> {
  const encode = (name: string) => (s.escaped ? escapeNul(utf8(name)) : utf8(name))
  const lt = successor(encode(s.prefix))
  if (s.limit <= 0 || (lt && Buffer.compare(s.start, lt) >= 0)) return { entries: [], isTruncated: false }
  const delimiter = s.delimiter === '' ? undefined : s.delimiter
  const cursor = s.open({ gte: s.start, lt })
  const entries: Scanned<E>['entries'] = []
  try {
    for (;;) {
      const entry = await cursor.next(s.limit - entries.length + 1)
      if (!entry) return { entries, isTruncated: false }
      const [key, value] = entry
      const name = s.nameOf(key)
      const cut = delimiter === undefined ? -1 : name.indexOf(delimiter, s.prefix.length)
      if (cut < 0) {
        if (entries.length === s.limit) return { entries, isTruncated: true }
        entries.push(s.toEntry(key, value))
        continue
      }
      const prefix = name.slice(0, cut + delimiter!.length)
      // A common prefix at or before the marker was returned already (v1 NextMarker may be one).
      if (s.after === undefined || compareUtf8(prefix, s.after) > 0) {
        if (entries.length === s.limit) return { entries, isTruncated: true }
        entries.push({ kind: 'prefix', prefix })
      }
      const past = successor(encode(prefix))
      if (!past) return { entries, isTruncated: false }
      cursor.seek(past)
    }
  } finally {
    await cursor.close()
  }
}

/**
 * ListObjects over a cursor of versions, whose keys are uploadSortKey(key, versionId) (newest
 * version of a key first). A key is listed by its newest version unless that is a delete marker;
 * a common prefix is listed only if some key under it is. `after` excludes keys <= after and
 * common prefixes <= after; `limit` counts objects + prefixes. Older versions are skipped with
 * one seek per key that has them.
 */
export async function listObjectEntries<V>(
  open: OpenCursor<V>,
  decode: (v: V, at: VersionAt) => VersionRecord,
  q: ListQuery,
): Promise<ListResult> {
  const prefix = q.prefix ?? ''
  let start = escapeNul(utf8(prefix))
  if (q.after !== undefined) {
    const afterStart = uploadsOfKey(q.after).end
    if (Buffer.compare(afterStart, start) > 0) start = afterStart
  }
  const lt = successor(escapeNul(utf8(prefix)))
  const entries: ListEntry[] = []
  const done = (isTruncated: boolean): ListResult => {
    const lastEntry = entries.at(-1)
    const last =
      lastEntry === undefined ? undefined : lastEntry.kind === 'prefix' ? lastEntry.prefix : lastEntry.record.key
    return { entries, isTruncated, last }
  }
  if (q.limit <= 0 || (lt && Buffer.compare(start, lt) >= 0)) return done(false)
  const delimiter = q.delimiter === '' ? undefined : q.delimiter
  const cursor = open({ gte: start, lt })
  let seen: string | undefined
  try {
    for (;;) {
      const entry = await cursor.next(q.limit - entries.length + 1)
      if (!entry) return done(false)
      const { key: name, uploadId: versionId } = parseUploadSortKey(entry[0])
      if (name === seen) {
        // An older version of a key already decided: skip the rest of that key's versions.
        cursor.seek(uploadsOfKey(name).end)
        continue
      }
      seen = name
      const rec = decode(entry[1], { key: name, versionId })
      if (rec.deleteMarker) continue
      const cut = delimiter === undefined ? -1 : name.indexOf(delimiter, prefix.length)
      if (cut < 0) {
        if (entries.length === q.limit) return done(true)
        entries.push({ kind: 'object', record: rec })
        continue
      }
      const common = name.slice(0, cut + delimiter!.length)
      if (q.after === undefined || compareUtf8(common, q.after) > 0) {
        if (entries.length === q.limit) return done(true)
        entries.push({ kind: 'prefix', prefix: common })
      }
      const past = successor(escapeNul(utf8(common)))
      if (!past) return done(false)
      cursor.seek(past)
      seen = undefined
    }
  } finally {
    await cursor.close()
  }
}

/**
 * ListObjectVersions over a cursor of versions (keys uploadSortKey(key, versionId)): every
 * version and delete marker, by key, newest first. `versionIdMarker` (an internal id, resolved by
 * the store) applies only with `keyMarker`: then the older versions of keyMarker come first, then
 * greater keys; without it every version of keyMarker is skipped. IsLatest marks the first
 * version of each key (never one of keyMarker resumed after its marker).
 */
export async function listVersionEntries<V>(
  open: OpenCursor<V>,
  decode: (v: V, at: VersionAt) => VersionRecord,
  q: VersionListQuery & { versionIdMarker?: string },
): Promise<VersionListResult> {
  const prefix = q.prefix ?? ''
  let start = escapeNul(utf8(prefix))
  const resumedKey = q.keyMarker !== undefined && q.versionIdMarker !== undefined ? q.keyMarker : undefined
  if (q.keyMarker !== undefined) {
    const ofKey = uploadsOfKey(q.keyMarker)
    const markerStart =
      q.versionIdMarker !== undefined ? justAfter(Buffer.concat([ofKey.start, utf8(q.versionIdMarker)])) : ofKey.end
    if (Buffer.compare(markerStart, start) > 0) start = markerStart
  }
  let previous: string | undefined
  const { entries, isTruncated } = await scan<V, VersionListEntry>({
    open,
    escaped: true,
    prefix,
    delimiter: q.delimiter,
    after: q.keyMarker,
    start,
    limit: q.limit,
    nameOf: (key) => parseUploadSortKey(key).key,
    toEntry: (key, value) => {
      const { key: name, uploadId: versionId } = parseUploadSortKey(key)
      const isLatest = name !== previous && name !== resumedKey
      previous = name
      return { kind: 'version', record: decode(value, { key: name, versionId }), isLatest }
    },
  })
  const lastEntry = entries.at(-1) as VersionListEntry | undefined
  const result: VersionListResult = { entries: entries as VersionListEntry[], isTruncated }
  if (lastEntry?.kind === 'prefix') result.nextKeyMarker = lastEntry.prefix
  else if (lastEntry?.kind === 'version') {
    result.nextKeyMarker = lastEntry.record.key
    result.nextVersionIdMarker = externalVersionId(lastEntry.record)
  }
  return result
}

/**
 * ListMultipartUploads over a cursor whose keys are uploadSortKey(key, uploadId): ordered by key,
 * then upload id. `uploadIdMarker` applies only with `keyMarker`: then the uploads of keyMarker
 * with a greater id come first, then greater keys; without it every upload of keyMarker is skipped.
 */
export async function listUploadEntries<V>(
  open: OpenCursor<V>,
  decode: (v: V) => UploadRecord,
  q: UploadListQuery,
): Promise<UploadListResult> {
  const prefix = q.prefix ?? ''
  let start = escapeNul(utf8(prefix))
  if (q.keyMarker !== undefined) {
    const ofKey = uploadsOfKey(q.keyMarker)
    const markerStart =
      q.uploadIdMarker !== undefined ? justAfter(Buffer.concat([ofKey.start, utf8(q.uploadIdMarker)])) : ofKey.end
    if (Buffer.compare(markerStart, start) > 0) start = markerStart
  }
  const { entries, isTruncated } = await scan<V, UploadListEntry>({
    open,
    escaped: true,
    prefix,
    delimiter: q.delimiter,
    after: q.keyMarker,
    start,
    limit: q.limit,
    nameOf: (key) => parseUploadSortKey(key).key,
    toEntry: (_key, value) => ({ kind: 'upload', record: decode(value) }),
  })
  const lastEntry = entries.at(-1) as UploadListEntry | undefined
  const result: UploadListResult = { entries: entries as UploadListEntry[], isTruncated }
  if (lastEntry?.kind === 'prefix') result.nextKeyMarker = lastEntry.prefix
  else if (lastEntry?.kind === 'upload') {
    result.nextKeyMarker = lastEntry.record.key
    result.nextUploadIdMarker = lastEntry.record.uploadId
  }
  return result
}
