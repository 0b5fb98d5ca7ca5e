/**
 * @module End-to-end: bucket CORS with the aws CLI (v1) — the README's put-bucket-cors example —
 * and boto3 (recent botocore sends PutBucketCors with a checksum header instead of Content-MD5). A missing
 * `aws` or `python3`/boto3 fails the suite; it never skips.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from '../support/raw-s3.js'
import { awsCliEnv } from '../support/aws-cli.js'
import { startTestServer, type TestServer } from '../support/server.js'

const execFileP = promisify(execFile)
const TOOL_TIMEOUT_MS = 60_000

const BOTO3_SCRIPT = `
import boto3, json, sys
s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')
s3.create_bucket(Bucket='boto-cors')
s3.put_bucket_cors(Bucket='boto-cors', CORSConfiguration={'CORSRules': [{'AllowedOrigins': ['https://boto.example'], 'AllowedMethods': ['GET', 'PUT'], 'AllowedHeaders': ['*'], 'MaxAgeSeconds': 10}]})
print(json.dumps(s3.get_bucket_cors(Bucket='boto-cors')['CORSRules']))
`

describe('aws CLI v1 and boto3: bucket CORS', () => {
  let server: TestServer
  let work: string

  async function tool(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
    try {
      return (await execFileP(cmd, args, { env, cwd: work, timeout: TOOL_TIMEOUT_MS, encoding: 'utf8' })).stdout
    } catch (e) {
      const err = e as Error & { code?: number | string; stderr?: string }
      if (err.code === 'ENOENT') throw new Error(`required tool '${cmd}' is missing. These tests never skip.`)
      err.message = `${cmd} ${args.join(' ')} failed (exit ${String(err.code)}):\n${err.stderr ?? ''}`
      throw err
    }
  }

  beforeAll(async () => {
    server = await startTestServer()
    work = await mkdtemp(path.join(tmpdir(), 'strongroom-cli-cors-'))
  })
  afterAll(async () => {
    await server?.close()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it("the README's put-bucket-cors example applies, reads back and deletes", async () => {
    const env = awsCliEnv(server.endpoint)
    await writeFile(
      path.join(work, 'cors.json'),
      JSON.stringify({
        CORSRules: [
          {
            AllowedOrigins: ['http://localhost:5173'],
            AllowedMethods: ['GET', 'PUT', 'POST', 'HEAD'],
            AllowedHeaders: ['*'],
            ExposeHeaders: ['ETag'],
            MaxAgeSeconds: 3000,
          },
        ],
      }),
    )
    await tool('aws', ['s3', 'mb', 's3://photos'], env)
    await tool(
      'aws',
      ['s3api', 'put-bucket-cors', '--bucket', 'photos', '--cors-configuration', 'file://cors.json'],
      env,
    )
    const got = JSON.parse(
      await tool('aws', ['s3api', 'get-bucket-cors', '--bucket', 'photos', '--output', 'json'], env),
    )
    expect(got.CORSRules).toEqual([
      {
        AllowedOrigins: ['http://localhost:5173'],
        AllowedMethods: ['GET', 'PUT', 'POST', 'HEAD'],
        AllowedHeaders: ['*'],
        ExposeHeaders: ['ETag'],
        MaxAgeSeconds: 3000,
      },
    ])
    const pf = await send(server.port, {
      method: 'OPTIONS',
      path: '/photos/x.jpg',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'PUT' },
    })
    expect(pf.status).toBe(200)
    await tool('aws', ['s3api', 'delete-bucket-cors', '--bucket', 'photos'], env)
    const pfAfter = await send(server.port, {
      method: 'OPTIONS',
      path: '/photos/x.jpg',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'PUT' },
    })
    expect(pfAfter.status).toBe(403)
  })

  it('boto3 put_bucket_cors and get_bucket_cors', async () => {
    const out = await tool('python3', ['-c', BOTO3_SCRIPT, server.endpoint], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    })
    expect(JSON.parse(out)).toEqual([
      {
        AllowedOrigins: ['https://boto.example'],
        AllowedMethods: ['GET', 'PUT'],
        AllowedHeaders: ['*'],
        MaxAgeSeconds: 10,
      },
    ])
  })
})
