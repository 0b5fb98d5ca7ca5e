/**
 * @module Grants of the embedded KMS (KMS Developer Guide, "Grants in AWS KMS"): CreateGrant,
 * ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant. A grant lets its grantee principal
 * run the listed operations on one key, optionally only with a matching encryption context; it
 * is effective at once here (no eventual consistency), and its grant token is accepted by the
 * operations that take GrantTokens.
 */
import { randomBytes } from 'node:crypto'
import type { EncryptionContext, KmsCaller } from '../types.js'
import type { KmsCore } from './core.js'
import { constraint, kmsFault, nullMember, validation } from './errors.js'
import { checkLimit, decodeMarker, encodeMarker, requireKeyId } from './key-ops.js'
import type { StoredGrant } from './store.js'

export const GRANT_OPERATIONS = [
  'Decrypt',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'ReEncryptFrom',
  'ReEncryptTo',
  'Sign',
  'Verify',
  'GetPublicKey',
  'CreateGrant',
  'RetireGrant',
  'DescribeKey',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'GenerateMac',
  'VerifyMac',
  'DeriveSharedSecret',
] as const
/** Operations that take an encryption context: the only ones a constrained grant may list (with CreateGrant). */
const CONTEXT_OPERATIONS = new Set([
  'Decrypt',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'ReEncryptFrom',
  'ReEncryptTo',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'CreateGrant',
])
const PRINCIPAL_RE = /^[\w+=,.@:/-]{1,256}$/
const GRANT_NAME_RE = /^[a-zA-Z0-9:/_-]{1,256}$/
const GRANT_ID_RE = /^[0-9a-f]{64}$/
const TOKEN_PREFIX = 'SRGRANT'
/** Grants per key at most (AWS's quota is 50,000; this bounds the store's memory). */
const MAX_GRANTS_PER_KEY = 10_000

export interface GrantConstraints {
  EncryptionContextEquals?: EncryptionContext
  EncryptionContextSubset?: EncryptionContext
}

export interface CreateGrantRequest {
  KeyId?: string
  GranteePrincipal?: string
  RetiringPrincipal?: string
  Operations?: string[]
  Constraints?: GrantConstraints
  GrantTokens?: string[]
  Name?: string
  DryRun?: boolean
}

export interface GrantListEntry {
  KeyId: string
  GrantId: string
  Name?: string
  CreationDate: Date
  GranteePrincipal: string
  RetiringPrincipal?: string
  IssuingAccount: string
  Operations: string[]
  Constraints?: GrantConstraints
}

function checkPrincipal(value: string | undefined, member: string, required: boolean): string | undefined {
  if (value === undefined) {
    if (required) throw nullMember(member)
    return undefined
  }
  if (!PRINCIPAL_RE.test(value)) throw constraint(member, value, 'satisfy regular expression pattern: ^[\\w+=,.@:/-]+$')
  return value
}

/** GrantTokens: at most 10, each one this KMS issued (else InvalidGrantTokenException). */
export function checkGrantTokens(_core: KmsCore, tokens: readonly string[] | undefined): void {
  if (!tokens) return
  if (tokens.length > 10) throw constraint('grantTokens', undefined, 'have length less than or equal to 10')
  for (const t of tokens) {
    if (t.length < 1 || t.length > 8192)
      throw constraint('grantTokens', undefined, 'have length less than or equal to 8192')
    if (!t.startsWith(TOKEN_PREFIX)) throw kmsFault('InvalidGrantTokenException', 'Invalid grant token')
  }
}

function entryOf(core: KmsCore, g: StoredGrant): GrantListEntry {
  return {
    KeyId: core.arnOf(g.keyId),
    GrantId: g.id,
    Name: g.name,
    CreationDate: new Date(g.createdAt),
    GranteePrincipal: g.granteePrincipal,
    RetiringPrincipal: g.retiringPrincipal,
    IssuingAccount: g.issuingAccount,
    Operations: g.operations,
    Constraints: g.constraints,
  }
}

