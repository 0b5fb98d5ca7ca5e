/**
 * @module Key policies of the embedded KMS: PutKeyPolicy, GetKeyPolicy, ListKeyPolicies, and the
 * policy given to CreateKey. A policy is checked by the injected judge's parser before it is
 * stored, and (unless BypassPolicyLockoutSafetyCheck) must still let the caller change it.
 */
import type { KmsCaller } from '../types.js'
import { keyPolicyOf } from './access.js'
import type { KmsCore } from './core.js'
import { constraint, keyDoesNotExist, kmsFault, nullMember } from './errors.js'
import { checkLimit, requireKeyId } from './key-ops.js'

/** The only key policy name AWS has. */
export const POLICY_NAME = 'default'
const MAX_POLICY = 32768
const LOCKOUT_MESSAGE = 'The new key policy will not allow you to update the key policy in the future.'

function checkPolicyName(name: string | undefined): void {
  if (name !== undefined && name !== POLICY_NAME)
    throw kmsFault('NotFoundException', `Policy name ${name} is not valid. The only valid name is default.`)
}

/** Without a judge: any JSON object is a policy. */
function jsonObject(text: string): string | undefined {
  try {
    const v: unknown = JSON.parse(text)
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? undefined : 'The policy is not a JSON object.'
  } catch {
    return 'The policy is not valid JSON.'
  }
}

/**
 * Checks a policy about to be stored on a key of this KMS: size, syntax (the judge's parser; its message
 * becomes MalformedPolicyDocumentException's) and, unless bypassed, that
 * `caller` could still PutKeyPolicy under it.
 */
export function checkNewPolicy(
  core: KmsCore,
  policy: string,
  caller: KmsCaller | undefined,
  bypass: boolean | undefined,
  keyArn: string,
): void {
  if (policy.length < 1) throw constraint('policy', undefined, 'have length greater than or equal to 1')
  if (policy.length > MAX_POLICY)
    throw constraint('policy', undefined, `have length less than or equal to ${MAX_POLICY}`)
  const fault = core.judge ? core.judge.validatePolicy(policy) : jsonObject(policy)
  if (fault !== undefined) throw kmsFault('MalformedPolicyDocumentException', fault)
  if (bypass === true || !caller || !core.judge) return
  const verdict = core.judge.decide({
    caller,
    action: 'kms:PutKeyPolicy',
    resource: keyArn,
    resourceAccount: core.accountId,
    keyPolicy: policy,
    context: { 'kms:calleraccount': [caller.accountId] },
  })
  if (verdict.decision !== 'allow') throw kmsFault('MalformedPolicyDocumentException', LOCKOUT_MESSAGE)
}

export async function putKeyPolicy(
  core: KmsCore,
  req: { KeyId?: string; PolicyName?: string; Policy?: string; BypassPolicyLockoutSafetyCheck?: boolean },
  caller?: KmsCaller,
): Promise<Record<string, never>> {
  checkPolicyName(req.PolicyName)
  if (req.Policy === undefined) throw nullMember('policy')
  const resolved = await core.resolve(requireKeyId(req.KeyId), 'PutKeyPolicy', caller, false)
  // AWS-managed keys: their policy is AWS's, and no one may change it.
  core.checkCustomerManaged(resolved, 'PutKeyPolicy', caller)
  checkNewPolicy(core, req.Policy, caller, req.BypassPolicyLockoutSafetyCheck, core.arnOf(resolved.id))
  return core.mutate(() => {
    const current = core.keys.get(resolved.id)
    if (!current) throw keyDoesNotExist(core.arnOf(resolved.id))
    return { ops: [{ type: 'put-key', key: { ...current, policy: req.Policy } }], result: {} }
  })
}

export async function getKeyPolicy(
  core: KmsCore,
  req: { KeyId?: string; PolicyName?: string },
  caller?: KmsCaller,
): Promise<{ Policy: string; PolicyName: string }> {
  checkPolicyName(req.PolicyName)
  const key = await core.resolve(requireKeyId(req.KeyId), 'GetKeyPolicy', caller, false)
  return { Policy: keyPolicyOf(key, core.accountId, core.region), PolicyName: POLICY_NAME }
}

export async function listKeyPolicies(
  core: KmsCore,
  req: { KeyId?: string; Limit?: number; Marker?: string },
  caller?: KmsCaller,
): Promise<{ PolicyNames: string[]; Truncated: boolean }> {
  checkLimit(req.Limit, 1000, 100)
  await core.resolve(requireKeyId(req.KeyId), 'ListKeyPolicies', caller, false)
  return { PolicyNames: [POLICY_NAME], Truncated: false }
}
