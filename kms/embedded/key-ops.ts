/**
 * @module Key lifecycle operations of the embedded KMS (docs/s3-sse-rules.md §6.2–§6.3): CreateKey,
 * DescribeKey, ListKeys, Enable/DisableKey, Schedule/CancelKeyDeletion.
 */
import type { KmsCaller } from '../types.js'
import { DAY_MS, type KmsCore } from './core.js'
import {
  constraint,
  keyDoesNotExist,
  keyNotPendingDeletion,
  keyPendingDeletion,
  kmsFault,
  nullMember,
  unsupported,
  validation,
} from './errors.js'
import type { StoredKey } from './store.js'

export interface Tag {
  TagKey?: string
  TagValue?: string
}

export interface CreateKeyRequest {
  Description?: string
  KeyUsage?: string
  KeySpec?: string
  CustomerMasterKeySpec?: string
  Origin?: string
  MultiRegion?: boolean
  CustomKeyStoreId?: string
  XksKeyId?: string
  Tags?: Tag[]
  /** The key policy (checked by the service before); absent: AWS's default key policy. */
  Policy?: string
  BypassPolicyLockoutSafetyCheck?: boolean
}

export interface KeyMetadata {
  AWSAccountId: string
  KeyId: string
  Arn: string
  CreationDate: Date
  Enabled: boolean
  Description: string
  KeyUsage: 'ENCRYPT_DECRYPT'
  KeyState: StoredKey['state']
  Origin: 'AWS_KMS'
  KeyManager: 'CUSTOMER' | 'AWS'
  CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT'
  KeySpec: 'SYMMETRIC_DEFAULT'
  EncryptionAlgorithms: ['SYMMETRIC_DEFAULT']
  MultiRegion: false
  DeletionDate?: Date
  PendingDeletionWindowInDays?: number
}

export interface ListKeysRequest {
  Limit?: number
  Marker?: string
}

export interface ListKeysResponse {
  Keys: Array<{ KeyId: string; KeyArn: string }>
  Truncated: boolean
  NextMarker?: string
}

export interface ScheduleKeyDeletionResponse {
  KeyId: string
  DeletionDate: Date
  KeyState: 'PendingDeletion'
  PendingWindowInDays: number
}

export function metadataOf(core: KmsCore, key: StoredKey): KeyMetadata {
  const m: KeyMetadata = {
    AWSAccountId: core.accountId,
    KeyId: key.id,
    Arn: core.arnOf(key.id),
    CreationDate: new Date(key.createdAt),
    Enabled: key.state === 'Enabled',
    Description: key.description,
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState: key.state,
    Origin: 'AWS_KMS',
    KeyManager: key.manager,
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    KeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: false,
  }
  if (key.state === 'PendingDeletion') {
    m.DeletionDate = new Date(key.deletionDate!)
    m.PendingDeletionWindowInDays = key.pendingWindowDays
  }
  return m
}

/**
 * Tag rules of CreateKey (docs/s3-sse-rules.md §6.3, KAPI-34): `aws:` prefix reserved, keys unique, AWS length limits.
 */
export function validateTags(tags: Tag[] | undefined): Array<{ TagKey: string; TagValue: string }> {
  const out: Array<{ TagKey: string; TagValue: string }> = []
  const seen = new Set<string>()
  for (const [i, tag] of (tags ?? []).entries()) {
    const at = `tags.${i + 1}.member`
    if (tag.TagKey === undefined) throw nullMember(`${at}.tagKey`)
    if (tag.TagValue === undefined) throw nullMember(`${at}.tagValue`)
    if (tag.TagKey.length < 1) throw constraint(`${at}.tagKey`, tag.TagKey, 'have length greater than or equal to 1')
    if (tag.TagKey.length > 128) throw constraint(`${at}.tagKey`, tag.TagKey, 'have length less than or equal to 128')
    if (tag.TagValue.length > 256)
      throw constraint(`${at}.tagValue`, tag.TagValue, 'have length less than or equal to 256')
    if (tag.TagKey.startsWith('aws:')) throw kmsFault('TagException', 'Tags beginning with aws: are reserved')
    if (seen.has(tag.TagKey)) throw kmsFault('TagException', 'Duplicate tag keys')
    seen.add(tag.TagKey)
    out.push({ TagKey: tag.TagKey, TagValue: tag.TagValue })
  }
  return out
}

