/**
 * @module The embedded KMS on the wire (docs/s3-sse-rules.md §6.1): `POST /` with `X-Amz-Target:
 * TrentService.<Op>` on the S3 listener. Reads a bounded JSON body, verifies SigV4 for service
 * `kms` (5-minute skew), runs the operation, answers `application/x-amz-json-1.1` with
 * `x-amzn-RequestId`; errors as `{"__type","message"}`.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { callKmsOperation } from '../../kms/embedded/api.js'
import { KmsError } from '../../kms/types.js'
import type { Config } from '../config.js'
import type { Logger } from '../log.js'
import { authenticateKms, kmsAuthFault } from '../s3/auth/kms.js'
import { S3Error } from '../s3/errors.js'
import { headerMap } from '../s3/handler.js'
import { parseTarget } from '../s3/route.js'
import { denialFields, type AuditLog } from '../audit.js'
import type { KmsServices } from './setup.js'
import { globalContext, identityOf } from '../iam/request.js'
import { sessionsOf } from '../iam/sessions.js'

export interface KmsHandlerDeps {
  config: Pick<Config, 'region' | 'credentials'>
  log: Logger
  kms?: KmsServices
  audit?: AuditLog
}

/** KMS API operations that use or change key material: each goes to the audit log. */
const AUDITED = new Set([
  'Encrypt',
  'Decrypt',
  'ReEncrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'CreateKey',
  'RotateKeyOnDemand',
  'ScheduleKeyDeletion',
  'DisableKey',
  'EnableKey',
  'PutKeyPolicy',
  'CreateGrant',
  'RetireGrant',
  'RevokeGrant',
])

/** One audit line for a KMS API call: key ids and context names only (never plaintext, blobs or context values). */
function auditKms(
  deps: KmsHandlerDeps,
  requestId: string,
  operation: string,
  input: unknown,
  output: unknown,
  outcome: string,
  principal?: { accessKeyId: string; accountId: string },
  err?: unknown,
): void {
  const denial = denialFields(err)
  // Every authorization denial is logged, with the policy type and Sid that decided it.
  if (!deps.audit || (!AUDITED.has(operation) && denial.policyType === undefined)) return
  const i = (input ?? {}) as {
    KeyId?: unknown
    DestinationKeyId?: unknown
    EncryptionContext?: unknown
    DestinationEncryptionContext?: unknown
  }
  const keyId = (output as { KeyId?: unknown } | undefined)?.KeyId ?? i.DestinationKeyId ?? i.KeyId
  const ctx = i.DestinationEncryptionContext ?? i.EncryptionContext
  deps.audit.audit({
    requestId,
    operation,
    action: `kms:${operation}`,
    outcome,
    principal,
    kmsKeyArn: typeof keyId === 'string' ? keyId : undefined,
    encryptionContext: ctx && typeof ctx === 'object' ? Object.keys(ctx) : undefined,
    ...denial,
  })
}

/** Largest request body read; KMS requests are small (a 4 KiB plaintext is ~5.5 KiB of JSON). */
export const MAX_KMS_BODY = 1024 * 1024
/** JSON services allow five minutes of clock skew, not S3's fifteen (docs/s3-sse-rules.md §6.1). */
const KMS_SKEW_SECONDS = 300
const TARGET_PREFIX = 'TrentService.'
const CONTENT_TYPE = 'application/x-amz-json-1.1'

/** A KMS request: POST with `X-Amz-Target: TrentService.*` (routed before S3, ADDR-04). */
export function isKmsRequest(incoming: IncomingMessage): boolean {
  const target = incoming.headers['x-amz-target']
  return incoming.method === 'POST' && typeof target === 'string' && target.startsWith(TARGET_PREFIX)
}

/** HTTP status of a KMS exception: 400 except the server-side faults (docs/s3-sse-rules.md §6.1). */
export function statusOf(exception: string): number {
  if (exception === 'KMSInternalException' || exception === 'KeyUnavailableException') return 500
  if (exception === 'DependencyTimeoutException') return 503
  return 400
}

class Fault {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly message?: string,
    readonly closeConnection = false,
  ) {}
}

/** Reads the body; a Fault when it is larger than MAX_KMS_BODY (declared or actual). */
async function readBody(incoming: IncomingMessage): Promise<Buffer> {
  const tooLarge = () =>
    new Fault(400, 'SerializationException', `The request body is larger than ${MAX_KMS_BODY} bytes`, true)
  const declared = Number(incoming.headers['content-length'] ?? 0)
  if (declared > MAX_KMS_BODY) throw tooLarge()
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_KMS_BODY) throw tooLarge()
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

