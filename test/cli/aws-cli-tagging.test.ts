import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { awsCliEnv, runTool } from '../support/aws-cli.js'
import { startTestServer, type TestServer } from '../support/server.js'

const BOTO3_SCRIPT = String.raw`
import json, os, sys
try:
    import boto3
    from botocore.config import Config
except ImportError:
    sys.stderr.write('MISSING-BOTO3\n'); sys.exit(3)
s3 = boto3.client('s3', endpoint_url=os.environ['ENDPOINT'], config=Config(s3={'addressing_style': 'path'}))
s3.create_bucket(Bucket='boto-tags')
s3.put_object(Bucket='boto-tags', Key='doc', Body=b'hello boto', Tagging='team=storage')
s3.put_object_tagging(Bucket='boto-tags', Key='doc', Tagging={'TagSet': [{'Key': 'team', 'Value': 'kms'}, {'Key': 'tier', 'Value': 'gold'}]})
tags = s3.get_object_tagging(Bucket='boto-tags', Key='doc')['TagSet']
attrs = s3.get_object_attributes(Bucket='boto-tags', Key='doc', ObjectAttributes=['ETag', 'ObjectSize', 'StorageClass', 'Checksum'])
head = s3.head_object(Bucket='boto-tags', Key='doc')
print(json.dumps({
    'tags': sorted([[t['Key'], t['Value']] for t in tags]),
    'size': attrs['ObjectSize'], 'storage': attrs['StorageClass'], 'etag_ok': '"' + attrs['ETag'] + '"' == head['ETag'],
    'checksum_type': attrs['Checksum']['ChecksumType'],
}))
`

describe('aws CLI v1 and boto3: tagging, object attributes, list-buckets pagination', () => {
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
    work = await mkdtemp(path.join(tmpdir(), 'strongroom-cli-tagging-'))
    env = awsCliEnv(server.endpoint)
  })
  afterAll(async () => {
    await server?.close()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('aws s3api put-object-tagging / get-object-tagging / delete-object-tagging', async () => {
    await s3api('create-bucket', '--bucket', 'cli-tags')
    await writeFile(path.join(work, 'a.txt'), 'tag me')
    await s3api('put-object', '--bucket', 'cli-tags', '--key', 'a', '--body', 'a.txt', '--tagging', 'x=1')
    expect(await s3api('get-object-tagging', '--bucket', 'cli-tags', '--key', 'a')).toEqual({
      TagSet: [{ Key: 'x', Value: '1' }],
    })
    await s3api(
      'put-object-tagging',
      '--bucket',
      'cli-tags',
      '--key',
      'a',
      '--tagging',
      'TagSet=[{Key=project,Value=blue sky}]',
    )
    expect(await s3api('get-object-tagging', '--bucket', 'cli-tags', '--key', 'a')).toEqual({
      TagSet: [{ Key: 'project', Value: 'blue sky' }],
    })
    await s3api('delete-object-tagging', '--bucket', 'cli-tags', '--key', 'a')
    expect(await s3api('get-object-tagging', '--bucket', 'cli-tags', '--key', 'a')).toEqual({ TagSet: [] })
  })

  it('aws s3api list-buckets --max-items pages through every bucket with NextToken', async () => {
    for (const b of ['page-a', 'page-b', 'page-c']) await s3api('create-bucket', '--bucket', b)
    const first = await s3api('list-buckets', '--prefix', 'page-', '--max-items', '2')
    expect(first.Buckets.map((b: any) => b.Name)).toEqual(['page-a', 'page-b'])
    expect(typeof first.NextToken).toBe('string')
    const rest = await s3api(
      'list-buckets',
      '--prefix',
      'page-',
      '--max-items',
      '2',
      '--starting-token',
      first.NextToken,
    )
    expect(rest.Buckets.map((b: any) => b.Name)).toEqual(['page-c'])
    expect(rest.NextToken).toBeUndefined()
  })

  it('boto3: put_object_tagging, get_object_tagging and get_object_attributes', async () => {
    const out = JSON.parse((await run('python3', ['-c', BOTO3_SCRIPT], { ENDPOINT: server.endpoint })).stdout)
    expect(out).toEqual({
      tags: [
        ['team', 'kms'],
        ['tier', 'gold'],
      ],
      size: 10,
      storage: 'STANDARD',
      etag_ok: true,
      checksum_type: 'FULL_OBJECT',
    })
  })
})
