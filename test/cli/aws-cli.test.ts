/**
 * @module End-to-end tests with the real aws CLI (v1), curl and boto3 against a strongroom server
 * on a free loopback port. Tools are run through execFile; a missing tool fails the test with a
 * message naming it (CI must have them: the test never skips).
 */
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checksumOf } from '../../server/s3/checksums.js'
import { startTestServer, type TestServer } from '../support/server.js'
import { awsCliEnv } from '../support/aws-cli.js'

const execFileP = promisify(execFile)
const MiB = 1024 * 1024
/** One CLI invocation never needs this long; a hung tool fails instead of stalling the suite. */
const TOOL_TIMEOUT_MS = 45_000

interface ToolFailure extends Error {
  code?: number | string
  stdout?: string
  stderr?: string
}

const INSTALL_HINTS: Record<string, string> = {
  aws: 'install the aws CLI (e.g. `pip install awscli`) so that `aws` is on PATH',
  curl: 'install curl (e.g. `apt-get install curl`) so that `curl` is on PATH',
  python3: 'install python3 so that `python3` is on PATH',
}

/** Runs a tool; ENOENT becomes a loud "tool is missing" error, any other failure keeps stderr. */
async function run(
  tool: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileP(tool, args, { env, cwd, timeout: TOOL_TIMEOUT_MS, maxBuffer: 64 * MiB, encoding: 'utf8' })
  } catch (e) {
    const err = e as ToolFailure
    if (err.code === 'ENOENT') {
      throw new Error(
        `required tool '${tool}' is missing: ${INSTALL_HINTS[tool] ?? 'install it'}. These tests never skip.`,
      )
    }
    err.message = `${tool} ${args.join(' ')} failed (exit ${String(err.code)}):\n${err.stderr ?? ''}${err.stdout ?? ''}`
    throw err
  }
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex')

/** Every regular file under `dir`, as relative paths (with '/') → contents. */
async function readTree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const full = path.join(entry.parentPath, entry.name)
    out.set(path.relative(dir, full).split(path.sep).join('/'), await readFile(full))
  }
  return out
}