function write(res: ServerResponse, requestId: string, status: number, body: unknown, closeConnection = false): void {
  const text = Buffer.from(JSON.stringify(body), 'utf8')
  const headers: Record<string, string> = {
    'Content-Type': CONTENT_TYPE,
    'x-amzn-RequestId': requestId,
    'Content-Length': String(text.length),
  }
  if (closeConnection) headers.Connection = 'close'
  res.writeHead(status, headers)
  res.end(text)
}

/**
 * `{"__type","message"}`; no message member when the exception has none (InvalidCiphertextException,
 * UnknownOperationException).
 */
function errorBody(type: string, message: string | undefined): Record<string, string> {
  return message ? { __type: type, message } : { __type: type }
}

/** Answers one KMS request. Never throws: every failure becomes a KMS JSON error. */
export async function handleKms(deps: KmsHandlerDeps, incoming: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = randomUUID()
  const target = String(incoming.headers['x-amz-target'] ?? '')
  const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : ''
  try {
    const body = await readBody(incoming)
    const headers = headerMap(incoming)
    let auth
    try {
      const { path, query } = parseTarget(incoming.url ?? '/')
      const lookup = (akid: string) => deps.config.credentials.find((c) => c.accessKeyId === akid)
      auth = authenticateKms(
        { method: incoming.method ?? 'POST', path, query, headers, now: new Date() },
        { lookup, sessions: sessionsOf(deps.config), region: deps.config.region, maxSkewSeconds: KMS_SKEW_SECONDS },
        body,
      )
    } catch (err) {
      if (!(err instanceof S3Error)) throw err
      const f = kmsAuthFault(err, KMS_SKEW_SECONDS / 60)
      throw new Fault(f.status, f.type, f.message)
    }
    if (!auth) {
      const f = kmsAuthFault(null)
      throw new Fault(f.status, f.type, f.message)
    }
    const service = deps.kms?.service
    if (!service)
      throw new Fault(400, 'UnsupportedOperationException', 'The embedded KMS is off: this store uses an external KMS')
    let input: unknown = {}
    if (body.length > 0) {
      try {
        input = JSON.parse(body.toString('utf8'))
      } catch {
        throw new Fault(400, 'SerializationException', 'The request body is not valid JSON')
      }
    }
    const identity = identityOf(auth)
    const caller = {
      accountId: auth.accountId,
      principalArn: auth.principalArn,
      identity,
      requestContext: globalContext(incoming, identity),
    }
    // Keys per account: the caller's own KMS, for a blob the KMS of its key's account, for a key
    // ARN that of the ARN's account (whose key policy then decides).
    const { CiphertextBlob: blob, KeyId: keyId } = (input ?? {}) as { CiphertextBlob?: unknown; KeyId?: unknown }
    const kms = deps.kms?.accounts
      ? deps.kms.accounts.forCall(
          caller,
          typeof blob === 'string' ? Buffer.from(blob, 'base64') : undefined,
          typeof keyId === 'string' ? keyId : undefined,
        )
      : service
    const output = await callKmsOperation(kms, operation, input, caller).catch((err: unknown) => {
      auditKms(deps, requestId, operation, input, undefined, (err as KmsError).exception ?? 'error', auth, err)
      throw err
    })
    auditKms(deps, requestId, operation, input, output, 'ok', auth)
    write(res, requestId, 200, output)
    deps.log.debug('kms request', { requestId, op: operation, status: 200 })
  } catch (err) {
    let fault: Fault
    if (err instanceof Fault) fault = err
    else if (err instanceof KmsError && err.exception)
      fault = new Fault(statusOf(err.exception), err.exception, err.kmsMessage)
    else fault = new Fault(500, 'KMSInternalException', 'An internal error occurred.')
    // KmsError and Fault messages carry no key material or plaintext, so the error may be logged.
    if (fault.status >= 500) deps.log.error('kms request failed', { requestId, op: operation, type: fault.type, err })
    else deps.log.debug('kms request refused', { requestId, op: operation, type: fault.type })
    if (res.headersSent) {
      res.destroy()
      return
    }
    write(res, requestId, fault.status, errorBody(fault.type, fault.message), fault.closeConnection)
    if (fault.closeConnection) res.once('finish', () => incoming.destroy())
  }
}
