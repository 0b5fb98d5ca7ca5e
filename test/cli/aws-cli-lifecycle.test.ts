import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { blobFiles } from '../support/data-dir.js'
import { awsCliEnv, runTool, type ToolFailure } from '../support/aws-cli.js'
import { startTestServer, type TestServer } from '../support/server.js'

/** The README's lc.json. */
const LC_JSON = {
  Rules: [
    { ID: 'expire-tmp', Filter: { Prefix: 'tmp/' }, Status: 'Enabled', Expiration: { Days: 1 } },
    {
      ID: 'old-versions',
      Filter: { Prefix: 'docs/' },
      Status: 'Enabled',
      NoncurrentVersionExpiration: { NoncurrentDays: 1 },
    },
    { ID: 'markers', Filter: { Prefix: 'gone/' }, Status: 'Enabled', Expiration: { ExpiredObjectDeleteMarker: true } },
    {
      ID: 'stale-uploads',
      Filter: { Prefix: '' },
      Status: 'Enabled',
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    },
  ],
}

describe('aws CLI v1: lifecycle with one-second days', () => {
  let server: TestServer
  let work: string
  let env: NodeJS.ProcessEnv

  const run = (tool: string, args: string[]) => runTool(tool, args, { env, cwd: work })
  const s3api = async (...args: string[]): Promise<Record<string, any>> => {
    const out = (await run('aws', ['s3api', ...args, '--output', 'json'])).stdout.trim()
    return out === '' ? {} : JSON.parse(out)
  }
  const versions = async (key: string): Promise<Array<{ id: string; marker: boolean }>> => {
    const r = await s3api('list-object-versions', '--bucket', 'cli-lc', '--prefix', key)
    return [
      ...(r.Versions ?? []).filter((v: any) => v.Key === key).map((v: any) => ({ id: v.VersionId, marker: false })),
      ...(r.DeleteMarkers ?? []).filter((v: any) => v.Key === key).map((v: any) => ({ id: v.VersionId, marker: true })),
    ]
  }
  /** Polls until `check` holds: bounded by a count of rounds, never a time threshold. */
  const eventually = async (what: string, check: () => Promise<boolean>): Promise<void> => {
    for (let i = 0; i < 240; i++) {
      if (await check()) return
      await sleep(250)
    }
    throw new Error(`lifecycle never got there: ${what}`)
  }

  beforeAll(async () => {
    server = await startTestServer({ args: ['--lifecycle-day-seconds', '1'] })
    work = await mkdtemp(path.join(tmpdir(), 'strongroom-cli-lc-'))
    env = awsCliEnv(server.endpoint)
  })
  afterAll(async () => {
    await server?.close()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('put/get/delete-bucket-lifecycle-configuration round-trips lc.json', async () => {
    await s3api('create-bucket', '--bucket', 'cli-lc-api')
    const none = await run('aws', ['s3api', 'get-bucket-lifecycle-configuration', '--bucket', 'cli-lc-api']).catch(
      (e: ToolFailure) => e,
    )
    expect((none as ToolFailure).stderr).toMatch(/NoSuchLifecycleConfiguration/)
    await writeFile(path.join(work, 'lc.json'), JSON.stringify(LC_JSON))
    await s3api(
      'put-bucket-lifecycle-configuration',
      '--bucket',
      'cli-lc-api',
      '--lifecycle-configuration',
      'file://lc.json',
    )
    const got = await s3api('get-bucket-lifecycle-configuration', '--bucket', 'cli-lc-api')
    expect(got.Rules).toEqual(LC_JSON.Rules)
    await s3api('delete-bucket-lifecycle', '--bucket', 'cli-lc-api')
    const after = await run('aws', ['s3api', 'get-bucket-lifecycle-configuration', '--bucket', 'cli-lc-api']).catch(
      (e: ToolFailure) => e,
    )
    expect((after as ToolFailure).stderr).toMatch(/NoSuchLifecycleConfiguration/)
  }, 300_000)

  it('rules expire objects, noncurrent versions, lone markers and stale uploads', async () => {
    await s3api('create-bucket', '--bucket', 'cli-lc')
    await s3api('put-bucket-versioning', '--bucket', 'cli-lc', '--versioning-configuration', 'Status=Enabled')
    // Everything the rules will act on is written first: the CLI takes seconds per call on a busy
    // machine, longer than a one-second day.
    await writeFile(path.join(work, 'f.txt'), 'some bytes')
    const oldDoc = (await s3api('put-object', '--bucket', 'cli-lc', '--key', 'docs/a', '--body', 'f.txt')).VersionId
    const newDoc = (await s3api('put-object', '--bucket', 'cli-lc', '--key', 'docs/a', '--body', 'f.txt')).VersionId
    const goneData = (await s3api('put-object', '--bucket', 'cli-lc', '--key', 'gone/x', '--body', 'f.txt')).VersionId
    await s3api('delete-object', '--bucket', 'cli-lc', '--key', 'gone/x')
    await s3api('delete-object', '--bucket', 'cli-lc', '--key', 'gone/x', '--version-id', goneData)
    const up = await s3api('create-multipart-upload', '--bucket', 'cli-lc', '--key', 'big/upload')
    const before = new Set(await blobFiles(server.dataDir))
    await s3api(
      'upload-part',
      '--bucket',
      'cli-lc',
      '--key',
      'big/upload',
      '--upload-id',
      up.UploadId,
      '--part-number',
      '1',
      '--body',
      'f.txt',
    )
    const partBlobs = (await blobFiles(server.dataDir)).filter((f) => !before.has(f))
    expect(partBlobs).toHaveLength(1)
    await writeFile(path.join(work, 'lc.json'), JSON.stringify(LC_JSON))
    await s3api(
      'put-bucket-lifecycle-configuration',
      '--bucket',
      'cli-lc',
      '--lifecycle-configuration',
      'file://lc.json',
    )
    const put = await s3api('put-object', '--bucket', 'cli-lc', '--key', 'tmp/scratch', '--body', 'f.txt')
    expect(put.Expiration).toMatch(/^expiry-date="[^"]+ GMT", rule-id="expire-tmp"$/)

    await eventually('tmp/scratch is expired behind a delete marker', async () =>
      (await versions('tmp/scratch')).some((v) => v.marker),
    )
    await eventually(
      'docs/a keeps only its current version',
      async () => (await versions('docs/a')).map((v) => v.id).join() === newDoc,
    )
    expect(oldDoc).not.toBe(newDoc)
    await eventually('gone/x has no version left', async () => (await versions('gone/x')).length === 0)
    await eventually(
      'the upload is aborted',
      async () => ((await s3api('list-multipart-uploads', '--bucket', 'cli-lc')).Uploads ?? []).length === 0,
    )
    await eventually('its part blob is deleted', async () => !existsSync(partBlobs[0]))
  }, 300_000)
})
