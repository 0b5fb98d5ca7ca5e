/**
 * @module The embedded KMS's JSON data model (docs/s3-sse-rules.md §6.1): per-operation member types, JSON →
 * typed request (base64 blobs to Buffers; wrong types → SerializationException), typed response →
 * JSON (Buffers to base64, Dates to epoch seconds). Transport-free: the HTTP side is server/kms/.
 */
import type { KmsCaller } from '../types.js'
import { kmsFault } from './errors.js'
import type { EmbeddedKms } from './service.js'

type MemberType = 'string' | 'blob' | 'int' | 'bool' | 'context' | 'tags' | 'strings' | 'constraints'
type Shape = Record<string, MemberType>

const KEY_ONLY: Shape = { KeyId: 'string' }
const CRYPTO: Shape = { GrantTokens: 'strings', DryRun: 'bool', EncryptionContext: 'context' }

/** Every operation served, its input members, and the service method that runs it. */
const OPERATIONS: Record<
  string,
  { shape: Shape; run: (kms: EmbeddedKms, req: never, caller?: KmsCaller) => Promise<object> }
> = {
  CreateKey: {
    shape: {
      Description: 'string',
      KeyUsage: 'string',
      KeySpec: 'string',
      CustomerMasterKeySpec: 'string',
      Origin: 'string',
      MultiRegion: 'bool',
      CustomKeyStoreId: 'string',
      XksKeyId: 'string',
      Tags: 'tags',
      Policy: 'string',
      BypassPolicyLockoutSafetyCheck: 'bool',
    },
    run: (kms, req, caller) => kms.createKey(req, caller),
  },
  DescribeKey: {
    shape: { KeyId: 'string', GrantTokens: 'strings' },
    run: (kms, req, caller) => kms.describeKey(req, caller),
  },
  ListKeys: { shape: { Limit: 'int', Marker: 'string' }, run: (kms, req, caller) => kms.listKeys(req, caller) },
  CreateAlias: {
    shape: { AliasName: 'string', TargetKeyId: 'string' },
    run: (kms, req, caller) => kms.createAlias(req, caller),
  },
  DeleteAlias: { shape: { AliasName: 'string' }, run: (kms, req, caller) => kms.deleteAlias(req, caller) },
  ListAliases: {
    shape: { KeyId: 'string', Limit: 'int', Marker: 'string' },
    run: (kms, req, caller) => kms.listAliases(req, caller),
  },
  Encrypt: {
    shape: { ...CRYPTO, KeyId: 'string', Plaintext: 'blob', EncryptionAlgorithm: 'string' },
    run: (kms, req, caller) => kms.encrypt(req, caller),
  },
  Decrypt: {
    shape: { ...CRYPTO, CiphertextBlob: 'blob', KeyId: 'string', EncryptionAlgorithm: 'string' },
    run: (kms, req, caller) => kms.decrypt(req, caller),
  },
  GenerateDataKey: {
    shape: { ...CRYPTO, KeyId: 'string', KeySpec: 'string', NumberOfBytes: 'int' },
    run: (kms, req, caller) => kms.generateDataKey(req, caller),
  },
  GenerateDataKeyWithoutPlaintext: {
    shape: { ...CRYPTO, KeyId: 'string', KeySpec: 'string', NumberOfBytes: 'int' },
    run: (kms, req, caller) => kms.generateDataKeyWithoutPlaintext(req, caller),
  },
  ReEncrypt: {
    shape: {
      CiphertextBlob: 'blob',
      SourceEncryptionContext: 'context',
      SourceKeyId: 'string',
      DestinationKeyId: 'string',
      DestinationEncryptionContext: 'context',
      SourceEncryptionAlgorithm: 'string',
      DestinationEncryptionAlgorithm: 'string',
      GrantTokens: 'strings',
      DryRun: 'bool',
    },
    run: (kms, req, caller) => kms.reEncrypt(req, caller),
  },
  EnableKey: { shape: KEY_ONLY, run: (kms, req, caller) => kms.enableKey(req, caller) },
  DisableKey: { shape: KEY_ONLY, run: (kms, req, caller) => kms.disableKey(req, caller) },
  ScheduleKeyDeletion: {
    shape: { KeyId: 'string', PendingWindowInDays: 'int' },
    run: (kms, req, caller) => kms.scheduleKeyDeletion(req, caller),
  },
  CancelKeyDeletion: { shape: KEY_ONLY, run: (kms, req, caller) => kms.cancelKeyDeletion(req, caller) },
  EnableKeyRotation: {
    shape: { KeyId: 'string', RotationPeriodInDays: 'int' },
    run: (kms, req, caller) => kms.enableKeyRotation(req, caller),
  },
  DisableKeyRotation: { shape: KEY_ONLY, run: (kms, req, caller) => kms.disableKeyRotation(req, caller) },
  GetKeyRotationStatus: { shape: KEY_ONLY, run: (kms, req, caller) => kms.getKeyRotationStatus(req, caller) },
  RotateKeyOnDemand: { shape: KEY_ONLY, run: (kms, req, caller) => kms.rotateKeyOnDemand(req, caller) },
  PutKeyPolicy: {
    shape: { KeyId: 'string', PolicyName: 'string', Policy: 'string', BypassPolicyLockoutSafetyCheck: 'bool' },
    run: (kms, req, caller) => kms.putKeyPolicy(req, caller),
  },
  GetKeyPolicy: {
    shape: { KeyId: 'string', PolicyName: 'string' },
    run: (kms, req, caller) => kms.getKeyPolicy(req, caller),
  },
  ListKeyPolicies: {
    shape: { KeyId: 'string', Limit: 'int', Marker: 'string' },
    run: (kms, req, caller) => kms.listKeyPolicies(req, caller),
  },
  CreateGrant: {
    shape: {
      KeyId: 'string',
      GranteePrincipal: 'string',
      RetiringPrincipal: 'string',
      Operations: 'strings',
      Constraints: 'constraints',
      GrantTokens: 'strings',
      Name: 'string',
      DryRun: 'bool',
    },
    run: (kms, req, caller) => kms.createGrant(req, caller),
  },
  ListGrants: {
    shape: { KeyId: 'string', Limit: 'int', Marker: 'string', GrantId: 'string', GranteePrincipal: 'string' },
    run: (kms, req, caller) => kms.listGrants(req, caller),
  },
  ListRetirableGrants: {
    shape: { RetiringPrincipal: 'string', Limit: 'int', Marker: 'string' },
    run: (kms, req, caller) => kms.listRetirableGrants(req, caller),
  },
  RetireGrant: {
    shape: { GrantToken: 'string', KeyId: 'string', GrantId: 'string', DryRun: 'bool' },
    run: (kms, req, caller) => kms.retireGrant(req, caller),
  },
  RevokeGrant: {
    shape: { KeyId: 'string', GrantId: 'string', DryRun: 'bool' },
    run: (kms, req, caller) => kms.revokeGrant(req, caller),
  },
}

