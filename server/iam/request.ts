/**
 * @module What the policy engine needs of an authenticated request: the caller's identity and
 * the request-level global condition keys (aws:SourceIp, aws:SecureTransport, aws:CurrentTime,
 * aws:EpochTime), and the principal S3 hands the KMS when it calls it for the requester.
 */
import type { IncomingMessage } from 'node:http'
import type { AuthContext } from '../s3/auth/types.js'
import { defaultIdentity, identityContext, type IamIdentity } from './identity.js'

/** The identity an authenticated request acts as. */
export function identityOf(auth: Pick<AuthContext, 'identity' | 'accountId' | 'principalArn'>): IamIdentity {
  return auth.identity ?? defaultIdentity(auth.accountId, auth.principalArn)
}

function peerAddress(incoming: IncomingMessage): string | undefined {
  const a = incoming.socket?.remoteAddress
  return a?.startsWith('::ffff:') ? a.slice(7) : a
}

/**
 * Request-level global keys, lowercase. aws:SecureTransport is about the connection only: plain
 * HTTP from loopback is not secure here.
 */
export function requestGlobals(incoming: IncomingMessage, now = Date.now()): Record<string, string[]> {
  const ctx: Record<string, string[]> = {
    'aws:securetransport': [(incoming.socket as { encrypted?: boolean } | undefined)?.encrypted ? 'true' : 'false'],
    'aws:currenttime': [new Date(now).toISOString()],
    'aws:epochtime': [String(Math.floor(now / 1000))],
  }
  const ip = peerAddress(incoming)
  if (ip !== undefined) ctx['aws:sourceip'] = [ip]
  return ctx
}

/** Global keys of a request by `identity`: the request's and the principal's. */
export function globalContext(incoming: IncomingMessage, identity: IamIdentity | null): Record<string, string[]> {
  return identity ? { ...requestGlobals(incoming), ...identityContext(identity) } : requestGlobals(incoming)
}

/** The S3 principal of an authenticated request, as the KMS sees it when S3 calls it (kms:ViaService). */
export function s3Principal(auth: AuthContext, incoming: IncomingMessage, region: string) {
  const identity = identityOf(auth)
  return {
    accessKeyId: auth.accessKeyId,
    accountId: auth.accountId,
    principalArn: auth.principalArn,
    identity,
    viaService: `s3.${region}.amazonaws.com`,
    requestContext: globalContext(incoming, identity),
  }
}