/** CreateKey: symmetric ENCRYPT_DECRYPT keys only; anything else is UnsupportedOperationException (§7 deviation). */
export async function createKey(core: KmsCore, req: CreateKeyRequest): Promise<{ KeyMetadata: KeyMetadata }> {
  if (req.Description !== undefined && req.Description.length > 8192) {
    throw constraint('description', undefined, 'have length less than or equal to 8192')
  }
  if (req.KeyUsage !== undefined && req.KeyUsage !== 'ENCRYPT_DECRYPT') throw unsupported(req.KeyUsage)
  for (const spec of [req.KeySpec, req.CustomerMasterKeySpec])
    if (spec !== undefined && spec !== 'SYMMETRIC_DEFAULT') throw unsupported(spec)
  if (req.Origin !== undefined && req.Origin !== 'AWS_KMS') throw unsupported(req.Origin)
  if (req.MultiRegion === true) throw unsupported('MultiRegion')
  if (req.CustomKeyStoreId !== undefined) throw unsupported('CustomKeyStoreId')
  if (req.XksKeyId !== undefined) throw unsupported('XksKeyId')
  const tags = validateTags(req.Tags)
  const key = await core.mutate(() => {
    const k = core.newKey({ description: req.Description ?? '', manager: 'CUSTOMER', tags })
    if (req.Policy !== undefined) k.policy = req.Policy
    return { ops: [{ type: 'put-key', key: k }], result: k }
  })
  return { KeyMetadata: metadataOf(core, key) }
}

export async function describeKey(
  core: KmsCore,
  req: { KeyId?: string },
  caller?: KmsCaller,
): Promise<{ KeyMetadata: KeyMetadata }> {
  const key = await core.resolve(requireKeyId(req.KeyId), 'DescribeKey', caller, true)
  return { KeyMetadata: metadataOf(core, key) }
}

const MARKER_PREFIX = 'strongroom-kms:'

/** An opaque marker for `kind` at `position`. */
export function encodeMarker(kind: string, position: string): string {
  return Buffer.from(`${MARKER_PREFIX}${kind}:${position}`, 'utf8').toString('base64url')
}

/** The position of a marker this store issued for `kind`; InvalidMarkerException otherwise. */
export function decodeMarker(kind: string, marker: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(marker) ? Buffer.from(marker, 'base64url').toString('utf8') : ''
  const head = `${MARKER_PREFIX}${kind}:`
  if (!text.startsWith(head))
    throw kmsFault('InvalidMarkerException', 'The marker that specifies where to start listing is not valid.')
  return text.slice(head.length)
}

/** Checks Limit against [1, max]; returns it or the default. */
export function checkLimit(limit: number | undefined, max: number, fallback: number): number {
  if (limit === undefined) return fallback
  if (!Number.isInteger(limit) || limit < 1) throw constraint('limit', limit, 'have value greater than or equal to 1')
  if (limit > max) throw constraint('limit', limit, `have value less than or equal to ${max}`)
  return limit
}

/** ListKeys in creation order, pending-deletion and AWS-managed keys included (KAPI-06). */
export async function listKeys(core: KmsCore, req: ListKeysRequest): Promise<ListKeysResponse> {
  const limit = checkLimit(req.Limit, 1000, 100)
  const after = req.Marker === undefined ? 0 : Number(decodeMarker('keys', req.Marker))
  if (!Number.isSafeInteger(after))
    throw kmsFault('InvalidMarkerException', 'The marker that specifies where to start listing is not valid.')
  await core.purgeExpired()
  const rest = [...core.keys.values()].filter((k) => k.seq > after)
  const page = rest.slice(0, limit)
  const out: ListKeysResponse = {
    Keys: page.map((k) => ({ KeyId: k.id, KeyArn: core.arnOf(k.id) })),
    Truncated: rest.length > limit,
  }
  if (out.Truncated) out.NextMarker = encodeMarker('keys', String(page[page.length - 1].seq))
  return out
}