export async function createGrant(
  core: KmsCore,
  req: CreateGrantRequest,
  caller?: KmsCaller,
): Promise<{ GrantToken: string; GrantId: string }> {
  const grantee = checkPrincipal(req.GranteePrincipal, 'granteePrincipal', true)!
  const retiring = checkPrincipal(req.RetiringPrincipal, 'retiringPrincipal', false)
  const ops = req.Operations
  if (ops === undefined) throw nullMember('operations')
  if (ops.length === 0) throw constraint('operations', undefined, 'have length greater than or equal to 1')
  for (const op of ops) {
    if (!(GRANT_OPERATIONS as readonly string[]).includes(op))
      throw constraint('operations', `[${op}]`, `satisfy enum value set: [${GRANT_OPERATIONS.join(', ')}]`)
  }
  if (req.Name !== undefined && !GRANT_NAME_RE.test(req.Name))
    throw constraint('name', req.Name, 'satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$')
  const c = req.Constraints
  if (c && c.EncryptionContextEquals && c.EncryptionContextSubset) {
    throw validation(
      'You can specify only one type of encryption context constraint in a grant: EncryptionContextEquals or EncryptionContextSubset.',
    )
  }
  if (c && (c.EncryptionContextEquals || c.EncryptionContextSubset) && ops.some((op) => !CONTEXT_OPERATIONS.has(op))) {
    throw validation('Grant constraints are supported only for operations that accept an encryption context.')
  }
  checkGrantTokens(core, req.GrantTokens)
  const extra: Record<string, string[]> = {
    'kms:grantoperations': [...ops],
    'kms:granteeprincipal': [grantee],
    'kms:grantisforawsresource': [caller?.viaService ? 'true' : 'false'],
  }
  if (retiring) extra['kms:retiringprincipal'] = [retiring]
  const key = await core.resolve(requireKeyId(req.KeyId), 'CreateGrant', caller, true, { extra })
  if (key.state === 'PendingDeletion')
    throw kmsFault('KMSInvalidStateException', `${core.arnOf(key.id)} is pending deletion.`)
  if (req.DryRun === true)
    throw kmsFault('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.')
  return core.mutate(() => {
    const existing = core.grants.get(key.id)
    if ((existing?.size ?? 0) >= MAX_GRANTS_PER_KEY)
      throw kmsFault('LimitExceededException', `The key ${core.arnOf(key.id)} has the most grants allowed.`)
    const constraints = c && (c.EncryptionContextEquals || c.EncryptionContextSubset) ? { ...c } : undefined
    const grant: StoredGrant = {
      v: 1,
      id: randomBytes(32).toString('hex'),
      keyId: key.id,
      token: `${TOKEN_PREFIX}${randomBytes(48).toString('base64url')}`,
      name: req.Name,
      granteePrincipal: grantee,
      retiringPrincipal: retiring,
      operations: [...new Set(ops)],
      constraints,
      issuingAccount: `arn:aws:iam::${core.accountId}:root`,
      createdAt: core.now(),
    }
    return { ops: [{ type: 'put-grant', grant }], result: { GrantToken: grant.token, GrantId: grant.id } }
  })
}

function page<T>(
  all: T[],
  limit: number,
  marker: string | undefined,
  idOf: (t: T) => string,
  kind: string,
): { items: T[]; Truncated: boolean; NextMarker?: string } {
  const after = marker === undefined ? undefined : decodeMarker(kind, marker)
  const rest = after === undefined ? all : all.slice(all.findIndex((t) => idOf(t) === after) + 1)
  const items = rest.slice(0, limit)
  const truncated = rest.length > limit
  return {
    items,
    Truncated: truncated,
    NextMarker: truncated ? encodeMarker(kind, idOf(items[items.length - 1])) : undefined,
  }
}

export async function listGrants(
  core: KmsCore,
  req: { KeyId?: string; Limit?: number; Marker?: string; GrantId?: string; GranteePrincipal?: string },
  caller?: KmsCaller,
): Promise<{ Grants: GrantListEntry[]; Truncated: boolean; NextMarker?: string }> {
  const limit = checkLimit(req.Limit, 100, 50)
  const key = await core.resolve(requireKeyId(req.KeyId), 'ListGrants', caller, true)
  const all = [...(core.grants.get(key.id)?.values() ?? [])]
    .filter(
      (g) =>
        (req.GrantId === undefined || g.id === req.GrantId) &&
        (req.GranteePrincipal === undefined || g.granteePrincipal === req.GranteePrincipal),
    )
    .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
  const p = page(all, limit, req.Marker, (g) => g.id, 'grants')
  return { Grants: p.items.map((g) => entryOf(core, g)), Truncated: p.Truncated, NextMarker: p.NextMarker }
}

