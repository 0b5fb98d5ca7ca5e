/**
 * @module The embedded KMS's exceptions with AWS's exact names and wording (docs/s3-sse-rules.md §6.1–§6.3).
 * Every one is a KmsError; server/kms/handler.ts picks the HTTP status from the name.
 */
import { KmsError, reasonOfException } from '../types.js'

/** An AWS KMS exception `name` with `message` (reason derived from the name). */
export function kmsFault(name: string, message = ''): KmsError {
  return new KmsError(reasonOfException(name, message), name, message)
}

export const invalidKeyId = (value: string): KmsError => kmsFault('NotFoundException', `Invalid keyId '${value}'`)
export const keyDoesNotExist = (arn: string): KmsError => kmsFault('NotFoundException', `Key '${arn}' does not exist`)
export const invalidArn = (region: string): KmsError => kmsFault('NotFoundException', `Invalid arn ${region}`)
export const aliasNotFound = (aliasArn: string): KmsError =>
  kmsFault('NotFoundException', `Alias ${aliasArn} is not found.`)
export const keyDisabled = (arn: string): KmsError => kmsFault('DisabledException', `${arn} is disabled.`)
export const keyPendingDeletion = (arn: string): KmsError =>
  kmsFault('KMSInvalidStateException', `${arn} is pending deletion.`)
export const keyNotPendingDeletion = (arn: string): KmsError =>
  kmsFault('KMSInvalidStateException', `${arn} is not pending deletion.`)
export const invalidCiphertext = (): KmsError => kmsFault('InvalidCiphertextException', '')
export const incorrectKey = (): KmsError =>
  kmsFault(
    'IncorrectKeyException',
    'The key ID in the request does not identify a CMK that can perform this operation.',
  )

/** §6.2: a key of, or an ARN naming, another account. */
export const accessDenied = (principalArn: string, operation: string, arn: string): KmsError =>
  kmsFault(
    'AccessDeniedException',
    `User: ${principalArn} is not authorized to perform: kms:${operation} on resource: ${arn} because no resource-based policy allows the kms:${operation} action`,
  )

/** A denial by the key's permission check, with AWS's detail and what decided it. */
export function deniedBy(
  principalArn: string,
  action: string,
  resource: string,
  detail: string,
  denial: { policyType?: string; sid?: string },
): KmsError {
  const err = kmsFault(
    'AccessDeniedException',
    `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource} ${detail}`,
  )
  err.denial = denial
  return err
}

/** AWS's standard validation wording for a missing required member (`keyId`, `plaintext`, …). */
export const nullMember = (member: string): KmsError =>
  kmsFault(
    'ValidationException',
    `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
  )

/** AWS's standard wording for a length or range constraint. `value` undefined: the value is not echoed (secrets). */
export function constraint(member: string, value: string | number | undefined, rule: string): KmsError {
  const v = value === undefined ? 'Value' : `Value '${value}'`
  return kmsFault(
    'ValidationException',
    `1 validation error detected: ${v} at '${member}' failed to satisfy constraint: Member must ${rule}`,
  )
}

export const validation = (message: string): KmsError => kmsFault('ValidationException', message)
export const unsupported = (value: string): KmsError =>
  kmsFault('UnsupportedOperationException', `${value} is not supported by this store`)