/** Names of the operations the embedded KMS serves. */
export const KMS_OPERATION_NAMES: readonly string[] = Object.keys(OPERATIONS)

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

function serialization(member: string, expected: string): never {
  throw kmsFault('SerializationException', `Member ${member} must be ${expected}`)
}

/** One member: JSON value → typed value (undefined for absent or null). */
function convert(member: string, type: MemberType, value: unknown): unknown {
  if (value === undefined || value === null) return undefined
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : serialization(member, 'a string')
    case 'int':
      return typeof value === 'number' && Number.isFinite(value) ? value : serialization(member, 'a number')
    case 'bool':
      return typeof value === 'boolean' ? value : serialization(member, 'a boolean')
    case 'blob':
      // Never echo the value: it may be a plaintext.
      if (typeof value !== 'string' || !BASE64_RE.test(value)) serialization(member, 'a base64 string')
      return Buffer.from(value as string, 'base64')
    case 'strings':
      return Array.isArray(value) && value.every((v) => typeof v === 'string')
        ? value
        : serialization(member, 'a list of strings')
    case 'context': {
      if (typeof value !== 'object' || Array.isArray(value)) serialization(member, 'a map of strings')
      const entries = Object.entries(value as object)
      if (!entries.every(([, v]) => typeof v === 'string')) serialization(member, 'a map of strings')
      return Object.fromEntries(entries)
    }
    case 'constraints': {
      if (typeof value !== 'object' || Array.isArray(value)) serialization(member, 'a structure')
      const v = value as Record<string, unknown>
      return {
        EncryptionContextEquals: convert('EncryptionContextEquals', 'context', v.EncryptionContextEquals),
        EncryptionContextSubset: convert('EncryptionContextSubset', 'context', v.EncryptionContextSubset),
      }
    }
    case 'tags': {
      if (!Array.isArray(value)) serialization(member, 'a list of tags')
      return (value as unknown[]).map((tag) => {
        if (typeof tag !== 'object' || tag === null || Array.isArray(tag)) serialization(member, 'a list of tags')
        const t = tag as Record<string, unknown>
        return { TagKey: convert('TagKey', 'string', t.TagKey), TagValue: convert('TagValue', 'string', t.TagValue) }
      })
    }
  }
}

/** JSON output: Buffers → base64, Dates → epoch seconds, undefined members dropped. */
export function toJson(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('base64')
  if (value instanceof Date) return value.getTime() / 1000
  if (Array.isArray(value)) return value.map(toJson)
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v)
    return out
  }
  return value
}

/**
 * Runs `operation` (the part after `TrentService.`) with the parsed JSON body. Throws KmsError:
 * UnknownOperationException for an operation not served, SerializationException for a body that
 * is not a JSON object or a member of the wrong type, and whatever the operation throws.
 * Plaintext members of the answer are zeroed once serialized.
 */
export async function callKmsOperation(
  kms: EmbeddedKms,
  operation: string,
  body: unknown,
  caller?: KmsCaller,
): Promise<Record<string, unknown>> {
  const op = Object.hasOwn(OPERATIONS, operation) ? OPERATIONS[operation] : undefined
  if (!op) throw kmsFault('UnknownOperationException')
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw kmsFault('SerializationException', 'The request body must be a JSON object')
  const req: Record<string, unknown> = {}
  for (const [member, type] of Object.entries(op.shape)) {
    const value = convert(member, type, (body as Record<string, unknown>)[member])
    if (value !== undefined) req[member] = value
  }
  if (Array.isArray(req.GrantTokens)) kms.checkGrantTokens(req.GrantTokens as string[])
  try {
    const result = (await op.run(kms, req as never, caller)) as Record<string, unknown>
    const json = toJson(result) as Record<string, unknown>
    if (Buffer.isBuffer(result.Plaintext)) result.Plaintext.fill(0)
    return json
  } finally {
    for (const v of Object.values(req)) if (Buffer.isBuffer(v)) v.fill(0)
  }
}
