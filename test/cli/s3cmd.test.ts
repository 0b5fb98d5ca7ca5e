/**
 * @module s3cmd (Debian's package) against a strongroom server on a free loopback port: mb, a
 * 50 MiB multipart put (15 MiB chunks), sync both ways, signurl + curl -f, setacl, del, rb —
 * with s3cmd's default signing (SigV4 for requests, SigV2 for signurl) and with signature_v2.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'
import { runTool, runToolFails, toolEnv } from '../support/tools.js'

const MiB = 1024 * 1024
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

describe.each([
  { name: 'default signing', v2: false },
  { name: 'signature_v2 = True', v2: true },
])('s3cmd ($name)', ({ v2 }) => {
  let srv: TestServer
  let work: string
  let cfg: string
  const bucket = v2 ? 's3cmd-v2' : 's3cmd-v4'
  const env = () => toolEnv({ HOME: work })
  const s3cmd = async (...args: string[]) => (await runTool('s3cmd', ['-c', cfg, ...args], env())).stdout

  beforeAll(async () => {
    srv = await startTestServer()
    work = await mkdtemp(path.join(tmpdir(), 'strongroom-s3cmd-'))
    cfg = path.join(work, 's3cfg')
    const host = `127.0.0.1:${srv.port}`
    // No bucket_location: s3cmd's default "US" is signed as CreateBucket's region; the store answers
    // as AWS does (AuthorizationHeaderMalformed naming us-east-1) and s3cmd retries with it.
    await writeFile(
      cfg,
      [
        '[default]',
        'access_key = test',
        'secret_key = test',
        `host_base = ${host}`,
        `host_bucket = ${host}`,
        'use_https = False',
        'multipart_chunk_size_mb = 15',
        `signature_v2 = ${v2 ? 'True' : 'False'}`,
        '',
      ].join('\n'),
    )
  })
  afterAll(async () => {
    await srv?.close()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('mb, 50 MiB multipart put, get, sync both ways, signurl + curl -f, setacl, del, rb', async () => {
    expect(await s3cmd('mb', `s3://${bucket}`)).toContain('created')
    const big = randomBytes(50 * MiB)
    const bigFile = path.join(work, 'big.bin')
    await writeFile(bigFile, big)
    await s3cmd('put', bigFile, `s3://${bucket}/big/50mib.bin`)
    const head = await makeClient(srv.endpoint).send(new HeadObjectCommand({ Bucket: bucket, Key: 'big/50mib.bin' }))
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}-4"$/)
    expect(head.ServerSideEncryption).toBe('AES256')
    const back = path.join(work, 'back.bin')
    await s3cmd('get', '--force', `s3://${bucket}/big/50mib.bin`, back)
    expect(sha256(await readFile(back))).toBe(sha256(big))

    // sync up, then down into an empty directory
    const up = path.join(work, 'up')
    await mkdir(path.join(up, 'sub dir'), { recursive: true })
    await writeFile(path.join(up, 'a.txt'), 'alpha')
    await writeFile(path.join(up, 'sub dir', 'b+c ☕.txt'), 'beta')
    await s3cmd('sync', up + '/', `s3://${bucket}/tree/`)
    const down = path.join(work, 'down')
    await s3cmd('sync', `s3://${bucket}/tree/`, down + '/')
    expect(await readFile(path.join(down, 'a.txt'), 'utf8')).toBe('alpha')
    expect(await readFile(path.join(down, 'sub dir', 'b+c ☕.txt'), 'utf8')).toBe('beta')

    // signurl is SigV2 whatever signature_v2 says; curl -f writes the body only on success.
    const url = (await s3cmd('signurl', `s3://${bucket}/big/50mib.bin`, '+600')).trim()
    expect(url).toContain('AWSAccessKeyId=')
    const fetched = path.join(work, 'fetched.bin')
    await runTool('curl', ['--silent', '--show-error', '--fail', '--output', fetched, url], env())
    expect(sha256(await readFile(fetched))).toBe(sha256(big))

    // New buckets are BucketOwnerEnforced, as on AWS: a public ACL is AccessControlListNotSupported.
    const acl = await runToolFails('s3cmd', ['-c', cfg, 'setacl', '--acl-public', `s3://${bucket}/tree/a.txt`], env())
    expect(acl.stderr + acl.stdout).toContain('400 (AccessControlListNotSupported)')

    await s3cmd('del', '--recursive', '--force', `s3://${bucket}`)
    expect((await s3cmd('ls', `s3://${bucket}`)).trim()).toBe('')
    expect(await s3cmd('rb', `s3://${bucket}`)).toContain('removed')
  })
})
