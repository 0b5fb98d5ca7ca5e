import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from '../support/raw-s3.js'
import { awsCliEnv, runTool, type ToolFailure } from '../support/aws-cli.js'
import { startTestServer, type TestServer } from '../support/server.js'

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers'

describe('aws CLI v1 and boto3: ownership controls, public access block, object ACLs', () => {
  let server: TestServer
  let work: string
  let env: NodeJS.ProcessEnv

  const run = (tool: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    runTool(tool, args, { env: { ...env, ...extraEnv }, cwd: work })
  const s3api = async (...args: string[]): Promise<Record<string, any>> => {
    const out = (await run('aws', ['s3api', ...args, '--output', 'json'])).stdout.trim()
    return out === '' ? {} : JSON.parse(out)
  }
  const s3apiFails = async (...args: string[]): Promise<string> => {
    try {
      await run('aws', ['s3api', ...args])
    } catch (e) {
      const err = e as ToolFailure
      if (typeof err.code !== 'number') throw err
      return `${err.stderr ?? ''}${err.stdout ?? ''}`
    }
    throw new Error(`aws s3api ${args.join(' ')} succeeded, expected a failure`)
  }

  beforeAll(async () => {
    server = await startTestServer()
    work = await mkdtemp(path.join(tmpdir(), 'strongroom-cli-acl-'))
    env = awsCliEnv(server.endpoint)
  })
  afterAll(async () => {
    await server?.close()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('aws s3api: a new bucket is BucketOwnerEnforced and refuses --acl public-read; public access block round-trips', async () => {
    await s3api('create-bucket', '--bucket', 'cli-acl')
    expect(await s3api('get-bucket-ownership-controls', '--bucket', 'cli-acl')).toEqual({
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    })
    await writeFile(path.join(work, 'f.txt'), 'file body')
    expect(
      await s3apiFails('put-object', '--bucket', 'cli-acl', '--key', 'f', '--body', 'f.txt', '--acl', 'public-read'),
    ).toContain('AccessControlListNotSupported')
    expect(await s3api('get-public-access-block', '--bucket', 'cli-acl')).toEqual({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      },
    })
    await s3api(
      'put-public-access-block',
      '--bucket',
      'cli-acl',
      '--public-access-block-configuration',
      'BlockPublicAcls=true,IgnorePublicAcls=false,BlockPublicPolicy=false,RestrictPublicBuckets=false',
    )
    expect(await s3api('get-public-access-block', '--bucket', 'cli-acl')).toEqual({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        IgnorePublicAcls: false,
        BlockPublicPolicy: false,
        RestrictPublicBuckets: false,
      },
    })
    await s3api('delete-public-access-block', '--bucket', 'cli-acl')
    expect(await s3apiFails('get-public-access-block', '--bucket', 'cli-acl')).toContain(
      'NoSuchPublicAccessBlockConfiguration',
    )
  })

  it('aws s3api: put-object-acl and get-object-acl on an ObjectWriter bucket', async () => {
    await s3api('create-bucket', '--bucket', 'cli-acl-ow', '--object-ownership', 'ObjectWriter')
    await s3api('delete-public-access-block', '--bucket', 'cli-acl-ow')
    await writeFile(path.join(work, 'g.txt'), 'shared body')
    await s3api('put-object', '--bucket', 'cli-acl-ow', '--key', 'g', '--body', 'g.txt')
    expect((await send(server.port, { method: 'GET', path: '/cli-acl-ow/g' })).status).toBe(403)
    await s3api('put-object-acl', '--bucket', 'cli-acl-ow', '--key', 'g', '--acl', 'public-read')
    const acl = await s3api('get-object-acl', '--bucket', 'cli-acl-ow', '--key', 'g')
    expect(acl.Grants).toContainEqual({ Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' })
    const anon = await send(server.port, { method: 'GET', path: '/cli-acl-ow/g' })
    expect([anon.status, anon.text]).toEqual([200, 'shared body'])
  })

  it('boto3: put_bucket_ownership_controls and put_object_acl, then an unsigned read', async () => {
    const script = `
import os, sys, urllib.request, urllib.error
try:
    import boto3
except ImportError:
    sys.stderr.write("MISSING-BOTO3\\n"); sys.exit(3)
ep = os.environ["ENDPOINT"]
s3 = boto3.client("s3", endpoint_url=ep, region_name="us-east-1",
                  aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
s3.create_bucket(Bucket="py-acl")
s3.delete_public_access_block(Bucket="py-acl")
try:
    s3.put_object(Bucket="py-acl", Key="k", Body=b"py bytes", ACL="public-read")
except s3.exceptions.ClientError as e:
    print("enforced", e.response["Error"]["Code"])
s3.put_bucket_ownership_controls(Bucket="py-acl", OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
print("ownership", s3.get_bucket_ownership_controls(Bucket="py-acl")["OwnershipControls"]["Rules"][0]["ObjectOwnership"])
s3.put_object(Bucket="py-acl", Key="k", Body=b"py bytes")
def anon():
    try:
        with urllib.request.urlopen(ep + "/py-acl/k") as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
print("before", anon())
s3.put_object_acl(Bucket="py-acl", Key="k", ACL="public-read")
print("after", anon())
grants = s3.get_object_acl(Bucket="py-acl", Key="k")["Grants"]
print("grants", sorted(g["Permission"] + ":" + g["Grantee"]["Type"] for g in grants))
`
    let out: string
    try {
      out = (await run('python3', ['-c', script], { ENDPOINT: server.endpoint })).stdout
    } catch (e) {
      if (String((e as ToolFailure).stderr ?? '').includes('MISSING-BOTO3'))
        throw new Error('required module boto3 is missing (pip install boto3). These tests never skip.')
      throw e
    }
    expect(out.trim().split('\n')).toEqual([
      'enforced AccessControlListNotSupported',
      'ownership BucketOwnerPreferred',
      'before 403',
      'after 200',
      "grants ['FULL_CONTROL:CanonicalUser', 'READ:Group']",
    ])
  })
})
