/**
 * @module Put/Get/DeleteBucketLifecycleConfiguration (validated as AWS validates them) and the
 * `x-amz-expiration` header of objects a rule will expire. The rules run in server/lifecycle-sweeper.ts.
 */
import { randomBytes } from 'node:crypto'
import {
  expirationOf,
  type LifecycleConfiguration,
  type LifecycleFilterForm,
  type LifecycleRule,
} from '../../../storage/lifecycle.js'
import type { BucketRecord, ObjectRecord } from '../../../storage/types.js'
import type { S3Request, S3Result, Services } from '../context.js'
import { S3Error, invalidArgument } from '../errors.js'
import { readXml } from '../request-body.js'
import { isoTime, textOf, xmlDocument, type XmlObject } from '../xml.js'
import { updateBucket } from './bucket-update.js'
import { validateTags } from '../tags.js'
import { httpDate, loadBucket, requireIntegrityHeader } from './common.js'

export const AMZ_EXPIRATION = 'x-amz-expiration'
export const AMZ_TRANSITION_DEFAULT_MIN_SIZE = 'x-amz-transition-default-minimum-object-size'
const TRANSITION_DEFAULTS = new Set(['all_storage_classes_128K', 'varies_by_storage_class'])
/** The storage classes a Transition may name (AWS's TransitionStorageClass: STANDARD is not one). */
const TRANSITION_CLASSES = new Set([
  'GLACIER',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'DEEP_ARCHIVE',
  'GLACIER_IR',
])
export const MAX_RULES = 1000
const MAX_ID_LENGTH = 255
const MAX_NEWER_NONCURRENT = 100
const RULE_ELEMENTS = new Set([
  'ID',
  'Status',
  'Filter',
  'Prefix',
  'Expiration',
  'NoncurrentVersionExpiration',
  'AbortIncompleteMultipartUpload',
  'Transition',
  'NoncurrentVersionTransition',
  'Transitions',
  'NoncurrentVersionTransitions',
])

function element(v: unknown): Record<string, unknown> {
  if (v === undefined || v === '' || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v)) throw new S3Error('MalformedXML')
  return v as Record<string, unknown>
}

function onlyElements(el: Record<string, unknown>, allowed: readonly string[]): void {
  for (const name of Object.keys(el)) if (!allowed.includes(name)) throw new S3Error('MalformedXML')
}

/** A whole number element (MalformedXML if it is not one), or undefined when absent. */
function integerOf(el: Record<string, unknown>, name: string): number | undefined {
  const raw = textOf(el, name)?.trim()
  if (raw === undefined) return undefined
  if (!/^-?\d{1,15}$/.test(raw)) throw new S3Error('MalformedXML')
  return Number(raw)
}

function positive(el: Record<string, unknown>, name: string, action: string, required: boolean): number | undefined {
  const n = integerOf(el, name)
  if (n === undefined && !required) return undefined
  if (n === undefined || n <= 0)
    throw invalidArgument(
      `'${name}' for ${action} action must be a positive integer`,
      name,
      n === undefined ? undefined : String(n),
    )
  return n
}

function sizeOf(el: Record<string, unknown>, name: string): number | undefined {
  const n = integerOf(el, name)
  if (n !== undefined && n < 0) throw invalidArgument(`'${name}' must be a non-negative integer`, name, String(n))
  return n
}

type ParsedFilter = Pick<LifecycleRule, 'filterForm' | 'prefix' | 'tags' | 'sizeGreaterThan' | 'sizeLessThan'>

/** A filter's `Tag` elements (one, or several inside `And`), validated as object tags are. */
function filterTags(v: unknown): Record<string, string> {
  const pairs = (Array.isArray(v) ? v : [v]).map((t): [string, string] => {
    const tag = element(t)
    onlyElements(tag, ['Key', 'Value'])
    const key = textOf(tag, 'Key')
    if (key === undefined) throw new S3Error('MalformedXML')
    return [key, textOf(tag, 'Value') ?? '']
  })
  const seen = new Set<string>()
  for (const [k] of pairs) {
    if (seen.has(k)) throw new S3Error('InvalidRequest', { message: 'Duplicate Tag Keys are not allowed.' })
    seen.add(k)
  }
  return validateTags(pairs, 'bucket')
}