export async function listRetirableGrants(
  core: KmsCore,
  req: { RetiringPrincipal?: string; Limit?: number; Marker?: string },
  caller?: KmsCaller,
): Promise<{ Grants: GrantListEntry[]; Truncated: boolean; NextMarker?: string }> {
  const retiring = checkPrincipal(req.RetiringPrincipal, 'retiringPrincipal', true)!
  const limit = checkLimit(req.Limit, 100, 50)
  core.authorize(undefined, 'ListRetirableGrants', caller)
  const all = [...core.grants.values()]
    .flatMap((m) => [...m.values()])
    .filter((g) => g.retiringPrincipal === retiring)
    .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
  const p = page(all, limit, req.Marker, (g) => g.id, 'retirable')
  return { Grants: p.items.map((g) => entryOf(core, g)), Truncated: p.Truncated, NextMarker: p.NextMarker }
}

const grantNotFound = () => kmsFault('NotFoundException', 'Grant ID not found')

/**
 * RetireGrant by token, or by key ARN and grant id. Allowed to the grant's retiring principal, to
 * its grantee when the grant lists RetireGrant, and to whoever the key policy allows kms:RetireGrant.
 */
export async function retireGrant(
  core: KmsCore,
  req: { GrantToken?: string; KeyId?: string; GrantId?: string; DryRun?: boolean },
  caller?: KmsCaller,
): Promise<Record<string, never>> {
  let grant: StoredGrant | undefined
  if (req.GrantToken !== undefined) {
    checkGrantTokens(core, [req.GrantToken])
    grant = core.grantsByToken.get(req.GrantToken)
    if (!grant) throw kmsFault('InvalidGrantTokenException', 'Invalid grant token')
  } else {
    if (req.KeyId === undefined || req.GrantId === undefined)
      throw validation('Either GrantToken, or both KeyId and GrantId, must be specified.')
    if (!GRANT_ID_RE.test(req.GrantId)) throw grantNotFound()
    const key = await core.resolve(requireKeyId(req.KeyId), 'RetireGrant', undefined, false)
    grant = core.grants.get(key.id)?.get(req.GrantId)
    if (!grant) throw grantNotFound()
  }
  const g = grant
  const judge = core.judge
  const mayRetire =
    !caller ||
    !judge ||
    (g.retiringPrincipal !== undefined && judge.isPrincipal(caller, g.retiringPrincipal)) ||
    (g.operations.includes('RetireGrant') && judge.isPrincipal(caller, g.granteePrincipal))
  if (!mayRetire) core.authorize(core.keys.get(g.keyId), 'RetireGrant', caller)
  if (req.DryRun === true)
    throw kmsFault('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.')
  return core.mutate(() => {
    if (!core.grants.get(g.keyId)?.has(g.id)) throw grantNotFound()
    return { ops: [{ type: 'del-grant', keyId: g.keyId, id: g.id }], result: {} }
  })
}

/** RevokeGrant: the key policy (with IAM policies) must allow kms:RevokeGrant. */
export async function revokeGrant(
  core: KmsCore,
  req: { KeyId?: string; GrantId?: string; DryRun?: boolean },
  caller?: KmsCaller,
): Promise<Record<string, never>> {
  if (req.GrantId === undefined) throw nullMember('grantId')
  const key = await core.resolve(requireKeyId(req.KeyId), 'RevokeGrant', caller, false)
  if (!GRANT_ID_RE.test(req.GrantId) || !core.grants.get(key.id)?.has(req.GrantId)) throw grantNotFound()
  if (req.DryRun === true)
    throw kmsFault('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.')
  const id = req.GrantId
  return core.mutate(() => {
    if (!core.grants.get(key.id)?.has(id)) throw grantNotFound()
    return { ops: [{ type: 'del-grant', keyId: key.id, id }], result: {} }
  })
}
