/**
 * @module E2E: everything under the data directory is owner-only — directories 0700, files 0600 —
 * whatever the umask the server starts with, and when the directory already existed with looser
 * modes (an older version, a restore). The server runs as a child process under `sh -c 'umask …;
 * exec …'`, writes in every way that creates files (objects in each SSE mode, a multipart upload
 * in progress, the embedded KMS, the audit log, the self-signed TLS pair), and the whole tree is
 * checked while it serves and again after it stopped.
 */
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { randomBytes } from 'node:crypto'
import { chmod, lstat, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { killStartedServers, serverArgs, spawnServer, type ChildServer } from '../support/child-server.js'
import { makeClient } from '../support/server.js'
import { K1, sdkSsec } from '../support/sse-c.js'

const dirs: string[] = []

afterAll(async () => {
  killStartedServers()
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

/** Every directory and file under `root` (root included) whose mode is not 0700 / 0600. */
async function looseModes(root: string): Promise<string[]> {
  const bad: string[] = []
  const visit = async (p: string) => {
    const st = await lstat(p)
    const mode = st.mode & 0o777
    if (st.isDirectory()) {
      if (mode !== 0o700) bad.push(`${path.relative(root, p) || '.'}/ ${mode.toString(8)}`)
      for (const name of await readdir(p)) await visit(path.join(p, name))
    } else if (st.isFile() && mode !== 0o600) {
      bad.push(`${path.relative(root, p)} ${mode.toString(8)}`)
    }
  }
  await visit(root)
  return bad
}

/** Starts the server child under `umask`, with TLS, the audit log and SSE-C allowed. */
function startUnder(umask: string, dataDir: string): Promise<ChildServer> {
  const args = serverArgs(dataDir, [
    '--tls-self-signed',
    '--https-port',
    '0',
    '--audit-log',
    path.join(dataDir, 'audit.jsonl'),
    '--allow-sse-c-on-new-buckets',
  ])
  return spawnServer('sh', ['-c', `umask ${umask}; exec "$0" "$@"`, process.execPath, ...args])
}

async function stop(server: ChildServer): Promise<void> {
  server.proc.kill('SIGTERM')
  expect(await server.exited, server.stderr()).toEqual({ code: 0, signal: null })
}

/** Writes that create files: a bucket, objects in every SSE mode, a multipart upload left open. */
async function write(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }))
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 's3', Body: randomBytes(200_000) }))
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'kms', Body: randomBytes(1000), ServerSideEncryption: 'aws:kms' }),
  )
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ssec', Body: randomBytes(1000), ...sdkSsec(K1) }))
  const mp = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }))
  await s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: 'mp',
      UploadId: mp.UploadId,
      PartNumber: 1,
      Body: randomBytes(5 * 1024 * 1024),
    }),
  )
}

describe('owner-only data directory', () => {
  it('under umask 000, every path the server creates is 0700 / 0600', async () => {
    const dataDir = path.join(await mkdtemp(path.join(tmpdir(), 'strongroom-perm-')), 'data')
    dirs.push(path.dirname(dataDir))
    const server = await startUnder('000', dataDir)
    const s3 = makeClient(server.endpoint, { maxAttempts: 1 })
    try {
      await write(s3, 'perm')
      expect(await looseModes(dataDir)).toEqual([])
    } finally {
      s3.destroy()
    }
    await stop(server)
    expect(await looseModes(dataDir)).toEqual([])
  })

  it('an existing data directory with 0755 directories and 0644 files is made owner-only at start', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-perm-'))
    dirs.push(dataDir)
    // A store written once, then opened up as an older version or a careless copy would leave it.
    const first = await startUnder('022', dataDir)
    const s3a = makeClient(first.endpoint, { maxAttempts: 1 })
    await write(s3a, 'old').finally(() => s3a.destroy())
    await stop(first)
    await writeFile(path.join(dataDir, 'meta', 'stray-note.txt'), 'left by hand')
    const open = async (p: string): Promise<void> => {
      const st = await lstat(p)
      if (st.isDirectory()) {
        await chmod(p, 0o755)
        for (const name of await readdir(p)) await open(path.join(p, name))
      } else if (st.isFile() && path.relative(dataDir, p) !== 'keyring.json') {
        // (A keyring others can read is refused at start, on purpose: not part of this case.)
        await chmod(p, 0o644)
      }
    }
    await open(dataDir)
    expect((await looseModes(dataDir)).length).toBeGreaterThan(10)

    const second = await startUnder('022', dataDir)
    const s3 = makeClient(second.endpoint, { maxAttempts: 1 })
    try {
      expect(await looseModes(dataDir)).toEqual([])
      await write(s3, 'new')
      expect(await looseModes(dataDir)).toEqual([])
    } finally {
      s3.destroy()
    }
    await stop(second)
    expect(await looseModes(dataDir)).toEqual([])
  })
})
