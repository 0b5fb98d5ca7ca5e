/**
 * @module STS on the S3 listener, AWS query protocol: form-encoded `Action=…&Version=2011-06-15`
 * POSTs signed with SigV4 for service `sts`, XML answers in the 2011-06-15 namespace, errors as
 * `ErrorResponse`. Every request is authenticated (session tokens included); the operations are
 * in operations.ts.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AuditLog } from '../audit.js'
import type { Config } from '../config.js'
import { globalContext, identityOf } from '../iam/request.js'
import { SessionLimitError, sessionsOf } from '../iam/sessions.js'
import type { Logger } from '../log.js'
import { sha256Hex } from '../../lib/sigv4.js'
import { verifyHeaderAuth } from '../s3/auth/sigv4.js'
import { S3Error } from '../s3/errors.js'
import { headerMap } from '../s3/handler.js'
import { parseTarget } from '../s3/route.js'
import type { AccessDecision } from '../iam/engine.js'
import {
  assumeRole,
  getCallerIdentity,
  getSessionToken,
  StsError,
  type IssuedCredentials,
  type StsCall,
} from './operations.js'

export interface StsHandlerDeps {
  config: Pick<Config, 'region' | 'credentials' | 'iamRoles'>
  log: Logger
  audit?: AuditLog
}

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/'
const VERSION = '2011-06-15'
const MAX_BODY = 64 * 1024
/** Query services allow five minutes of clock skew. */
const SKEW_SECONDS = 300

function credentialScopeService(incoming: IncomingMessage): string | undefined {
  const auth = incoming.headers.authorization
  const cred =
    typeof auth === 'string'
      ? /Credential=([^,\s]+)/.exec(auth)?.[1]
      : /[?&]X-Amz-Credential=([^&]+)/.exec(incoming.url ?? '')?.[1]
  return cred === undefined ? undefined : decodeURIComponent(cred).split('/')[3]
}

/**
 * An STS request: signed for service `sts`, or an unsigned form POST to `/` (S3 has no
 * form-encoded POST on the service root; its browser uploads are multipart and name a bucket).
 */
