/**
 * @module The audit log (docs/architecture.md#operating-it): one JSON line per key operation — seal, unseal, KMS calls,
 * root key rotate/rewrap/retire, failed unseals and policy denials. Events are copied field by
 * field from a fixed list, so nothing else a caller passes (a key, a header) can reach the log;
 * encryption contexts are reduced to their keys. Never key material, customer keys or their MD5.
 */
import { createWriteStream, type WriteStream } from 'node:fs'
import type { EncryptionRecord } from '../crypto/types.js'
import { CryptoError } from '../crypto/errors.js'

export type AuditAction =
  | 'seal'
  | 'unseal'
  | 'kms:GenerateDataKey'
  | 'kms:Decrypt'
  | 'kms:ReEncrypt'
  /** Other KMS API calls (Encrypt, CreateKey, RotateKeyOnDemand…). */
  | `kms:${string}`
  | 'rotate'
  | 'rewrap'
  | 'retire'
  | 'deny'
  /** A version, delete marker or upload a lifecycle rule removed (`reason`: what it did). */
  | 'lifecycle'

/** Who asked and in which request (an S3 request, or an admin command run by the operator). */
export interface AuditContext {
  requestId?: string
  principal?: { accessKeyId: string; accountId: string }
  /** S3 operation name (PutObject…) or admin command (keys rewrap…). */
  operation?: string
}

export interface AuditEvent extends AuditContext {
  action: AuditAction
  /** `ok`, or why it failed: wrong-key, tampered, denied, error… */
  outcome: string
  bucket?: string
  key?: string
  uploadId?: string
  /** The version removed or the delete marker made (lifecycle). */
  versionId?: string
  /** The lifecycle rule that acted. */
  ruleId?: string
  generation?: string
  mode?: string
  kmsKeyArn?: string
  rootKeyVersion?: number
  /** DSSE-KMS: the root layer as well as the KMS one. */
  dsse?: boolean
  bucketKey?: boolean
  /** Only the names of the encryption context pairs: values can be sensitive. */
  encryptionContext?: Record<string, string> | string[]
  /** rotate/rewrap/retire: the versions involved and counts. */
  fromVersion?: number
  toVersion?: number
  count?: number
  /** A short, non-secret reason (an error name or policy statement id). */
  reason?: string
  /** keys rewrap: what Object Lock held the version it re-sealed (legal-hold, GOVERNANCE, COMPLIANCE). */
  objectLock?: string
  /** Denials (`deny`): who, the IAM action and resource judged, and what decided: the policy type and statement Sid. */
  principalArn?: string
  iamAction?: string
  resource?: string
  policyType?: string
  sid?: string
}

export interface AuditLog {
  audit(event: AuditEvent): void
  close(): Promise<void>
}

const SCALARS = [
  'requestId',
  'operation',
  'action',
  'outcome',
  'bucket',
  'key',
  'uploadId',
  'versionId',
  'ruleId',
  'generation',
  'mode',
  'kmsKeyArn',
  'rootKeyVersion',
  'dsse',
  'bucketKey',
  'fromVersion',
  'toVersion',
  'count',
  'reason',
  'objectLock',
  'principalArn',
  'iamAction',
  'resource',
  'policyType',
  'sid',
] as const

/** The line written for `event`: whitelisted fields only, context values redacted. */
export function auditLine(event: AuditEvent, now = new Date()): string {
  const out: Record<string, unknown> = { time: now.toISOString() }
  for (const name of SCALARS) {
    const v = event[name]
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[name] = v
  }
  if (event.principal)
    out.principal = { accessKeyId: String(event.principal.accessKeyId), accountId: String(event.principal.accountId) }
  const ctx = event.encryptionContext
  if (ctx) out.encryptionContextKeys = (Array.isArray(ctx) ? ctx.map(String) : Object.keys(ctx)).sort()
  return JSON.stringify(out) + '\n'
}

/** A KMS authorization denial's deciding policy type and Sid (iam/engine.ts), for the failed call's audit line. */
export function denialFields(err: unknown): Pick<AuditEvent, 'policyType' | 'sid'> {
  const d = (err as { denial?: { policyType?: string; sid?: string } } | undefined)?.denial
  return d ? { policyType: d.policyType, sid: d.sid } : {}
}

/** A log that drops every event (the default: no `--audit-log`). */
export const NO_AUDIT: AuditLog = { audit() {}, close: async () => {} }

/**
 * Opens the audit log: `-` writes to stdout, a path appends to that file (created 0600),
 * undefined or '' turns it off. Writes are buffered by the stream; close() flushes.
 */
export function openAuditLog(dest: string | undefined): AuditLog {
  if (!dest) return NO_AUDIT
  if (dest === '-') return { audit: (e) => void process.stdout.write(auditLine(e)), close: async () => {} }
  const stream: WriteStream = createWriteStream(dest, { flags: 'a', mode: 0o600 })
  stream.on('error', (err) => process.stderr.write(`strongroom: audit log ${dest}: ${err.message}\n`))
  return {
    audit: (e) => void stream.write(auditLine(e)),
    close: () => new Promise<void>((resolve) => stream.end(() => resolve())),
  }
}

/** Where a record lives and how it is sealed, as audit fields (no secrets in a record, but only these go). */
export function recordFields(enc: EncryptionRecord, at: { bucket: string; key: string }): Partial<AuditEvent> {
  return {
    bucket: at.bucket,
    key: at.key,
    generation: enc.binding?.generation,
    mode: enc.kms?.dsse ? 'DSSE-KMS' : enc.mode,
    kmsKeyArn: enc.kms?.keyArn,
    rootKeyVersion: enc.rootKeyVersion,
    bucketKey: enc.kms?.bucketKeyEnabled,
    encryptionContext: enc.kms?.context,
  }
}

/** The outcome of a failed key operation: the CryptoError reason, else the error's name. */
export function failureOutcome(err: unknown): string {
  if (err instanceof CryptoError) return err.reason
  const denial = err as { denial?: unknown; exception?: string } | undefined
  if (denial?.denial && denial.exception) return denial.exception
  return (err as Error)?.name ?? 'error'
}