describe('aws CLI v1 against strongroom', () => {
  let server: TestServer
  let work: string
  let env: NodeJS.ProcessEnv

  /** `aws <args>`; returns stdout. */
  const aws = async (...args: string[]) => (await run('aws', args, env)).stdout
  /** `aws s3api <args> --output json`, parsed (empty output → {}). */
  const s3api = async (...args: string[]): Promise<Record<string, any>> => {
    const out = (await run('aws', ['s3api', ...args, '--output', 'json'], env)).stdout.trim()
    return out === '' ? {} : JSON.parse(out)
  }
  /** Runs an aws command that must fail; returns its stderr. */
  const awsFails = async (...args: string[]): Promise<string> => {
    try {
      await run('aws', args, env)
    } catch (e) {
      const err = e as ToolFailure
      if (typeof err.message === 'string' && err.message.startsWith('required tool')) throw err
      return `${err.stderr ?? ''}${err.stdout ?? ''}`
    }
    throw new Error(`aws ${args.join(' ')} succeeded but was expected to fail`)
  }
  /** Writes a random file of `size` bytes under the work dir. */
  const randomFile = async (name: string, size: number): Promise<{ file: string; data: Buffer }> => {
    const data = randomBytes(size)
    const file = path.join(work, name)
    await mkdir(path.dirname(file), { recursive: true })
    await writeFile(file, data)
    return { file, data }
  }

  beforeAll(async () => {
    server = await startTestServer()
    env = awsCliEnv(server.endpoint)
    work = await mkdtemp(path.join(tmpdir(), 'strongroom-cli-'))
    // Fail every test loudly (not skip) when the aws CLI is missing.
    const version = await run('aws', ['--version'], env)
    expect(`${version.stdout}${version.stderr}`).toMatch(/aws-cli\//)
    await aws('s3', 'mb', 's3://cli-main')
  })

  afterAll(async () => {
    await server?.close()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('s3 mb creates a bucket that s3 ls lists, and s3api head-bucket finds (BKT-01, BKT-11)', async () => {
    expect(await aws('s3', 'mb', 's3://cli-made')).toContain('make_bucket: cli-made')
    const buckets = await aws('s3', 'ls')
    expect(buckets).toMatch(/\scli-made\n/)
    expect(buckets).toMatch(/\scli-main\n/)
    await s3api('head-bucket', '--bucket', 'cli-made')
  })

  describe('s3 cp up and down returns the exact bytes', () => {
    it.each([0, 1, 65535, 65537])('%i bytes (chunk-boundary sizes of SR1)', async (size) => {
      const { file, data } = await randomFile(`cp/up-${size}.bin`, size)
      await aws('s3', 'cp', '--no-progress', file, `s3://cli-main/cp/${size}.bin`)
      const head = await s3api('head-object', '--bucket', 'cli-main', '--key', `cp/${size}.bin`)
      expect(head.ContentLength).toBe(size)
      expect(head.ETag).toBe(`"${md5(data)}"`)
      expect(head.ServerSideEncryption).toBe('AES256')
      const down = path.join(work, 'cp', `down-${size}.bin`)
      await aws('s3', 'cp', '--no-progress', `s3://cli-main/cp/${size}.bin`, down)
      const back = await readFile(down)
      expect(back.length).toBe(size)
      expect(sha256(back)).toBe(sha256(data))
    })

    it('20 MiB file: the CLI uploads it as multipart (ETag "-3"), downloads it intact (ETAG-04)', async () => {
      const { file, data } = await randomFile('cp/up-20MiB.bin', 20 * MiB)
      await aws('s3', 'cp', '--no-progress', file, 's3://cli-main/cp/20MiB.bin')
      const head = await s3api('head-object', '--bucket', 'cli-main', '--key', 'cp/20MiB.bin')
      expect(head.ContentLength).toBe(20 * MiB)
      // The CLI's default threshold and part size are 8 MiB: 8 + 8 + 4.
      expect(head.ETag).toMatch(/^"[0-9a-f]{32}-3"$/)
      expect(head.ServerSideEncryption).toBe('AES256')
      const down = path.join(work, 'cp', 'down-20MiB.bin')
      await aws('s3', 'cp', '--no-progress', 's3://cli-main/cp/20MiB.bin', down)
      const back = await readFile(down)
      expect(back.length).toBe(data.length)
      expect(sha256(back)).toBe(sha256(data))
    })
  })

  describe('s3 sync, ls, rm of a directory tree', () => {
    const tree: Record<string, number> = {
      'top.txt': 10,
      'empty.bin': 0,
      'dir1/a.bin': 70_000,
      'dir1/dir2/deep.bin': 1234,
      'dir1/dir2/dir3/deeper.txt': 5,
      'with space/ünïcødé ☕ file.txt': 321,
      'with space/plus+and%percent.txt': 17,
    }
    let src: string

    beforeAll(async () => {
      src = path.join(work, 'sync-src')
      for (const [rel, size] of Object.entries(tree)) {
        const file = path.join(src, rel)
        await mkdir(path.dirname(file), { recursive: true })
        await writeFile(file, randomBytes(size))
        // sync compares mtimes with LastModified, which has whole seconds: keep the files clearly older.
        await utimes(file, new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'))
      }
    })

    it('s3 sync up stores every file under its key verbatim (ADDR-03), a second sync uploads nothing', async () => {
      await aws('s3', 'sync', '--no-progress', src, 's3://cli-main/tree/')
      const listed = await s3api('list-objects-v2', '--bucket', 'cli-main', '--prefix', 'tree/')
      const keys = (listed.Contents ?? []).map((o: { Key: string }) => o.Key)
      const expected = Object.keys(tree).map((rel) => `tree/${rel}`)
      // Listing order is UTF-8 byte order (LST-01).
      expect(keys).toEqual([...expected].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))))
      for (const o of listed.Contents as Array<{ Key: string; Size: number }>)
        expect(o.Size).toBe(tree[o.Key.slice('tree/'.length)])
      expect((await aws('s3', 'sync', '--no-progress', src, 's3://cli-main/tree/')).trim()).toBe('')
    })

    it('s3 sync down reproduces the tree byte for byte', async () => {
      const dst = path.join(work, 'sync-dst')
      await aws('s3', 'sync', '--no-progress', 's3://cli-main/tree/', dst)
      const [a, b] = await Promise.all([readTree(src), readTree(dst)])
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort())
      for (const [rel, data] of a) expect(sha256(b.get(rel)!), rel).toBe(sha256(data))
    })

    it('s3 ls shows one level with PRE for sub-prefixes; --recursive lists every key with its size (LST-02)', async () => {
      const oneLevel = await aws('s3', 'ls', 's3://cli-main/tree/')
      const lines = oneLevel
        .trim()
        .split('\n')
        .map((l) => l.trim())
      expect(lines.filter((l) => l.startsWith('PRE ')).sort()).toEqual(['PRE dir1/', 'PRE with space/'])
      expect(
        lines
          .filter((l) => !l.startsWith('PRE '))
          .map((l) => l.split(/\s+/).slice(3).join(' '))
          .sort(),
      ).toEqual(['empty.bin', 'top.txt'])

      const recursive = await aws('s3', 'ls', '--recursive', 's3://cli-main/tree/')
      const rows = recursive
        .trim()
        .split('\n')
        .map((l) => {
          const m = /^\S+\s+\S+\s+(\d+)\s(.*)$/.exec(l.trim())
          expect(m, `unexpected ls line: ${l}`).not.toBeNull()
          return [m![2], Number(m![1])] as const
        })
      expect(Object.fromEntries(rows)).toEqual(
        Object.fromEntries(Object.entries(tree).map(([k, v]) => [`tree/${k}`, v])),
      )
    })

    it('s3 rm removes one key (DEL-01); s3 rm --recursive removes a prefix', async () => {
      await aws('s3', 'rm', 's3://cli-main/tree/top.txt')
      expect(await awsFails('s3api', 'head-object', '--bucket', 'cli-main', '--key', 'tree/top.txt')).toMatch(
        /404|Not Found/,
      )
      const out = await aws('s3', 'rm', '--recursive', 's3://cli-main/tree/')
      expect(out.match(/^delete: /gm)?.length).toBe(Object.keys(tree).length - 1)
      const listed = await s3api('list-objects-v2', '--bucket', 'cli-main', '--prefix', 'tree/')
      expect(listed.KeyCount ?? 0).toBe(0)
      expect(listed.Contents ?? []).toEqual([])
    })
  })

  describe('s3 rb', () => {
    it('removes an empty bucket; head-bucket then answers 404 (BKT-14, BKT-12)', async () => {
      await aws('s3', 'mb', 's3://cli-rb-empty')
      expect(await aws('s3', 'rb', 's3://cli-rb-empty')).toContain('remove_bucket: cli-rb-empty')
      expect(await awsFails('s3api', 'head-bucket', '--bucket', 'cli-rb-empty')).toMatch(/404|Not Found/)
    })

    it('refuses a non-empty bucket with BucketNotEmpty (BKT-13); --force empties and removes it', async () => {
      await aws('s3', 'mb', 's3://cli-rb-full')
      const { file } = await randomFile('rb/one.bin', 100)
      await aws('s3', 'cp', '--no-progress', file, 's3://cli-rb-full/a/one.bin')
      await aws('s3', 'cp', '--no-progress', file, 's3://cli-rb-full/two.bin')
      expect(await awsFails('s3', 'rb', 's3://cli-rb-full')).toContain('BucketNotEmpty')
      const out = await aws('s3', 'rb', '--force', 's3://cli-rb-full')
      expect(out).toContain('remove_bucket: cli-rb-full')
      expect(await awsFails('s3api', 'head-bucket', '--bucket', 'cli-rb-full')).toMatch(/404|Not Found/)
      expect(await aws('s3', 'ls')).not.toMatch(/\scli-rb-full\n/)
    })
  })

  describe('s3api', () => {
    it('put-object / head-object / get-object: SSE AES256 everywhere, ETag = MD5, metadata kept (SSE-01, ETAG-01, META-01)', async () => {
      const { file, data } = await randomFile('api/put.bin', 4096)
      const put = await s3api(
        'put-object',
        '--bucket',
        'cli-main',
        '--key',
        'api/put.bin',
        '--body',
        file,
        '--content-type',
        'application/x-test',
        '--metadata',
        'Colour=blue,owner=cli',
      )
      expect(put.ETag).toBe(`"${md5(data)}"`)
      expect(put.ServerSideEncryption).toBe('AES256')

      const head = await s3api('head-object', '--bucket', 'cli-main', '--key', 'api/put.bin')
      expect(head.ServerSideEncryption).toBe('AES256')
      expect(head.ContentLength).toBe(4096)
      expect(head.ContentType).toBe('application/x-test')
      expect(head.ETag).toBe(`"${md5(data)}"`)
      expect(head.Metadata).toEqual({ colour: 'blue', owner: 'cli' })

      const out = path.join(work, 'api', 'got.bin')
      const got = await s3api('get-object', '--bucket', 'cli-main', '--key', 'api/put.bin', out)
      expect(got.ServerSideEncryption).toBe('AES256')
      expect(got.ContentLength).toBe(4096)
      expect(sha256(await readFile(out))).toBe(sha256(data))
    })

    it('copy-object copies bytes and metadata into a new SSE-S3 object with the same ETag (SSE-01, ETAG-01)', async () => {
      const { file, data } = await randomFile('api/copy-src.bin', 100_000)
      await s3api(
        'put-object',
        '--bucket',
        'cli-main',
        '--key',
        'api/copy-src.bin',
        '--body',
        file,
        '--metadata',
        'k=v',
      )
      const copy = await s3api(
        'copy-object',
        '--bucket',
        'cli-main',
        '--key',
        'api/copy dst ☕.bin',
        '--copy-source',
        'cli-main/api/copy-src.bin',
      )
      expect(copy.CopyObjectResult.ETag).toBe(`"${md5(data)}"`)
      expect(copy.ServerSideEncryption).toBe('AES256')
      const head = await s3api('head-object', '--bucket', 'cli-main', '--key', 'api/copy dst ☕.bin')
      expect(head.Metadata).toEqual({ k: 'v' })
      expect(head.ServerSideEncryption).toBe('AES256')
      const out = path.join(work, 'api', 'copy-got.bin')
      await s3api('get-object', '--bucket', 'cli-main', '--key', 'api/copy dst ☕.bin', out)
      expect(sha256(await readFile(out))).toBe(sha256(data))
    })

    it('list-objects-v2 with prefix/delimiter rolls up CommonPrefixes (LST-02, LST-03) and pages with --page-size (LST-04)', async () => {
      const { file } = await randomFile('api/small.txt', 3)
      const keys = ['lst/a', 'lst/b', 'lst/c/1', 'lst/c/2', 'lst/d/1', 'lst/e']
      for (const key of keys) await s3api('put-object', '--bucket', 'cli-main', '--key', key, '--body', file)

      // --no-paginate: one request, and the CLI keeps KeyCount (its paginator drops it when merging pages).
      const rolled = await s3api(
        'list-objects-v2',
        '--bucket',
        'cli-main',
        '--prefix',
        'lst/',
        '--delimiter',
        '/',
        '--no-paginate',
      )
      expect(rolled.Contents.map((o: { Key: string }) => o.Key)).toEqual(['lst/a', 'lst/b', 'lst/e'])
      expect(rolled.CommonPrefixes.map((p: { Prefix: string }) => p.Prefix)).toEqual(['lst/c/', 'lst/d/'])
      expect(rolled.KeyCount).toBe(5)

      // --page-size 2 makes the CLI follow NextContinuationToken through 3 pages and merge them.
      const paged = await s3api('list-objects-v2', '--bucket', 'cli-main', '--prefix', 'lst/', '--page-size', '2')
      expect(paged.Contents.map((o: { Key: string }) => o.Key)).toEqual(keys)
      for (const o of paged.Contents as Array<{ Size: number; ETag: string }>) expect(o.Size).toBe(3)
    })

    it('delete-objects deletes existing and missing keys alike (MDEL-01, MDEL-02)', async () => {
      const { file } = await randomFile('api/del.txt', 5)
      for (const key of ['mdel/1', 'mdel/2', 'mdel/3'])
        await s3api('put-object', '--bucket', 'cli-main', '--key', key, '--body', file)
      const del = await s3api(
        'delete-objects',
        '--bucket',
        'cli-main',
        '--delete',
        JSON.stringify({
          Objects: [{ Key: 'mdel/1' }, { Key: 'mdel/2' }, { Key: 'mdel/3' }, { Key: 'mdel/never-existed' }],
        }),
      )
      expect((del.Deleted ?? []).map((d: { Key: string }) => d.Key).sort()).toEqual([
        'mdel/1',
        'mdel/2',
        'mdel/3',
        'mdel/never-existed',
      ])
      expect(del.Errors ?? []).toEqual([])
      const listed = await s3api('list-objects-v2', '--bucket', 'cli-main', '--prefix', 'mdel/')
      expect(listed.Contents ?? []).toEqual([])
    })

    it('create-multipart-upload / upload-part / complete-multipart-upload: SSE AES256, ETag MD5(part MD5s)-2, bytes intact (MPU-01, ETAG-04)', async () => {
      const part1 = await randomFile('mpu/part1.bin', 5 * MiB)
      const part2 = await randomFile('mpu/part2.bin', 1_000_001)
      const created = await s3api('create-multipart-upload', '--bucket', 'cli-main', '--key', 'mpu/object.bin')
      expect(created.UploadId).toEqual(expect.any(String))
      expect(created.ServerSideEncryption).toBe('AES256')
      const parts = []
      for (const [n, p] of [
        [1, part1],
        [2, part2],
      ] as const) {
        const up = await s3api(
          'upload-part',
          '--bucket',
          'cli-main',
          '--key',
          'mpu/object.bin',
          '--upload-id',
          created.UploadId,
          '--part-number',
          String(n),
          '--body',
          p.file,
        )
        expect(up.ETag).toBe(`"${md5(p.data)}"`)
        expect(up.ServerSideEncryption).toBe('AES256')
        // botocore sends a CRC32 of every part by default, although Create declared no algorithm.
        if (up.ChecksumCRC32 !== undefined) expect(up.ChecksumCRC32).toBe(checksumOf('CRC32', p.data))
        parts.push({ PartNumber: n, ETag: up.ETag })
      }
      const partsFile = path.join(work, 'mpu', 'parts.json')
      await writeFile(partsFile, JSON.stringify({ Parts: parts }))
      const done = await s3api(
        'complete-multipart-upload',
        '--bucket',
        'cli-main',
        '--key',
        'mpu/object.bin',
        '--upload-id',
        created.UploadId,
        '--multipart-upload',
        `file://${partsFile}`,
      )
      const expectedEtag = `"${md5(Buffer.concat([part1.data, part2.data].map((d) => createHash('md5').update(d).digest())))}-2"`
      expect(done.ETag).toBe(expectedEtag)
      expect(done.ServerSideEncryption).toBe('AES256')
      // No algorithm at Create: the whole object gets a FULL_OBJECT CRC64NVME (CKS-07).
      const whole = Buffer.concat([part1.data, part2.data])
      expect(done.ChecksumCRC64NVME).toBe(checksumOf('CRC64NVME', whole))
      expect(done.ChecksumType).toBe('FULL_OBJECT')
      const head = await s3api('head-object', '--bucket', 'cli-main', '--key', 'mpu/object.bin')
      expect(head.ContentLength).toBe(5 * MiB + 1_000_001)
      expect(head.ETag).toBe(expectedEtag)
      expect(head.ServerSideEncryption).toBe('AES256')
      const out = path.join(work, 'mpu', 'got.bin')
      await s3api('get-object', '--bucket', 'cli-main', '--key', 'mpu/object.bin', out)
      expect(sha256(await readFile(out))).toBe(sha256(whole))
    })
  })

  describe('s3 presign + curl', () => {
    /** The aws CLI v1 presigns with SigV2 unless told otherwise; this config asks for SigV4. */
    const sigv4Env = async () => {
      const cfg = path.join(work, 'aws-config-s3v4')
      await writeFile(cfg, '[default]\ns3 =\n    signature_version = s3v4\n')
      return { ...env, AWS_CONFIG_FILE: cfg }
    }

    it('a SigV4 presigned GET URL fetched with curl returns the exact bytes (PRE-12)', async () => {
      const key = 'presign/with space ☕+plus.bin'
      const { file, data } = await randomFile('presign/obj.bin', 200_000)
      await aws('s3', 'cp', '--no-progress', file, `s3://cli-main/${key}`)
      const url = (
        await run('aws', ['s3', 'presign', `s3://cli-main/${key}`, '--expires-in', '600'], await sigv4Env())
      ).stdout.trim()
      expect(url).toContain('X-Amz-Algorithm=AWS4-HMAC-SHA256')
      const out = path.join(work, 'presign', 'got.bin')
      // --fail: an HTTP error is a non-zero exit, not an error document saved as the body.
      const res = await run(
        'curl',
        ['--silent', '--show-error', '--fail', '--output', out, '--write-out', '%{http_code}', url],
        env,
      )
      expect(res.stdout).toBe('200')
      const back = await readFile(out)
      expect(back.length).toBe(data.length)
      expect(sha256(back)).toBe(sha256(data))
    })

    it('the CLI v1 default (SigV2) presigned URL fetched with curl -f returns the exact bytes', async () => {
      const key = 'presign/v2 ☕+plus.bin'
      const { file, data } = await randomFile('presign/v2.bin', 100_000)
      await aws('s3', 'cp', '--no-progress', file, `s3://cli-main/${key}`)
      const url = (await aws('s3', 'presign', `s3://cli-main/${key}`, '--expires-in', '600')).trim()
      expect(url).toContain('AWSAccessKeyId=')
      const out = path.join(work, 'presign', 'got-v2.bin')
      const res = await run(
        'curl',
        ['--silent', '--show-error', '--fail', '--output', out, '--write-out', '%{http_code}', url],
        env,
      )
      expect(res.stdout).toBe('200')
      expect(sha256(await readFile(out))).toBe(sha256(data))
      // A changed signature fails (curl -f exits non-zero and writes no file).
      const bad = url.replace(/Signature=[^&]+/, 'Signature=AAAA')
      const denied = await run('curl', ['--silent', '--write-out', '\n%{http_code}', bad], env)
      expect(denied.stdout.slice(denied.stdout.lastIndexOf('\n') + 1)).toBe('403')
      expect(denied.stdout).toContain('<Code>SignatureDoesNotMatch</Code>')
    })
  })

  describe('boto3', () => {
    const script = String.raw`
import hashlib, json, os, sys
try:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config
except ImportError as e:
    print("MISSING-BOTO3: " + str(e), file=sys.stderr)
    sys.exit(3)

s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
bucket = "boto3-bucket"
out = {}
s3.create_bucket(Bucket=bucket)
body = os.urandom(70000)
put = s3.put_object(Bucket=bucket, Key="small/obj ☕.bin", Body=body, Metadata={"via": "boto3"})
out["put_sse"] = put.get("ServerSideEncryption")
out["put_etag_ok"] = put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
got = s3.get_object(Bucket=bucket, Key="small/obj ☕.bin")
out["get_ok"] = got["Body"].read() == body
out["get_sse"] = got.get("ServerSideEncryption")
head = s3.head_object(Bucket=bucket, Key="small/obj ☕.bin")
out["head_sse"] = head.get("ServerSideEncryption")
out["head_len"] = head["ContentLength"]
out["head_meta"] = head["Metadata"]

big_path = os.path.join(os.environ["WORK"], "boto3-big.bin")
big = os.urandom(12 * 1024 * 1024 + 7)
with open(big_path, "wb") as f:
    f.write(big)
cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024, max_concurrency=3)
s3.upload_file(big_path, bucket, "big/multipart.bin", Config=cfg)
bhead = s3.head_object(Bucket=bucket, Key="big/multipart.bin")
out["big_etag"] = bhead["ETag"]
out["big_sse"] = bhead.get("ServerSideEncryption")
out["big_len"] = bhead["ContentLength"]
down_path = os.path.join(os.environ["WORK"], "boto3-big-down.bin")
s3.download_file(bucket, "big/multipart.bin", down_path, Config=cfg)
with open(down_path, "rb") as f:
    out["big_ok"] = f.read() == big

listed = s3.list_objects_v2(Bucket=bucket)
out["keys"] = [o["Key"] for o in listed.get("Contents", [])]
out["sizes"] = [o["Size"] for o in listed.get("Contents", [])]
print(json.dumps(out))
`

    it('put/get/head/list and upload_file with a 5 MiB TransferConfig threshold (multipart, 3 parts) round-trip under SSE-S3', async () => {
      let stdout: string
      try {
        stdout = (
          await run('python3', ['-c', script], {
            ...env,
            ENDPOINT: server.endpoint,
            WORK: work,
            PYTHONIOENCODING: 'utf-8',
          })
        ).stdout
      } catch (e) {
        const err = e as ToolFailure
        if (err.stderr?.includes('MISSING-BOTO3'))
          throw new Error(
            `required Python package boto3 is missing for python3: install it (pip install boto3). ${err.stderr}`,
          )
        throw err
      }
      const out = JSON.parse(stdout)
      expect(out).toEqual({
        put_sse: 'AES256',
        put_etag_ok: true,
        get_ok: true,
        get_sse: 'AES256',
        head_sse: 'AES256',
        head_len: 70000,
        head_meta: { via: 'boto3' },
        big_etag: expect.stringMatching(/^"[0-9a-f]{32}-3"$/),
        big_sse: 'AES256',
        big_len: 12 * MiB + 7,
        big_ok: true,
        keys: ['big/multipart.bin', 'small/obj ☕.bin'],
        sizes: [12 * MiB + 7, 70000],
      })
    })
  })
})