function parseFilter(rule: Record<string, unknown>): ParsedFilter {
  const hasFilter = rule.Filter !== undefined
  if (hasFilter === (rule.Prefix !== undefined)) throw new S3Error('MalformedXML')
  if (!hasFilter) return { filterForm: 'legacy-prefix', prefix: textOf(rule, 'Prefix') }
  const f = element(rule.Filter)
  const given = Object.keys(f)
  if (given.length === 0) return { filterForm: 'empty' }
  if (given.length > 1) throw new S3Error('MalformedXML')
  if (f.Tag !== undefined) {
    // A Filter holds one Tag; several need an And.
    if (Array.isArray(f.Tag) && f.Tag.length !== 1) throw new S3Error('MalformedXML')
    return { filterForm: 'tag', tags: filterTags(f.Tag) }
  }
  if (f.Prefix !== undefined) return { filterForm: 'prefix', prefix: textOf(f, 'Prefix') }
  if (f.ObjectSizeGreaterThan !== undefined)
    return { filterForm: 'size-greater', sizeGreaterThan: sizeOf(f, 'ObjectSizeGreaterThan') }
  if (f.ObjectSizeLessThan !== undefined)
    return { filterForm: 'size-less', sizeLessThan: sizeOf(f, 'ObjectSizeLessThan') }
  if (f.And === undefined) throw new S3Error('MalformedXML')
  const and = element(f.And)
  onlyElements(and, ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan'])
  const out: ParsedFilter = {
    filterForm: 'and',
    prefix: textOf(and, 'Prefix'),
    ...(and.Tag !== undefined ? { tags: filterTags(and.Tag) } : {}),
    sizeGreaterThan: sizeOf(and, 'ObjectSizeGreaterThan'),
    sizeLessThan: sizeOf(and, 'ObjectSizeLessThan'),
  }
  if (out.sizeGreaterThan !== undefined && out.sizeLessThan !== undefined && out.sizeGreaterThan >= out.sizeLessThan) {
    throw new S3Error('InvalidRequest', { message: 'ObjectSizeGreaterThan must be less than ObjectSizeLessThan.' })
  }
  return out
}

/** `Date`: ISO 8601 at midnight UTC (AWS: InvalidArgument "'Date' must be at midnight GMT"). */
function parseDate(raw: string): number {
  const t = raw.trim()
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(t))
    throw new S3Error('MalformedXML')
  const ms = Date.parse(/T/.test(t) && !/(Z|[+-]\d{2}:?\d{2})$/.test(t) ? `${t}Z` : t)
  if (!Number.isFinite(ms)) throw new S3Error('MalformedXML')
  if (ms % 86_400_000 !== 0) throw invalidArgument("'Date' must be at midnight GMT", 'Date', t)
  return ms
}

function parseExpiration(v: unknown): LifecycleRule['expiration'] {
  const e = element(v)
  onlyElements(e, ['Days', 'Date', 'ExpiredObjectDeleteMarker'])
  const dateRaw = textOf(e, 'Date')
  const markerRaw = textOf(e, 'ExpiredObjectDeleteMarker')?.trim()
  if (markerRaw !== undefined && markerRaw !== 'true' && markerRaw !== 'false') throw new S3Error('MalformedXML')
  const hasDays = e.Days !== undefined
  if (hasDays && dateRaw !== undefined) throw new S3Error('MalformedXML')
  if ((hasDays || dateRaw !== undefined) && markerRaw !== undefined) {
    throw new S3Error('InvalidArgument', {
      message: 'ExpiredObjectDeleteMarker cannot be specified with Days or Date in a Lifecycle Expiration Policy.',
    })
  }
  if (!hasDays && dateRaw === undefined && markerRaw === undefined) throw new S3Error('MalformedXML')
  if (hasDays) return { days: positive(e, 'Days', 'Expiration', true) }
  if (dateRaw !== undefined) return { date: parseDate(dateRaw) }
  return { expiredObjectDeleteMarker: markerRaw === 'true' }
}

/** A Transition asks for a storage class we do not have: a valid one is NotImplemented, others (STANDARD) malformed. */
function refuseTransitions(rule: Record<string, unknown>): void {
  for (const name of ['Transition', 'NoncurrentVersionTransition', 'Transitions', 'NoncurrentVersionTransitions']) {
    const v = rule[name]
    if (v === undefined) continue
    for (const t of Array.isArray(v) ? v : [v]) {
      const cls = textOf(element(t), 'StorageClass')?.trim()
      if (cls === undefined || !TRANSITION_CLASSES.has(cls)) throw new S3Error('MalformedXML')
      throw new S3Error('NotImplemented', {
        message: `Lifecycle ${name} to ${cls} is not implemented: this store keeps every object in STANDARD, the only storage class it has.`,
      })
    }
  }
}

