/** @module Test support: assertions on S3 error answers, from the SDK (exceptions) or raw HTTP (XML bodies). */
import { expect } from 'vitest'
import { errorOf, type RawResponse } from './raw-s3.js'

export interface ExpectedError {
  status: number
  code: string
  /** Asserted byte-exact when given ([D]/[O] rows of docs/s3-sse-rules.md). */
  message?: string
  /** Error-specific XML elements (BucketName, Key, ArgumentName, …), compared as strings. */
  fields?: Record<string, string | number>
}

/** An SDK exception as the store sent it: status, Code, Message, and the extra elements. */
export interface SdkError {
  name: string
  message: string
  Code?: string
  $metadata: { httpStatusCode?: number; requestId?: string }
  [field: string]: unknown
}

/** Awaits a rejected SDK call and asserts the error's status, code, message and elements. */
export async function expectSdkError(p: Promise<unknown>, want: ExpectedError): Promise<SdkError> {
  let err: SdkError | undefined
  try {
    await p
  } catch (e) {
    err = e as SdkError
  }
  if (!err) throw new Error(`expected ${want.status} ${want.code}, but the call succeeded`)
  expect({ status: err.$metadata?.httpStatusCode, code: err.Code ?? err.name }).toEqual({
    status: want.status,
    code: want.code,
  })
  if (want.message !== undefined) expect(err.message).toBe(want.message)
  for (const [k, v] of Object.entries(want.fields ?? {})) expect(String(err[k]), `element ${k}`).toBe(String(v))
  return err
}

/** Awaits a rejected SDK HEAD call: status only, no body (docs/s3-sse-rules.md §1.3, ERR-02). */
export async function expectSdkHeadError(p: Promise<unknown>, status: number): Promise<void> {
  let err: SdkError | undefined
  try {
    await p
  } catch (e) {
    err = e as SdkError
  }
  if (!err) throw new Error(`expected ${status}, but the call succeeded`)
  expect(err.$metadata?.httpStatusCode).toBe(status)
  expect(err.Code).toBeUndefined() // nothing parsed: there was no body
}

/**
 * Asserts a raw error answer (docs/s3-sse-rules.md §1.3, ERR-01): status, `Content-Type: application/xml`,
 * `<Error>` with Code, Message, the given elements, RequestId = `x-amz-request-id` and
 * HostId = `x-amz-id-2`. Returns the parsed `<Error>` children.
 */
export function expectRawError(res: RawResponse, want: ExpectedError): Record<string, string> {
  const e = errorOf(res)
  expect({ status: res.status, code: e.Code }).toEqual({ status: want.status, code: want.code })
  expect(res.headers['content-type']).toBe('application/xml')
  if (want.message !== undefined) expect(e.Message).toBe(want.message)
  else expect(typeof e.Message).toBe('string')
  for (const [k, v] of Object.entries(want.fields ?? {})) expect(String(e[k]), `element ${k}`).toBe(String(v))
  expect(e.RequestId).toBe(res.headers['x-amz-request-id'])
  expect(e.HostId).toBe(res.headers['x-amz-id-2'])
  return e
}
