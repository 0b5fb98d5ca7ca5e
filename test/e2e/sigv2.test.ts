/**
 * @module E2E: Signature V2 — boto3 with `signature_version='s3'` (header auth, multipart),
 * boto3's default `generate_presigned_url` (SigV2 with a default client), raw SigV2 requests
 * (virtual-hosted resource, sub-resources), SSE-KMS refused over SigV2, and `--sigv4-only`.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { createHmac } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'
import { runTool, toolEnv } from '../support/tools.js'

const REFUSED = 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.'

const BOTO3 = String.raw`
import hashlib, json, os, sys, urllib.request, urllib.error
try:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    print("MISSING-BOTO3: " + str(e), file=sys.stderr)
    sys.exit(3)

ep = os.environ["ENDPOINT"]
kw = dict(endpoint_url=ep, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
v2 = boto3.client("s3", config=Config(signature_version="s3", s3={"addressing_style": "path"}, retries={"max_attempts": 1}), **kw)
default = boto3.client("s3", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}), **kw)
out = {}
MiB = 1024 * 1024
bucket = os.environ["BUCKET"]

def code_of(fn):
    try:
        fn()
        return "ok"
    except ClientError as e:
        return "%s %s %s" % (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"], e.response["Error"].get("Message", ""))

def fetch(url, method="GET", data=None, headers={}):
    req = urllib.request.Request(url, method=method, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

if os.environ.get("STRICT") == "1":
    out["header"] = code_of(lambda: v2.list_objects_v2(Bucket=bucket))
    url = default.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300)
    out["presigned_is_v2"] = "AWSAccessKeyId=" in url
    status, body = fetch(url)
    out["presigned"] = [status, body.decode()]
    print(json.dumps(out))
    sys.exit(0)

v2.create_bucket(Bucket=bucket)
body = os.urandom(70000)
key = "dir/obj ☕+plus.bin"
put = v2.put_object(Bucket=bucket, Key=key, Body=body, Metadata={"via": "sigv2"}, ContentType="application/x-test")
out["put_etag_ok"] = put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
out["put_sse"] = put.get("ServerSideEncryption")
got = v2.get_object(Bucket=bucket, Key=key)
out["get_ok"] = got["Body"].read() == body
head = v2.head_object(Bucket=bucket, Key=key)
out["head"] = [head["ContentLength"], head["ContentType"], head["Metadata"]]
big = os.urandom(12 * MiB + 5)
big_path = os.path.join(os.environ["WORK"], "big.bin")
with open(big_path, "wb") as f:
    f.write(big)
cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=2)
v2.upload_file(big_path, bucket, "big/multipart.bin", Config=cfg)
out["big_etag"] = v2.head_object(Bucket=bucket, Key="big/multipart.bin")["ETag"]
down = os.path.join(os.environ["WORK"], "down.bin")
v2.download_file(bucket, "big/multipart.bin", down, Config=cfg)
with open(down, "rb") as f:
    out["big_ok"] = f.read() == big
out["keys"] = [o["Key"] for o in v2.list_objects_v2(Bucket=bucket, Prefix="")["Contents"]]
out["versioning"] = code_of(lambda: v2.get_bucket_versioning(Bucket=bucket))
out["kms_put"] = code_of(lambda: v2.put_object(Bucket=bucket, Key="kms", Body=b"x", ServerSideEncryption="aws:kms"))
out["kms_mpu"] = code_of(lambda: v2.create_multipart_upload(Bucket=bucket, Key="kms", ServerSideEncryption="aws:kms"))
# An SSE-KMS object written with SigV4 cannot be read with SigV2; nor can a bucket default SSE-KMS be used.
v4 = boto3.client("s3", config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}), **kw)
v4.put_object(Bucket=bucket, Key="kms-v4", Body=b"kms", ServerSideEncryption="aws:kms")
out["kms_get"] = code_of(lambda: v2.get_object(Bucket=bucket, Key="kms-v4"))
out["kms_get_v4"] = v4.get_object(Bucket=bucket, Key="kms-v4")["Body"].read().decode()
v4.create_bucket(Bucket=bucket + "-kms")
v4.put_bucket_encryption(Bucket=bucket + "-kms", ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
out["kms_default"] = code_of(lambda: v2.put_object(Bucket=bucket + "-kms", Key="k", Body=b"x"))

# A default client presigns with SigV2.
url = default.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
out["presigned_is_v2"] = "AWSAccessKeyId=" in url and "Signature=" in url
status, data = fetch(url)
out["presigned_get"] = [status, data == body]
# The Content-Type is signed (urllib would otherwise send its form type).
put_url = default.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "presigned-put.bin", "ContentType": "text/plain"}, ExpiresIn=300)
status, _ = fetch(put_url, method="PUT", data=b"via presigned put", headers={"Content-Type": "text/plain"})
out["presigned_put"] = [status, v2.get_object(Bucket=bucket, Key="presigned-put.bin")["Body"].read().decode()]
over = default.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key, "ResponseContentType": "text/plain"}, ExpiresIn=300)
with urllib.request.urlopen(over) as r:
    out["override_type"] = r.headers["Content-Type"]
status, data = fetch(url.replace("Signature=", "Signature=AAAA"))
out["tampered"] = [status, b"<Code>SignatureDoesNotMatch</Code>" in data]
expired = default.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=-10)
status, data = fetch(expired)
out["expired"] = [status, b"<Message>Request has expired</Message>" in data]
v2.delete_object(Bucket=bucket, Key=key)
out["after_delete"] = code_of(lambda: v2.head_object(Bucket=bucket, Key=key))
print(json.dumps(out))
`

async function boto3(endpoint: string, work: string, extra: Record<string, string>): Promise<Record<string, unknown>> {
  try {
    const { stdout } = await runTool(
      'python3',
      ['-c', BOTO3],
      toolEnv({ ENDPOINT: endpoint, WORK: work, PYTHONIOENCODING: 'utf-8', ...extra }),
    )
    return JSON.parse(stdout) as Record<string, unknown>
  } catch (e) {
    const msg = (e as Error).message
    if (msg.includes('MISSING-BOTO3'))
      throw new Error(`required Python package boto3 is missing for python3 (pip install boto3): ${msg}`)
    throw e
  }
}

/** One raw SigV2 header-signed request (an independent signer: the AWS developer guide's recipe). */
function sendV2(
  port: number,
  opts: { method: string; host: string; path: string; resource: string; body?: string },
): Promise<{ status: number; text: string }> {
  const date = new Date().toUTCString()
  const sts = `${opts.method}\n\n\n${date}\n${opts.resource}`
  const signature = createHmac('sha1', 'test').update(sts).digest('base64')
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method,
        path: opts.path,
        headers: { host: opts.host, date, authorization: `AWS test:${signature}` },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(opts.body)
  })
}

