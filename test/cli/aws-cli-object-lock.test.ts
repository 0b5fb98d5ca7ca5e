import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { awsCliEnv, runTool, type ToolFailure } from '../support/aws-cli.js'
import { startTestServer, type TestServer } from '../support/server.js'

describe('aws CLI v1 and boto3: Object Lock', () => {
  let server: TestServer
  let work: string
  let env: NodeJS.ProcessEnv

  const run = (tool: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    runTool(tool, args, { env: { ...env, ...extraEnv }, cwd: work })
  const s3api = async (...args: string[]): Promise<Record<string, any>> => {
    const out = (await run('aws', ['s3api', ...args, '--output', 'json'])).stdout.trim()
    return out === '' ? {} : JSON.parse(out)
  }

  beforeAll(async () => {
    server = await startTestServer()
    work = await mkdtemp(path.join(tmpdir(), 'strongroom-cli-lock-'))
    env = awsCliEnv(server.endpoint)
  })
  afterAll(async () => {
    await server?.close()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('the user story: a lock bucket with COMPLIANCE default retention refuses delete-object of the version', async () => {
    await s3api('create-bucket', '--bucket', 'vault', '--object-lock-enabled-for-bucket')
    expect(await s3api('get-bucket-versioning', '--bucket', 'vault')).toEqual({ Status: 'Enabled' })
    await s3api(
      'put-object-lock-configuration',
      '--bucket',
      'vault',
      '--object-lock-configuration',
      '{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"COMPLIANCE","Days":1}}}',
    )
    expect(await s3api('get-object-lock-configuration', '--bucket', 'vault')).toEqual({
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } },
      },
    })
    await writeFile(path.join(work, 'k.txt'), 'kept for a day')
    const put = await s3api('put-object', '--bucket', 'vault', '--key', 'k', '--body', 'k.txt')
    const head = await s3api('head-object', '--bucket', 'vault', '--key', 'k')
    expect(head.ObjectLockMode).toBe('COMPLIANCE')
    expect(Date.parse(head.ObjectLockRetainUntilDate)).toBeGreaterThan(Date.now())
    const refused = await run('aws', [
      's3api',
      'delete-object',
      '--bucket',
      'vault',
      '--key',
      'k',
      '--version-id',
      put.VersionId,
    ]).catch((e: ToolFailure) => e)
    expect(refused).toBeInstanceOf(Error)
    expect((refused as ToolFailure).stderr).toMatch(/AccessDenied/)
    // The version is still there; a plain delete only hides it behind a marker.
    expect(
      (await s3api('head-object', '--bucket', 'vault', '--key', 'k', '--version-id', put.VersionId)).VersionId,
    ).toBe(put.VersionId)
    expect(await s3api('delete-object', '--bucket', 'vault', '--key', 'k')).toMatchObject({ DeleteMarker: true })
    const refusedSuspend = await run('aws', [
      's3api',
      'put-bucket-versioning',
      '--bucket',
      'vault',
      '--versioning-configuration',
      'Status=Suspended',
    ]).catch((e: ToolFailure) => e)
    expect((refusedSuspend as ToolFailure).stderr).toMatch(/InvalidBucketState/)
  })

  it('aws s3api: legal hold on and off, then the version can go', async () => {
    await s3api('create-bucket', '--bucket', 'holds', '--object-lock-enabled-for-bucket')
    await writeFile(path.join(work, 'h.txt'), 'on hold')
    const put = await s3api(
      'put-object',
      '--bucket',
      'holds',
      '--key',
      'h',
      '--body',
      'h.txt',
      '--object-lock-legal-hold-status',
      'ON',
    )
    expect(
      await s3api('get-object-legal-hold', '--bucket', 'holds', '--key', 'h', '--version-id', put.VersionId),
    ).toEqual({ LegalHold: { Status: 'ON' } })
    const refused = await run('aws', [
      's3api',
      'delete-object',
      '--bucket',
      'holds',
      '--key',
      'h',
      '--version-id',
      put.VersionId,
      '--bypass-governance-retention',
    ]).catch((e: ToolFailure) => e)
    expect((refused as ToolFailure).stderr).toMatch(/AccessDenied/)
    await s3api(
      'put-object-legal-hold',
      '--bucket',
      'holds',
      '--key',
      'h',
      '--version-id',
      put.VersionId,
      '--legal-hold',
      'Status=OFF',
    )
    await s3api('delete-object', '--bucket', 'holds', '--key', 'h', '--version-id', put.VersionId)
  })

  it('boto3: put_object_retention (GOVERNANCE, shortened only with the bypass) and get_object_legal_hold', async () => {
    const script = `
import os, sys, datetime
try:
    import boto3
except ImportError:
    sys.stderr.write("MISSING-BOTO3\\n"); sys.exit(3)
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
s3.create_bucket(Bucket="boto-lock", ObjectLockEnabledForBucket=True)
vid = s3.put_object(Bucket="boto-lock", Key="doc", Body=b"governed")["VersionId"]
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
s3.put_object_retention(Bucket="boto-lock", Key="doc", VersionId=vid, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": now + datetime.timedelta(days=3)})
r = s3.get_object_retention(Bucket="boto-lock", Key="doc", VersionId=vid)["Retention"]
print("retention", r["Mode"], r["RetainUntilDate"] == now + datetime.timedelta(days=3))
try:
    s3.put_object_retention(Bucket="boto-lock", Key="doc", VersionId=vid, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": now + datetime.timedelta(days=1)})
    print("shortened-without-bypass")
except s3.exceptions.ClientError as e:
    print("refused", e.response["Error"]["Code"])
s3.put_object_retention(Bucket="boto-lock", Key="doc", VersionId=vid, BypassGovernanceRetention=True, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": now + datetime.timedelta(days=1)})
s3.put_object_legal_hold(Bucket="boto-lock", Key="doc", VersionId=vid, LegalHold={"Status": "ON"})
print("hold", s3.get_object_legal_hold(Bucket="boto-lock", Key="doc", VersionId=vid)["LegalHold"]["Status"])
h = s3.head_object(Bucket="boto-lock", Key="doc", VersionId=vid)
print("head", h["ObjectLockMode"], h["ObjectLockLegalHoldStatus"])
try:
    s3.delete_object(Bucket="boto-lock", Key="doc", VersionId=vid, BypassGovernanceRetention=True)
    print("deleted-while-held")
except s3.exceptions.ClientError as e:
    print("refused", e.response["Error"]["Code"])
s3.put_object_legal_hold(Bucket="boto-lock", Key="doc", VersionId=vid, LegalHold={"Status": "OFF"})
s3.delete_object(Bucket="boto-lock", Key="doc", VersionId=vid, BypassGovernanceRetention=True)
print("gone", "Versions" not in s3.list_object_versions(Bucket="boto-lock"))
`
    const { stdout } = await run('python3', ['-c', script], { ENDPOINT: server.endpoint })
    expect(stdout.trim().split('\n')).toEqual([
      'retention GOVERNANCE True',
      'refused AccessDenied',
      'hold ON',
      'head GOVERNANCE ON',
      'refused AccessDenied',
      'gone True',
    ])
  })
})