function parseRule(v: unknown): LifecycleRule {
  const rule = element(v)
  onlyElements(rule, [...RULE_ELEMENTS])
  const idRaw = textOf(rule, 'ID')
  if (idRaw !== undefined && idRaw.length > MAX_ID_LENGTH)
    throw invalidArgument(`ID length should not exceed allowed limit of ${MAX_ID_LENGTH}`, 'ID', idRaw)
  const status = textOf(rule, 'Status')
  if (status !== 'Enabled' && status !== 'Disabled') throw new S3Error('MalformedXML')
  const filter = parseFilter(rule)
  refuseTransitions(rule)
  // AWS names a rule given without an ID.
  const out: LifecycleRule = { id: idRaw || randomBytes(36).toString('base64url').slice(0, 48), status, ...filter }
  if (rule.Expiration !== undefined) out.expiration = parseExpiration(rule.Expiration)
  if (rule.NoncurrentVersionExpiration !== undefined) {
    const n = element(rule.NoncurrentVersionExpiration)
    onlyElements(n, ['NoncurrentDays', 'NewerNoncurrentVersions'])
    const noncurrentDays = positive(n, 'NoncurrentDays', 'NoncurrentVersionExpiration', true)!
    const newer = positive(n, 'NewerNoncurrentVersions', 'NoncurrentVersionExpiration', false)
    if (newer !== undefined && newer > MAX_NEWER_NONCURRENT) {
      throw invalidArgument(
        `'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be between 1 and ${MAX_NEWER_NONCURRENT}`,
        'NewerNoncurrentVersions',
        String(newer),
      )
    }
    out.noncurrentExpiration =
      newer === undefined ? { noncurrentDays } : { noncurrentDays, newerNoncurrentVersions: newer }
  }
  if (rule.AbortIncompleteMultipartUpload !== undefined) {
    const a = element(rule.AbortIncompleteMultipartUpload)
    onlyElements(a, ['DaysAfterInitiation'])
    out.abortIncompleteDays = positive(a, 'DaysAfterInitiation', 'AbortIncompleteMultipartUpload', true)
    // An upload has no size until it completes: a size filter could never select one.
    if (out.sizeGreaterThan !== undefined || out.sizeLessThan !== undefined) {
      throw new S3Error('InvalidRequest', {
        message: 'AbortIncompleteMultipartUpload cannot be specified with an object size filter.',
      })
    }
    // Nor can a tag filter: an upload has no tags of its own (AWS refuses the combination).
    if (out.tags !== undefined)
      throw new S3Error('InvalidRequest', { message: 'AbortIncompleteMultipartUpload cannot be specified with Tags.' })
  }
  if (!out.expiration && !out.noncurrentExpiration && out.abortIncompleteDays === undefined) {
    throw new S3Error('InvalidRequest', { message: 'At least one action needs to be specified in a rule' })
  }
  return out
}

/** Parses and validates a `LifecycleConfiguration` document (the root element's content). */
export function parseLifecycleConfiguration(
  doc: Record<string, unknown>,
  transitionDefault = 'all_storage_classes_128K',
): LifecycleConfiguration {
  onlyElements(doc, ['Rule'])
  const rules = doc.Rule
  if (!Array.isArray(rules) || rules.length === 0) throw new S3Error('MalformedXML')
  if (rules.length > MAX_RULES)
    throw new S3Error('InvalidRequest', {
      message: `The lifecycle configuration cannot have more than ${MAX_RULES} rules.`,
    })
  const parsed = rules.map(parseRule)
  const ids = new Set<string>()
  for (const r of parsed) {
    if (ids.has(r.id)) throw invalidArgument('Rule ID must be unique. Found same ID for more than one rule', 'ID', r.id)
    ids.add(r.id)
  }
  if (!TRANSITION_DEFAULTS.has(transitionDefault))
    throw invalidArgument(
      'Invalid value for the transition default minimum object size',
      AMZ_TRANSITION_DEFAULT_MIN_SIZE,
      transitionDefault,
    )
  return {
    rules: parsed,
    transitionDefaultMinimumObjectSize:
      transitionDefault as LifecycleConfiguration['transitionDefaultMinimumObjectSize'],
  }
}

function tagXml(tags: Record<string, string> | undefined): XmlObject[] {
  return Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }))
}

