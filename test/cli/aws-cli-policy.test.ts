/**
 * @module End-to-end: bucket policies with the real aws CLI (v1) against strongroom on 127.0.0.1
 * (docs/s3-sse-rules.md §5.6, POL-01/03/05, driven by aws-cli): put/get/delete-bucket-policy and
 * get-bucket-policy-status, and the published "deny unencrypted object uploads" policy enforced on
 * `aws s3 cp` of a single-part and a multipart (16 MiB) upload. A missing `aws` fails the suite.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { denyUnencrypted } from '../support/policies.js'
import { startTestServer, type TestServer } from '../support/server.js'
import { awsCliEnv, runTool, type ToolFailure } from '../support/aws-cli.js'

const MiB = 1024 * 1024

describe('aws CLI v1: bucket policies', () => {
  let server: TestServer
  let work: string
  let env: NodeJS.ProcessEnv
  const bucket = 'cli-policy'

  const run = (args: string[]) => runTool('aws', args, { env })
  const s3api = async (...args: string[]): Promise<Record<string, any>> => {
    const out = (await run(['s3api', ...args, '--output', 'json'])).stdout.trim()
    return out === '' ? {} : JSON.parse(out)
  }
  const fails = async (...args: string[]): Promise<string> => {
    try {
      await run(args)
    } catch (e) {
      const err = e as ToolFailure
      return `${err.stderr ?? ''}${err.stdout ?? ''}`
    }
    throw new Error(`aws ${args.join(' ')} succeeded but should have failed`)
  }

  beforeAll(async () => {
    server = await startTestServer()
    work = await mkdtemp(path.join(tmpdir(), 'strongroom-cli-policy-'))
    env = awsCliEnv(server.endpoint)
    await run(['s3', 'mb', `s3://${bucket}`])
  })
  afterAll(async () => {
    await server?.close()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('POL-05 get-bucket-policy without a policy fails with NoSuchBucketPolicy', async () => {
    expect(await fails('s3api', 'get-bucket-policy', '--bucket', bucket)).toContain('NoSuchBucketPolicy')
  })

  it('"deny unencrypted object uploads": aws s3 cp without --sse is denied, with --sse aws:kms it works, single-part and multipart', async () => {
    const policyFile = path.join(work, 'policy.json')
    await writeFile(policyFile, JSON.stringify(denyUnencrypted(bucket)))
    await s3api('put-bucket-policy', '--bucket', bucket, '--policy', `file://${policyFile}`)
    expect(JSON.parse((await s3api('get-bucket-policy', '--bucket', bucket)).Policy)).toEqual(denyUnencrypted(bucket))
    expect((await s3api('get-bucket-policy-status', '--bucket', bucket)).PolicyStatus.IsPublic).toBe(false)

    const small = path.join(work, 'small.bin')
    const big = path.join(work, 'big.bin')
    await writeFile(small, randomBytes(1024))
    await writeFile(big, randomBytes(16 * MiB))
    for (const file of [small, big]) {
      expect(await fails('s3', 'cp', file, `s3://${bucket}/${path.basename(file)}`)).toContain('AccessDenied')
      await run(['s3', 'cp', file, `s3://${bucket}/${path.basename(file)}`, '--sse', 'aws:kms'])
      expect((await s3api('head-object', '--bucket', bucket, '--key', path.basename(file))).ServerSideEncryption).toBe(
        'aws:kms',
      )
    }

    await s3api('delete-bucket-policy', '--bucket', bucket)
    await run(['s3', 'cp', small, `s3://${bucket}/after.bin`])
  })
})
