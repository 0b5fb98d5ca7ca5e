/**
 * @module ListObjects / ListMultipartUploads over any sorted key space: a range scan in byte order
 * that groups keys under common prefixes and seeks past each prefix instead of visiting its keys.
 */
import { compareUtf8, justAfter, parseUploadSortKey, successor, escapeNul, uploadsOfKey, utf8 } from './order.js'
import type { ListEntry, ListQuery, ListResult, ObjectRecord, UploadListEntry, UploadListQuery, UploadListResult, UploadRecord } from './types.js'

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
 * ListObjects over a cursor whose keys are utf8(object key).
 * `after` excludes keys <= after and common prefixes <= after; `limit` counts objects + prefixes.
 */
export async function listObjectEntries<V>(open: OpenCursor<V>, decode: (v: V) => ObjectRecord, q: ListQuery): Promise<ListResult> {
  const prefix = q.prefix ?? ''
  let start = utf8(prefix)
  if (q.after !== undefined) {
    const afterStart = justAfter(utf8(q.after))
    if (Buffer.compare(afterStart, start) > 0) start = afterStart
  }
  const { entries, isTruncated } = await scan<V, ListEntry>({
    open, escaped: false, prefix, delimiter: q.delimiter, after: q.after, start, limit: q.limit,
    nameOf: (key) => key.toString('utf8'),
    toEntry: (_key, value) => ({ kind: 'object', record: decode(value) }),
  })
  const lastEntry = entries.at(-1)
  const last = lastEntry === undefined ? undefined : lastEntry.kind === 'prefix' ? lastEntry.prefix : lastEntry.record.key
  return { entries: entries as ListEntry[], isTruncated, last }
}

/**
 * ListMultipartUploads over a cursor whose keys are uploadSortKey(key, uploadId): ordered by key,
 * then upload id. `uploadIdMarker` applies only with `keyMarker`: then the uploads of keyMarker
 * with a greater id come first, then greater keys; without it every upload of keyMarker is skipped.
 */
export async function listUploadEntries<V>(open: OpenCursor<V>, decode: (v: V) => UploadRecord, q: UploadListQuery): Promise<UploadListResult> {
  const prefix = q.prefix ?? ''
  let start = escapeNul(utf8(prefix))
  if (q.keyMarker !== undefined) {
    const ofKey = uploadsOfKey(q.keyMarker)
    const markerStart = q.uploadIdMarker !== undefined
      ? justAfter(Buffer.concat([ofKey.start, utf8(q.uploadIdMarker)]))
      : ofKey.end
    if (Buffer.compare(markerStart, start) > 0) start = markerStart
  }
  const { entries, isTruncated } = await scan<V, UploadListEntry>({
    open, escaped: true, prefix, delimiter: q.delimiter, after: q.keyMarker, start, limit: q.limit,
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
