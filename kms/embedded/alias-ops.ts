/**
 * @module Aliases in the embedded KMS (docs/s3-sse-rules.md §6.3): CreateAlias, DeleteAlias, ListAliases,
 * and ensureKeys (named keys declared in config, created on a fresh store).
 */
import type { KmsCaller } from '../types.js'
import type { KmsCore } from './core.js'
import { aliasNotFound, constraint, keyPendingDeletion, kmsFault, nullMember, validation } from './errors.js'
import { ALIAS_NAME_PATTERN, MAX_ALIAS_NAME } from './ids.js'
import { checkLimit, decodeMarker, encodeMarker, requireKeyId } from './key-ops.js'
import type { StoredAlias } from './store.js'

export interface AliasListEntry {
  AliasName: string
  AliasArn: string
  TargetKeyId: string
  CreationDate: Date
  LastUpdatedDate: Date
}

export interface ListAliasesResponse {
  Aliases: AliasListEntry[]
  Truncated: boolean
  NextMarker?: string
}

const PREFIX_MESSAGE =
  'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html'
const RESERVED_MESSAGE = 'Alias names starting with alias/aws/ are reserved for AWS managed keys.'

/** AliasName checks shared by CreateAlias and DeleteAlias (KAPI-08). */
function checkAliasName(name: string | undefined): string {
  if (name === undefined) throw nullMember('aliasName')
  if (name.length < 1) throw constraint('aliasName', name, 'have length greater than or equal to 1')
  if (name.length > MAX_ALIAS_NAME)
    throw constraint('aliasName', name, `have length less than or equal to ${MAX_ALIAS_NAME}`)
  if (!new RegExp(ALIAS_NAME_PATTERN).test(name))
    throw constraint('aliasName', name, `satisfy regular expression pattern: ${ALIAS_NAME_PATTERN}`)
  if (!name.startsWith('alias/')) throw validation(PREFIX_MESSAGE)
  if (name.startsWith('alias/aws/')) throw kmsFault('InvalidAliasNameException', RESERVED_MESSAGE)
  if (name === 'alias/')
    throw constraint('aliasName', name, `satisfy regular expression pattern: ^alias/${ALIAS_NAME_PATTERN.slice(1)}`)
  return name
}

export async function createAlias(
  core: KmsCore,
  req: { AliasName?: string; TargetKeyId?: string },
  caller?: KmsCaller,
): Promise<Record<string, never>> {
  const name = checkAliasName(req.AliasName)
  const target = await core.resolve(requireKeyId(req.TargetKeyId, 'targetKeyId'), 'CreateAlias', caller, false)
  core.checkCustomerManaged(target, 'CreateAlias', caller)
  if (target.state === 'PendingDeletion') throw keyPendingDeletion(core.arnOf(target.id))
  return core.mutate(() => {
    if (core.aliases.has(name))
      throw kmsFault('AlreadyExistsException', `An alias with the name ${core.aliasArnOf(name)} already exists`)
    const now = core.now()
    const alias: StoredAlias = { v: 1, name, targetKeyId: target.id, createdAt: now, updatedAt: now }
    return { ops: [{ type: 'put-alias', alias }], result: {} }
  })
}

export async function deleteAlias(
  core: KmsCore,
  req: { AliasName?: string },
  caller?: KmsCaller,
): Promise<Record<string, never>> {
  const name = checkAliasName(req.AliasName)
  if (caller && caller.accountId !== core.accountId) throw aliasNotFound(core.aliasArnOf(name))
  // kms:DeleteAlias on the key the alias names (key policy and IAM policies).
  const target = core.aliases.get(name)
  if (target) core.authorize(core.keys.get(target.targetKeyId), 'DeleteAlias', caller)
  return core.mutate(() => {
    if (!core.aliases.has(name)) throw aliasNotFound(core.aliasArnOf(name))
    return { ops: [{ type: 'del-alias', name }], result: {} }
  })
}

/** ListAliases sorted by AliasName, optionally of one key (key id or ARN), `alias/aws/s3` once it exists. */
export async function listAliases(
  core: KmsCore,
  req: { KeyId?: string; Limit?: number; Marker?: string },
  caller?: KmsCaller,
): Promise<ListAliasesResponse> {
  const limit = checkLimit(req.Limit, 100, 50)
  const after = req.Marker === undefined ? undefined : decodeMarker('aliases', req.Marker)
  if (req.KeyId === undefined) core.authorize(undefined, 'ListAliases', caller)
  const only =
    req.KeyId === undefined ? undefined : (await core.resolve(requireKeyId(req.KeyId), 'ListAliases', caller, false)).id
  await core.purgeExpired()
  const all = [...core.aliases.values()]
    .filter((a) => (only === undefined || a.targetKeyId === only) && (after === undefined || a.name > after))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const page = all.slice(0, limit)
  const out: ListAliasesResponse = {
    Aliases: page.map((a) => ({
      AliasName: a.name,
      AliasArn: core.aliasArnOf(a.name),
      TargetKeyId: a.targetKeyId,
      CreationDate: new Date(a.createdAt),
      LastUpdatedDate: new Date(a.updatedAt),
    })),
    Truncated: all.length > limit,
  }
  if (out.Truncated) out.NextMarker = encodeMarker('aliases', page[page.length - 1].name)
  return out
}

export interface KeySpecInConfig {
  /** `alias/<name>`; names under `alias/aws/` are refused. */
  alias: string
  description?: string
}

export interface EnsuredKey {
  alias: string
  keyId: string
  keyArn: string
  /** False when the alias already existed (its key is left as it is). */
  created: boolean
}

/**
 * For each declared key whose alias does not exist yet, creates a customer key and the alias in one
 * store write; existing aliases are kept. Throws the CreateAlias errors for a bad alias name.
 */
export async function ensureKeys(core: KmsCore, specs: readonly KeySpecInConfig[]): Promise<EnsuredKey[]> {
  const out: EnsuredKey[] = []
  for (const spec of specs) {
    const name = checkAliasName(spec.alias)
    const ensured = await core.mutate(() => {
      const existing = core.aliases.get(name)
      if (existing && core.keys.has(existing.targetKeyId)) {
        return {
          ops: [],
          result: {
            alias: name,
            keyId: existing.targetKeyId,
            keyArn: core.arnOf(existing.targetKeyId),
            created: false,
          },
        }
      }
      const key = core.newKey({ description: spec.description ?? '', manager: 'CUSTOMER', tags: [] })
      const now = core.now()
      const alias: StoredAlias = { v: 1, name, targetKeyId: key.id, createdAt: now, updatedAt: now }
      return {
        ops: [
          { type: 'put-key' as const, key },
          { type: 'put-alias' as const, alias },
        ],
        result: { alias: name, keyId: key.id, keyArn: core.arnOf(key.id), created: true },
      }
    })
    out.push(ensured)
  }
  return out
}