export function requireKeyId(keyId: string | undefined, member = 'keyId'): string {
  if (keyId === undefined) throw nullMember(member)
  if (keyId.length < 1) throw constraint(member, keyId, 'have length greater than or equal to 1')
  if (keyId.length > 2048) throw constraint(member, undefined, 'have length less than or equal to 2048')
  return keyId
}

/**
 * Resolves a management KeyId (key id or key ARN only), refuses AWS-managed keys, then stores the
 * record `change` returns for the key as it is at that moment (re-read inside the mutation).
 */
export async function changeKey<T>(
  core: KmsCore,
  keyId: string | undefined,
  operation: string,
  caller: KmsCaller | undefined,
  change: (key: StoredKey) => { key?: StoredKey; result: T },
): Promise<T> {
  const resolved = await core.resolve(requireKeyId(keyId), operation, caller, false)
  core.checkCustomerManaged(resolved, operation, caller)
  return core.mutate(() => {
    const current = core.keys.get(resolved.id)
    if (!current) throw keyDoesNotExist(core.arnOf(resolved.id))
    const { key, result } = change(current)
    return { ops: key ? [{ type: 'put-key', key }] : [], result }
  })
}

export async function enableKey(
  core: KmsCore,
  req: { KeyId?: string },
  caller?: KmsCaller,
): Promise<Record<string, never>> {
  return changeKey(core, req.KeyId, 'EnableKey', caller, (key) => {
    if (key.state === 'PendingDeletion') throw keyPendingDeletion(core.arnOf(key.id))
    return { key: key.state === 'Enabled' ? undefined : { ...key, state: 'Enabled' }, result: {} }
  })
}

export async function disableKey(
  core: KmsCore,
  req: { KeyId?: string },
  caller?: KmsCaller,
): Promise<Record<string, never>> {
  return changeKey(core, req.KeyId, 'DisableKey', caller, (key) => {
    if (key.state === 'PendingDeletion') throw keyPendingDeletion(core.arnOf(key.id))
    return { key: key.state === 'Disabled' ? undefined : { ...key, state: 'Disabled' }, result: {} }
  })
}

export async function scheduleKeyDeletion(
  core: KmsCore,
  req: { KeyId?: string; PendingWindowInDays?: number },
  caller?: KmsCaller,
): Promise<ScheduleKeyDeletionResponse> {
  const days = req.PendingWindowInDays ?? 30
  if (!Number.isInteger(days) || days < 7 || days > 30) {
    throw validation(`PendingWindowInDays should be between 7 and 30, but it is ${days}`)
  }
  return changeKey(core, req.KeyId, 'ScheduleKeyDeletion', caller, (key) => {
    if (key.state === 'PendingDeletion') throw keyPendingDeletion(core.arnOf(key.id))
    const deletionDate = core.now() + days * DAY_MS
    return {
      key: { ...key, state: 'PendingDeletion', deletionDate, pendingWindowDays: days },
      result: {
        KeyId: core.arnOf(key.id),
        DeletionDate: new Date(deletionDate),
        KeyState: 'PendingDeletion',
        PendingWindowInDays: days,
      },
    }
  })
}

/** CancelKeyDeletion: the key comes back Disabled (docs/s3-sse-rules.md §6.3, KAPI-24). */
export async function cancelKeyDeletion(
  core: KmsCore,
  req: { KeyId?: string },
  caller?: KmsCaller,
): Promise<{ KeyId: string }> {
  return changeKey(core, req.KeyId, 'CancelKeyDeletion', caller, (key) => {
    if (key.state !== 'PendingDeletion') throw keyNotPendingDeletion(core.arnOf(key.id))
    const { deletionDate: _d, pendingWindowDays: _w, ...rest } = key
    return { key: { ...rest, state: 'Disabled' }, result: { KeyId: core.arnOf(key.id) } }
  })
}