describe('Signature V2', () => {
  let srv: TestServer
  let work: string

  beforeAll(async () => {
    srv = await startTestServer()
    work = await mkdtemp(path.join(tmpdir(), 'strongroom-sigv2-'))
  })
  afterAll(async () => {
    await srv?.close()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('boto3 signature_version=s3: put/get/head/list, a 3-part upload_file, presigned GET/PUT of a default client, expiry, SSE-KMS refused', async () => {
    const out = await boto3(srv.endpoint, work, { BUCKET: 'sigv2-boto3' })
    expect(out).toEqual({
      put_etag_ok: true,
      put_sse: 'AES256',
      get_ok: true,
      head: [70000, 'application/x-test', { via: 'sigv2' }],
      big_etag: expect.stringMatching(/^"[0-9a-f]{32}-3"$/),
      big_ok: true,
      keys: ['big/multipart.bin', 'dir/obj ☕+plus.bin'],
      versioning: 'ok',
      kms_put:
        '400 InvalidArgument Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.',
      kms_mpu:
        '400 InvalidArgument Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.',
      kms_get:
        '400 InvalidArgument Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.',
      kms_get_v4: 'kms',
      kms_default:
        '400 InvalidArgument Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.',
      presigned_is_v2: true,
      presigned_get: [200, true],
      presigned_put: [200, 'via presigned put'],
      override_type: 'text/plain',
      tampered: [403, true],
      expired: [403, true],
      after_delete: '404 404 Not Found',
    })
  })

  it('raw SigV2: a virtual-hosted request signs /<bucket>/<key>; sub-resources are in the resource', async () => {
    const s3 = makeClient(srv.endpoint)
    await s3.send(new CreateBucketCommand({ Bucket: 'sigv2-raw' }))
    await s3.send(new PutObjectCommand({ Bucket: 'sigv2-raw', Key: 'k.txt', Body: 'raw v2' }))
    const vhost = await sendV2(srv.port, {
      method: 'GET',
      host: `sigv2-raw.localhost:${srv.port}`,
      path: '/k.txt',
      resource: '/sigv2-raw/k.txt',
    })
    expect(vhost).toEqual({ status: 200, text: 'raw v2' })
    const versioning = await sendV2(srv.port, {
      method: 'GET',
      host: `127.0.0.1:${srv.port}`,
      path: '/sigv2-raw?versioning',
      resource: '/sigv2-raw?versioning',
    })
    expect(versioning.status).toBe(200)
    expect(versioning.text).toContain('<VersioningConfiguration')
    // The same request signed without its sub-resource does not verify.
    const unsigned = await sendV2(srv.port, {
      method: 'GET',
      host: `127.0.0.1:${srv.port}`,
      path: '/sigv2-raw?versioning',
      resource: '/sigv2-raw',
    })
    expect(unsigned.status).toBe(403)
    expect(unsigned.text).toContain('<Code>SignatureDoesNotMatch</Code>')
  })
})

describe('--sigv4-only', () => {
  let srv: TestServer
  let work: string

  beforeAll(async () => {
    srv = await startTestServer({ args: ['--sigv4-only'] })
    work = await mkdtemp(path.join(tmpdir(), 'strongroom-sigv4only-'))
    const s3 = makeClient(srv.endpoint)
    await s3.send(new CreateBucketCommand({ Bucket: 'strict' }))
    await s3.send(new PutObjectCommand({ Bucket: 'strict', Key: 'k', Body: 'v4 still works' }))
  })
  afterAll(async () => {
    await srv?.close()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('SigV2 header auth and presigned URLs answer 400 InvalidRequest; SigV4 still works', async () => {
    const out = await boto3(srv.endpoint, work, { BUCKET: 'strict', STRICT: '1' })
    expect(out.header).toBe(`400 InvalidRequest ${REFUSED}`)
    expect(out.presigned_is_v2).toBe(true)
    const [status, body] = out.presigned as [number, string]
    expect(status).toBe(400)
    expect(body).toContain('<Code>InvalidRequest</Code>')
    expect(body).toContain(`<Message>${REFUSED}</Message>`)
    const raw = await sendV2(srv.port, {
      method: 'GET',
      host: `127.0.0.1:${srv.port}`,
      path: '/strict/k',
      resource: '/strict/k',
    })
    expect(raw.status).toBe(400)
    const got = await makeClient(srv.endpoint).send(new GetObjectCommand({ Bucket: 'strict', Key: 'k' }))
    expect(await got.Body?.transformToString()).toBe('v4 still works')
  })
})
