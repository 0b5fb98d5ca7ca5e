import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../support/server.js'
import { awsCliEnv, runTool, type ToolFailure } from '../support/aws-cli.js'

describe('aws CLI v1 and boto3: versioning', () => {
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
    work = await mkdtemp(path.join(tmpdir(), 'strongroom-cli-versions-'))
    env = awsCliEnv(server.endpoint)
  })
  afterAll(async () => {
    await server?.close()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('aws s3api: versioning on, two versions, get by id, delete marker and back', async () => {
    await s3api('create-bucket', '--bucket', 'cli-ver')
    await s3api('put-bucket-versioning', '--bucket', 'cli-ver', '--versioning-configuration', 'Status=Enabled')
    expect(await s3api('get-bucket-versioning', '--bucket', 'cli-ver')).toEqual({ Status: 'Enabled' })
    await writeFile(path.join(work, 'a.txt'), 'first version')
    await writeFile(path.join(work, 'b.txt'), 'second version')
    await run('aws', ['s3', 'cp', 'a.txt', 's3://cli-ver/doc'])
    await run('aws', ['s3', 'cp', 'b.txt', 's3://cli-ver/doc'])
    const list = await s3api('list-object-versions', '--bucket', 'cli-ver')
    expect(list.Versions.map((v: any) => [v.Key, v.IsLatest, v.Size])).toEqual([
      ['doc', true, 14],
      ['doc', false, 13],
    ])
    const first = list.Versions[1].VersionId as string
    const got = await s3api('get-object', '--bucket', 'cli-ver', '--key', 'doc', '--version-id', first, 'out.txt')
    expect(got.VersionId).toBe(first)
    expect(await readFile(path.join(work, 'out.txt'), 'utf8')).toBe('first version')
    await run('aws', ['s3', 'rm', 's3://cli-ver/doc'])
    const withMarker = await s3api('list-object-versions', '--bucket', 'cli-ver')
    expect(withMarker.DeleteMarkers).toHaveLength(1)
    const markerId = withMarker.DeleteMarkers[0].VersionId as string
    const missing = await run('aws', ['s3api', 'head-object', '--bucket', 'cli-ver', '--key', 'doc']).catch(
      (e: ToolFailure) => e,
    )
    expect((missing as ToolFailure).stderr).toMatch(/404/)
    const undo = await s3api('delete-object', '--bucket', 'cli-ver', '--key', 'doc', '--version-id', markerId)
    expect(undo).toMatchObject({ DeleteMarker: true, VersionId: markerId })
    await s3api('get-object', '--bucket', 'cli-ver', '--key', 'doc', 'back.txt')
    expect(await readFile(path.join(work, 'back.txt'), 'utf8')).toBe('second version')
    // The CLI's own paginator follows NextKeyMarker / NextVersionIdMarker.
    for (let i = 0; i < 7; i++)
      await s3api('put-object', '--bucket', 'cli-ver', '--key', `p/${i % 3}`, '--body', 'a.txt')
    const paged = await s3api('list-object-versions', '--bucket', 'cli-ver', '--page-size', '2')
    expect(paged.Versions).toHaveLength(9)
  })

  it('boto3: the list-versions-then-delete cleanup loop empties a versioned bucket so it can be deleted', async () => {
    const script = `
import os, sys
try:
    import boto3
except ImportError:
    sys.stderr.write("MISSING-BOTO3\\n"); sys.exit(3)
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
s3.create_bucket(Bucket="fixture")
s3.put_bucket_versioning(Bucket="fixture", VersioningConfiguration={"Status": "Enabled"})
for i in range(25):
    s3.put_object(Bucket="fixture", Key="k%d" % (i % 5), Body=b"x" * i)
for i in range(3):
    s3.delete_object(Bucket="fixture", Key="k%d" % i)
try:
    s3.delete_bucket(Bucket="fixture")
    print("deleted-too-early")
except s3.exceptions.ClientError as e:
    print("refused", e.response["Error"]["Code"])
count = 0
for page in s3.get_paginator("list_object_versions").paginate(Bucket="fixture", PaginationConfig={"PageSize": 4}):
    objs = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
    count += len(objs)
    if objs:
        r = s3.delete_objects(Bucket="fixture", Delete={"Objects": objs, "Quiet": True})
        assert not r.get("Errors"), r
print("removed", count)
s3.delete_bucket(Bucket="fixture")
print("bucket-deleted", "fixture" not in [b["Name"] for b in s3.list_buckets()["Buckets"]])
`
    const { stdout } = await run('python3', ['-c', script], { ENDPOINT: server.endpoint })
    expect(stdout.trim().split('\n')).toEqual(['refused BucketNotEmpty', 'removed 28', 'bucket-deleted True'])
  })
})
