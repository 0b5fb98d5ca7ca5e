/**
 * @module Key rotation in the embedded KMS (docs/s3-sse-rules.md §6.3): Enable/Disable/GetKeyRotationStatus and
 * the admin hook that adds key material (KAPI-27); older material keeps decrypting.
 */
import type { KmsCaller } from '../types.js'
import { DAY_MS, type KmsCore } from './core.js'
import { constraint, keyDisabled, keyDoesNotExist, keyPendingDeletion } from './errors.js'
import { changeKey, requireKeyId } from './key-ops.js'
import { newSealedMaterial } from './material.js'
import type { StoredKey } from './store.js'

export interface GetKeyRotationStatusResponse {
  KeyRotationEnabled: boolean
  KeyId: string
  RotationPeriodInDays?: number
  NextRotationDate?: Date
}

/** Rotation rule of the state table: Disabled → DisabledException, PendingDeletion → KMSInvalidStateException. */
function checkRotatable(core: KmsCore, key: StoredKey): void {
  if (key.state === 'Disabled') throw keyDisabled(core.arnOf(key.id))
  if (key.state === 'PendingDeletion') throw keyPendingDeletion(core.arnOf(key.id))
}

export async function enableKeyRotation(
  core: KmsCore,
  req: { KeyId?: string; RotationPeriodInDays?: number },
  caller?: KmsCaller,
): Promise<Record<string, never>> {
  const period = req.RotationPeriodInDays ?? 365
  if (!Number.isInteger(period) || period < 90)
    throw constraint('rotationPeriodInDays', period, 'have value greater than or equal to 90')
  if (period > 2560) throw constraint('rotationPeriodInDays', period, 'have value less than or equal to 2560')
  return changeKey(core, req.KeyId, 'EnableKeyRotation', caller, (key) => {
    checkRotatable(core, key)
    const enabledAt = key.rotation?.enabledAt ?? core.now()
    return { key: { ...key, rotation: { periodDays: period, enabledAt } }, result: {} }
  })
}

export async function disableKeyRotation(
  core: KmsCore,
  req: { KeyId?: string },
  caller?: KmsCaller,
): Promise<Record<string, never>> {
  return changeKey(core, req.KeyId, 'DisableKeyRotation', caller, (key) => {
    checkRotatable(core, key)
    const { rotation: _r, ...rest } = key
    return { key: key.rotation ? rest : undefined, result: {} }
  })
}

/** GetKeyRotationStatus; period and next date only while enabled (KAPI-25). */
export async function getKeyRotationStatus(
  core: KmsCore,
  req: { KeyId?: string },
  caller?: KmsCaller,
): Promise<GetKeyRotationStatusResponse> {
  const key = await core.resolve(requireKeyId(req.KeyId), 'GetKeyRotationStatus', caller, false)
  if (key.state === 'PendingDeletion') throw keyPendingDeletion(core.arnOf(key.id))
  if (!key.rotation) return { KeyRotationEnabled: false, KeyId: key.id }
  const lastMaterial = key.materials[key.materials.length - 1].createdAt
  const base = Math.max(key.rotation.enabledAt, lastMaterial)
  return {
    KeyRotationEnabled: true,
    KeyId: key.id,
    RotationPeriodInDays: key.rotation.periodDays,
    NextRotationDate: new Date(base + key.rotation.periodDays * DAY_MS),
  }
}

/**
 * Admin hook (KAPI-27; also served as RotateKeyOnDemand): adds a new material version that
 * encrypts from now on; ciphertexts of older versions still decrypt. Accepts any key reference;
 * the key must be Enabled. Returns the key id and the new material version.
 */
export async function rotateKeyMaterial(
  core: KmsCore,
  keyId: string,
  caller?: KmsCaller,
): Promise<{ keyId: string; materialVersion: number }> {
  const resolved = await core.resolve(requireKeyId(keyId), 'RotateKeyOnDemand', caller, true)
  return core.mutate(() => {
    const key = core.keys.get(resolved.id)
    if (!key) throw keyDoesNotExist(core.arnOf(resolved.id))
    checkRotatable(core, key)
    const version = key.materials[key.materials.length - 1].version + 1
    const material = newSealedMaterial(core.keyring, key.id, version, core.now())
    return {
      ops: [{ type: 'put-key', key: { ...key, materials: [...key.materials, material] } }],
      result: { keyId: key.id, materialVersion: version },
    }
  })
}