function filterXml(r: LifecycleRule): XmlObject {
  const form: LifecycleFilterForm = r.filterForm
  switch (form) {
    case 'legacy-prefix':
      return { Prefix: r.prefix ?? '' }
    case 'empty':
      return { Filter: '' }
    case 'prefix':
      return { Filter: { Prefix: r.prefix ?? '' } }
    case 'tag':
      return { Filter: { Tag: tagXml(r.tags) } }
    case 'size-greater':
      return { Filter: { ObjectSizeGreaterThan: r.sizeGreaterThan } }
    case 'size-less':
      return { Filter: { ObjectSizeLessThan: r.sizeLessThan } }
    case 'and':
      return {
        Filter: {
          And: {
            Prefix: r.prefix,
            Tag: r.tags && tagXml(r.tags),
            ObjectSizeGreaterThan: r.sizeGreaterThan,
            ObjectSizeLessThan: r.sizeLessThan,
          },
        },
      }
  }
}

function ruleXml(r: LifecycleRule): XmlObject {
  const e = r.expiration
  return {
    ID: r.id,
    ...filterXml(r),
    Status: r.status,
    Expiration: e && {
      Days: e.days,
      Date: e.date === undefined ? undefined : isoTime(e.date),
      ExpiredObjectDeleteMarker: e.expiredObjectDeleteMarker,
    },
    NoncurrentVersionExpiration: r.noncurrentExpiration && {
      NoncurrentDays: r.noncurrentExpiration.noncurrentDays,
      NewerNoncurrentVersions: r.noncurrentExpiration.newerNoncurrentVersions,
    },
    AbortIncompleteMultipartUpload:
      r.abortIncompleteDays === undefined ? undefined : { DaysAfterInitiation: r.abortIncompleteDays },
  }
}

export async function putBucketLifecycleConfiguration(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  await loadBucket(svc, req, name)
  requireIntegrityHeader(req.headers)
  const transitionDefault = req.headers[AMZ_TRANSITION_DEFAULT_MIN_SIZE]?.trim() || 'all_storage_classes_128K'
  const lifecycle = parseLifecycleConfiguration(await readXml(req, 'LifecycleConfiguration'), transitionDefault)
  await updateBucket(svc, req, name, (bucket) => ({ ...bucket, lifecycle }))
  return { status: 200, headers: { [AMZ_TRANSITION_DEFAULT_MIN_SIZE]: lifecycle.transitionDefaultMinimumObjectSize } }
}

export async function getBucketLifecycleConfiguration(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  const bucket = await loadBucket(svc, req, name)
  const cfg = bucket.lifecycle
  if (!cfg) throw new S3Error('NoSuchLifecycleConfiguration', { fields: [['BucketName', name]] })
  return {
    status: 200,
    headers: { [AMZ_TRANSITION_DEFAULT_MIN_SIZE]: cfg.transitionDefaultMinimumObjectSize },
    xml: xmlDocument('LifecycleConfiguration', { Rule: cfg.rules.map(ruleXml) }),
  }
}

export async function deleteBucketLifecycle(svc: Services, req: S3Request, name: string): Promise<S3Result> {
  await updateBucket(svc, req, name, (bucket) =>
    bucket.lifecycle === undefined ? undefined : { ...bucket, lifecycle: undefined },
  )
  return { status: 204 }
}

/** The length of a lifecycle day in milliseconds (`--lifecycle-day-seconds`). */
export function lifecycleDayMs(svc: Services): number {
  return (svc.config.lifecycleDaySeconds ?? 86_400) * 1000
}

/** A rule id as a header value: printable ASCII as is, anything else (and `"`, `%`) percent-encoded. */
function headerSafeId(id: string): string {
  return id.replace(/[^\x20-\x7e]|["%]/g, (c) => encodeURIComponent(c))
}

/**
 * `x-amz-expiration` of a current version that a rule will expire (PUT, GET, HEAD, copy,
 * Complete): `expiry-date="<IMF date>", rule-id="<id>"`; empty when no rule applies.
 */
export function expirationHeaders(svc: Services, bucket: BucketRecord, rec: ObjectRecord): Record<string, string> {
  if (!bucket.lifecycle) return {}
  const exp = expirationOf(rec, bucket.lifecycle.rules, lifecycleDayMs(svc))
  return exp ? { [AMZ_EXPIRATION]: `expiry-date="${httpDate(exp.atMs)}", rule-id="${headerSafeId(exp.ruleId)}"` } : {}
}