export function isStsRequest(incoming: IncomingMessage): boolean {
  const service = credentialScopeService(incoming)
  if (service !== undefined) return service === 'sts'
  const type = String(incoming.headers['content-type'] ?? '')
  return (
    incoming.method === 'POST' && (incoming.url ?? '') === '/' && type.startsWith('application/x-www-form-urlencoded')
  )
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const el = (name: string, inner: string) => `<${name}>${inner}</${name}>`

function write(res: ServerResponse, status: number, xml: string, requestId: string): void {
  const body = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`, 'utf8')
  res.writeHead(status, {
    'Content-Type': 'text/xml',
    'Content-Length': String(body.length),
    'x-amzn-RequestId': requestId,
  })
  res.end(body)
}

function errorXml(e: StsError, requestId: string): string {
  return `<ErrorResponse xmlns="${NS}">${el('Error', el('Type', e.status >= 500 ? 'Receiver' : 'Sender') + el('Code', e.code) + el('Message', esc(e.message)))}${el('RequestId', requestId)}</ErrorResponse>`
}

function resultXml(action: string, inner: string, requestId: string): string {
  return `<${action}Response xmlns="${NS}">${el(`${action}Result`, inner)}${el('ResponseMetadata', el('RequestId', requestId))}</${action}Response>`
}

function credentialsXml(out: IssuedCredentials): string {
  const c = out.credentials
  let xml = el(
    'Credentials',
    el('AccessKeyId', c.accessKeyId) +
      el('SecretAccessKey', esc(c.secretAccessKey)) +
      el('SessionToken', esc(c.sessionToken)) +
      el('Expiration', new Date(c.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z')),
  )
  if (out.assumedRole)
    xml += el(
      'AssumedRoleUser',
      el('AssumedRoleId', esc(out.assumedRole.assumedRoleId)) + el('Arn', esc(out.assumedRole.arn)),
    )
  if (out.packedPolicySize !== undefined) xml += el('PackedPolicySize', String(out.packedPolicySize))
  return xml
}

/** Authentication faults in STS's words. */
function authFault(err: S3Error): StsError {
  switch (err.code) {
    case 'InvalidAccessKeyId':
    case 'InvalidToken':
      return new StsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.')
    case 'ExpiredToken':
      return new StsError(400, 'ExpiredToken', 'The security token included in the request is expired')
    case 'SignatureDoesNotMatch':
      return new StsError(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      )
    case 'RequestTimeTooSkewed':
      return new StsError(
        400,
        'SignatureDoesNotMatch',
        'Signature expired: the request time is outside the allowed clock skew of 5 minutes.',
      )
    default:
      return new StsError(400, 'IncompleteSignature', err.message)
  }
}

async function readBody(incoming: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY)
      throw new StsError(400, 'ValidationError', `The request body is larger than ${MAX_BODY} bytes.`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/** Answers one STS request. Never throws: every failure becomes an STS ErrorResponse. */
export async function handleSts(deps: StsHandlerDeps, incoming: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = randomUUID()
  let action = ''
  try {
    const body = await readBody(incoming)
    const { path, query } = parseTarget(incoming.url ?? '/')
    const params = new URLSearchParams(query)
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v)
    action = params.get('Action') ?? ''
    const headers = headerMap(incoming)
    if (headers.authorization === undefined)
      throw new StsError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token')
    let auth
    try {
      const lookup = (akid: string) => deps.config.credentials.find((c) => c.accessKeyId === akid)
      auth = verifyHeaderAuth(
        { method: incoming.method ?? 'POST', path, query, headers, now: new Date() },
        {
          lookup,
          sessions: sessionsOf(deps.config),
          region: deps.config.region,
          maxSkewSeconds: SKEW_SECONDS,
          service: 'sts',
        },
        sha256Hex(body),
      )
    } catch (err) {
      if (err instanceof S3Error) throw authFault(err)
      throw err
    }
    const version = params.get('Version')
    if (version !== null && version !== VERSION)
      throw new StsError(400, 'InvalidAction', `Could not find operation ${action} for version ${version}`)
    const identity = identityOf(auth)
    const call: StsCall = {
      identity,
      viaSession: auth.sessionToken === true,
      params,
      context: globalContext(incoming, identity),
      roles: deps.config.iamRoles ?? [],
      sessions: sessionsOf(deps.config),
      now: Date.now(),
    }
    let inner: string
    switch (action) {
      case 'GetCallerIdentity': {
        const r = getCallerIdentity(call)
        inner = el('Arn', esc(r.Arn)) + el('UserId', esc(r.UserId)) + el('Account', r.Account)
        break
      }
      case 'GetSessionToken':
        inner = credentialsXml(getSessionToken(call))
        break
      case 'AssumeRole':
        inner = credentialsXml(assumeRole(call))
        break
      default:
        throw new StsError(400, 'InvalidAction', `Could not find operation ${action} for version ${version ?? VERSION}`)
    }
    write(res, 200, resultXml(action, inner, requestId), requestId)
    deps.log.debug('sts request', { requestId, op: action, status: 200 })
  } catch (err) {
    let e: StsError
    if (err instanceof StsError) e = err
    else if (err instanceof SessionLimitError)
      e = new StsError(503, 'ServiceUnavailable', 'Too many sessions are open; try again later.')
    else {
      deps.log.error('sts request failed', { requestId, op: action, err })
      e = new StsError(500, 'InternalFailure', 'An internal error occurred.')
    }
    const decision = (err as { decision?: AccessDecision }).decision
    if (decision) {
      deps.audit?.audit({
        requestId,
        operation: action,
        action: 'deny',
        outcome: decision.reason,
        iamAction: 'sts:AssumeRole',
        policyType: decision.policyType,
        sid: decision.sid,
      })
    }
    if (res.headersSent) {
      res.destroy()
      return
    }
    write(res, e.status, errorXml(e, requestId), requestId)
  }
}
