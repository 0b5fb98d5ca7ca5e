/**
 * @module Test support for IAM/STS: a credentials file with an account of users and roles, and a
 * signed STS query-protocol call (GetCallerIdentity, GetSessionToken, AssumeRole) returning the
 * parsed XML.
 */
import { request } from 'undici'
import { signRequest, type AwsCredentials } from '../../lib/sigv4.js'
import { parseXml } from './raw-s3.js'
import { TEST_REGION } from './server.js'

export const ACCT_A = '111122223333'
export const ACCT_B = '444455556666'
export const roleArn = (name: string, acct = ACCT_A) => `arn:aws:iam::${acct}:role/${name}`
export const userArn = (name: string, acct = ACCT_A) => `arn:aws:iam::${acct}:user/${name}`

export const allow = (Action: string | string[], Resource: string | string[] = '*', extra: object = {}) => ({
  Effect: 'Allow',
  Action,
  Resource,
  ...extra,
})
export const doc = (...Statement: object[]) => ({ Version: '2012-10-17', Statement })
export const trust = (...principals: string[]) =>
  doc({ Effect: 'Allow', Principal: { AWS: principals }, Action: 'sts:AssumeRole' })

export interface StsAnswer {
  status: number
  body: Record<string, any>
}

/** One signed STS call (form-encoded POST, SigV4 service `sts`). */
export async function stsCall(
  endpoint: string,
  creds: AwsCredentials,
  params: Record<string, string>,
  now = new Date(),
): Promise<StsAnswer> {
  const body = new URLSearchParams({ Version: '2011-06-15', ...params }).toString()
  const url = new URL('/', endpoint)
  const headers = signRequest({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
    region: TEST_REGION,
    service: 'sts',
    credentials: creds,
    now,
  })
  const res = await request(url, { method: 'POST', headers, body })
  return { status: res.statusCode, body: parseXml(await res.body.text()) }
}

/** Temporary credentials of an AssumeRole answer. */
export function credsOf(answer: StsAnswer, action = 'AssumeRole'): Required<AwsCredentials> & { expiration: string } {
  const c = answer.body[`${action}Response`][`${action}Result`].Credentials
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  }
}
