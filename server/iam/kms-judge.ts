/**
 * @module The embedded KMS's access judge (kms/embedded/access.ts) over the one policy
 * engine: the key policy as the resource policy, with the rule that IAM policies count only where
 * the key policy allows the account; actions on no key (CreateKey, ListKeys…) by IAM policies alone.
 */
import type { KeyAccessJudge, KeyAccessRequest, KeyAccessVerdict } from '../../kms/embedded/access.js'
import type { KmsCaller } from '../../kms/types.js'
import { PolicyError, parsePolicyDocument, type Policy } from '../s3/policy/parse.js'
import { evaluateAccess } from './engine.js'
import { defaultIdentity, identityContext, type IamIdentity } from './identity.js'

const cache = new Map<string, Policy>()

function keyPolicy(text: string): Policy {
  let p = cache.get(text)
  if (!p) {
    try {
      p = parsePolicyDocument(text, 'key')
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err
      // Stored policies were validated when put: one that no longer parses grants nothing.
      p = { statements: [] }
    }
    if (cache.size >= 512) cache.clear()
    cache.set(text, p)
  }
  return p
}

/** The identity a KMS caller acts as. */
export function callerIdentity(caller: KmsCaller): IamIdentity {
  return (caller.identity as IamIdentity | undefined) ?? defaultIdentity(caller.accountId, caller.principalArn)
}

export const kmsJudge: KeyAccessJudge = {
  decide(req: KeyAccessRequest): KeyAccessVerdict {
    const identity = callerIdentity(req.caller)
    const d = evaluateAccess({
      identity,
      action: req.action,
      resource: req.resource,
      resourceAccount: req.resourceAccount,
      resourcePolicy: req.keyPolicy === undefined ? undefined : { type: 'key', policy: keyPolicy(req.keyPolicy) },
      keyPolicyGate: req.keyPolicy !== undefined,
      context: { ...req.caller.requestContext, ...identityContext(identity), ...req.context },
    })
    return {
      decision: d.allowed ? 'allow' : d.reason === 'explicit-deny' ? 'deny' : 'implicit',
      detail: d.detail,
      policyType: d.policyType,
      sid: d.sid,
    }
  },
  validatePolicy(text: string): string | undefined {
    try {
      parsePolicyDocument(text, 'key')
      return undefined
    } catch (err) {
      if (err instanceof PolicyError) return err.message
      throw err
    }
  },
  isPrincipal(caller: KmsCaller, principal: string): boolean {
    const id = callerIdentity(caller)
    if (principal === id.arn || (id.roleArn !== undefined && principal === id.roleArn)) return true
    return (
      (id.kind === 'root' || id.kind === 'account-key') &&
      (principal === id.accountId || principal === `arn:aws:iam::${id.accountId}:root`)
    )
  },
}
