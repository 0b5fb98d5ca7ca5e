/**
 * @module E2E: POST Object (browser form uploads) — boto3's generate_presigned_post (SigV2 with a
 * default client, SigV4 with s3v4) posted with python requests, forms signed here and posted with
 * Node's fetch + FormData, the policy refusals, success_action_*, SSE fields and --sigv4-only.
 */
import {
  CreateBucketCommand,
  DeletePublicAccessBlockCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketPolicyCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'
import { runTool, toolEnv } from '../support/tools.js'

const BOTO3 = String.raw`
import json, os, sys
try:
    import boto3, requests
    from botocore.config import Config
except ImportError as e:
    print("MISSING-BOTO3: " + str(e), file=sys.stderr)
    sys.exit(3)
kw = dict(endpoint_url=os.environ["ENDPOINT"], region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
out = {}
for name, cfg in [("v2", Config(s3={"addressing_style": "path"})), ("v4", Config(signature_version="s3v4", s3={"addressing_style": "path"}))]:
    s3 = boto3.client("s3", config=cfg, **kw)
    post = s3.generate_presigned_post("post-boto3", ("uploads/%s/$" % name) + "{filename}",
        Fields={"success_action_status": "201", "Content-Type": "text/plain"},
        Conditions=[{"success_action_status": "201"}, ["starts-with", "$Content-Type", "text/"], ["content-length-range", 1, 1048576]],
        ExpiresIn=300)
    r = requests.post(post["url"], data=post["fields"], files={"file": ("hello ☕.txt", b"hello from " + name.encode())})
    out[name] = {"status": r.status_code, "body": r.text, "fields": sorted(post["fields"].keys())}
    r = requests.post(post["url"], data=post["fields"], files={"file": ("big.bin", b"x" * 1048577)})
    out[name + "_too_large"] = [r.status_code, "<Code>EntityTooLarge</Code>" in r.text]
print(json.dumps(out))
`

const SECRET = 'test'
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64')
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest()

/** Fields of a SigV4-signed form (the AWS recipe, computed independently of the server). */
function signedV4(policy: Record<string, unknown>, now = new Date()): Record<string, string> {
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
  const day = amzDate.slice(0, 8)
  const credential = `test/${day}/us-east-1/s3/aws4_request`
  const extra = [
    { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
    { 'x-amz-credential': credential },
    { 'x-amz-date': amzDate },
  ]
  const doc = { ...policy, conditions: [...(policy.conditions as unknown[]), ...extra] }
  const encoded = b64(doc)
  const key = hmac(hmac(hmac(hmac('AWS4' + SECRET, day), 'us-east-1'), 's3'), 'aws4_request')
  return {
    policy: encoded,
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': credential,
    'x-amz-date': amzDate,
    'x-amz-signature': createHmac('sha256', key).update(encoded).digest('hex'),
  }
}

function signedV2(policy: Record<string, unknown>): Record<string, string> {
  const encoded = b64(policy)
  return {
    policy: encoded,
    AWSAccessKeyId: 'test',
    signature: createHmac('sha1', SECRET).update(encoded).digest('base64'),
  }
}

const inOneHour = () => new Date(Date.now() + 3600_000).toISOString()

async function postForm(
  url: string,
  fields: Record<string, string>,
  file: Uint8Array | string,
  filename = 'f.bin',
): Promise<{ status: number; text: string; headers: Headers }> {
  const form = new FormData()
  for (const [k, v] of Object.entries(fields)) form.append(k, v)
  form.append('file', new Blob([file]), filename)
  const res = await fetch(url, { method: 'POST', body: form, redirect: 'manual' })
  return { status: res.status, text: await res.text(), headers: res.headers }
}

describe('POST Object', () => {
  let srv: TestServer
  let s3: S3Client
  let url: string

  beforeAll(async () => {
    srv = await startTestServer()
    s3 = makeClient(srv.endpoint)
    for (const b of ['post-boto3', 'post-form', 'post-public']) await s3.send(new CreateBucketCommand({ Bucket: b }))
    url = `${srv.endpoint}/post-form`
  })
  afterAll(async () => {
    await srv?.close()
  })

  it('boto3 generate_presigned_post (SigV2 default client and s3v4) posted with requests: 201 PostResponse, ${filename}, content-length-range', async () => {
    let stdout: string
    try {
      stdout = (await runTool('python3', ['-c', BOTO3], toolEnv({ ENDPOINT: srv.endpoint, PYTHONIOENCODING: 'utf-8' })))
        .stdout
    } catch (e) {
      if ((e as Error).message.includes('MISSING-BOTO3'))
        throw new Error(`required Python packages boto3 and requests are missing: ${(e as Error).message}`)
      throw e
    }
    const out = JSON.parse(stdout) as Record<
      string,
      { status: number; body: string; fields: string[] } | [number, boolean]
    >
    for (const name of ['v2', 'v4'] as const) {
      const r = out[name] as { status: number; body: string; fields: string[] }
      expect(r.status, r.body).toBe(201)
      expect(r.body).toContain(`<Key>uploads/${name}/hello ☕.txt</Key>`)
      expect(r.body).toContain('<Bucket>post-boto3</Bucket>')
      expect(r.body).toMatch(/<ETag>&quot;[0-9a-f]{32}&quot;<\/ETag>/)
      const got = await s3.send(new GetObjectCommand({ Bucket: 'post-boto3', Key: `uploads/${name}/hello ☕.txt` }))
      expect(await got.Body?.transformToString()).toBe(`hello from ${name}`)
      expect(got.ContentType).toBe('text/plain')
      expect(got.ServerSideEncryption).toBe('AES256')
      expect(out[`${name}_too_large`]).toEqual([400, true])
    }
    expect((out.v2 as { fields: string[] }).fields).toContain('AWSAccessKeyId')
    expect((out.v4 as { fields: string[] }).fields).toContain('x-amz-signature')
  })

  it('fetch + FormData, SigV4 and SigV2: default 204 with Location, metadata, checksum; success_action_redirect answers 303', async () => {
    const data = randomBytes(300_000)
    const crc = createHash('sha256').update(data).digest('base64')
    const conditions = [
      { bucket: 'post-form' },
      ['starts-with', '$key', 'f/'],
      ['starts-with', '$x-amz-meta-color', ''],
      ['eq', '$x-amz-checksum-sha256', crc],
    ]
    const fields = {
      key: 'f/v4.bin',
      'x-amz-meta-color': 'blue',
      'x-amz-checksum-sha256': crc,
      ...signedV4({ expiration: inOneHour(), conditions }),
    }
    const r = await postForm(url, fields, data)
    expect(r.status, r.text).toBe(204)
    expect(r.headers.get('location')).toBe(`${srv.endpoint}/post-form/f/v4.bin`)
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'post-form', Key: 'f/v4.bin', ChecksumMode: 'ENABLED' }))
    expect(head.Metadata).toEqual({ color: 'blue' })
    expect(head.ChecksumSHA256).toBe(crc)
    expect(head.ContentLength).toBe(data.length)

    const v2 = await postForm(
      url,
      {
        key: 'f/v2.txt',
        success_action_redirect: 'http://127.0.0.1/done?x=1',
        ...signedV2({
          expiration: inOneHour(),
          conditions: [
            { bucket: 'post-form' },
            ['starts-with', '$key', 'f/'],
            ['eq', '$success_action_redirect', 'http://127.0.0.1/done?x=1'],
          ],
        }),
      },
      'v2 body',
    )
    expect(v2.status, v2.text).toBe(303)
    const loc = new URL(v2.headers.get('location') ?? '')
    expect([loc.searchParams.get('x'), loc.searchParams.get('bucket'), loc.searchParams.get('key')]).toEqual([
      '1',
      'post-form',
      'f/v2.txt',
    ])
    expect(loc.searchParams.get('etag')).toMatch(/^"[0-9a-f]{32}"$/)
  })

  it('SSE-C and SSE-KMS form fields encrypt as PutObject does; SSE-KMS over a SigV2 form is refused', async () => {
    const kms = await postForm(
      url,
      {
        key: 'f/kms',
        'x-amz-server-side-encryption': 'aws:kms',
        ...signedV4({
          expiration: inOneHour(),
          conditions: [{ bucket: 'post-form' }, { key: 'f/kms' }, { 'x-amz-server-side-encryption': 'aws:kms' }],
        }),
      },
      'kms data',
    )
    expect(kms.status, kms.text).toBe(204)
    expect(kms.headers.get('x-amz-server-side-encryption')).toBe('aws:kms')
    const kmsV2 = await postForm(
      url,
      {
        key: 'f/kms2',
        'x-amz-server-side-encryption': 'aws:kms',
        ...signedV2({
          expiration: inOneHour(),
          conditions: [{ bucket: 'post-form' }, { key: 'f/kms2' }, { 'x-amz-server-side-encryption': 'aws:kms' }],
        }),
      },
      'x',
    )
    expect(kmsV2.status).toBe(400)
    expect(kmsV2.text).toContain('require AWS Signature Version 4')
    // New buckets block SSE-C (AWS since April 2026): the form gets PutObject's answer.
    const key = randomBytes(32)
    const ssec = {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key': key.toString('base64'),
      'x-amz-server-side-encryption-customer-key-md5': createHash('md5').update(key).digest('base64'),
    }
    const conds = [{ bucket: 'post-form' }, { key: 'f/ssec' }, ...Object.entries(ssec).map(([k, v]) => ({ [k]: v }))]
    const blocked = await postForm(
      url,
      { key: 'f/ssec', ...ssec, ...signedV4({ expiration: inOneHour(), conditions: conds }) },
      'secret',
    )
    expect(blocked.status).toBe(403)
    expect(blocked.text).toContain('<Code>AccessDenied</Code>')
    expect(blocked.text).not.toContain(key.toString('base64'))
  })

  const refusals: Array<{
    name: string
    build: () => Record<string, string>
    file?: string
    status: number
    code: string
    message?: string
  }> = [
    {
      name: 'expired policy',
      build: () => ({
        key: 'f/x',
        ...signedV4({ expiration: '2020-01-01T00:00:00Z', conditions: [{ bucket: 'post-form' }, { key: 'f/x' }] }),
      }),
      status: 403,
      code: 'AccessDenied',
      message: 'Invalid according to Policy: Policy expired.',
    },
    {
      name: 'a field without a condition',
      build: () => ({
        key: 'f/x',
        'x-amz-meta-a': '1',
        ...signedV4({ expiration: inOneHour(), conditions: [{ bucket: 'post-form' }, { key: 'f/x' }] }),
      }),
      status: 403,
      code: 'AccessDenied',
      message: 'Invalid according to Policy: Extra input fields: x-amz-meta-a',
    },
    {
      name: 'an eq condition that fails',
      build: () => ({
        key: 'f/y',
        ...signedV4({ expiration: inOneHour(), conditions: [{ bucket: 'post-form' }, ['eq', '$key', 'f/x']] }),
      }),
      status: 403,
      code: 'AccessDenied',
      message: 'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "f/x"]',
    },
    {
      name: 'a starts-with condition that fails',
      build: () => ({
        key: 'g/x',
        ...signedV4({ expiration: inOneHour(), conditions: [{ bucket: 'post-form' }, ['starts-with', '$key', 'f/']] }),
      }),
      status: 403,
      code: 'AccessDenied',
    },
    {
      name: 'the wrong bucket',
      build: () => ({
        key: 'f/x',
        ...signedV4({ expiration: inOneHour(), conditions: [{ bucket: 'other' }, { key: 'f/x' }] }),
      }),
      status: 403,
      code: 'AccessDenied',
    },
    {
      name: 'below content-length-range',
      build: () => ({
        key: 'f/x',
        ...signedV4({
          expiration: inOneHour(),
          conditions: [{ bucket: 'post-form' }, { key: 'f/x' }, ['content-length-range', 10, 20]],
        }),
      }),
      file: 'short',
      status: 400,
      code: 'EntityTooSmall',
    },
    {
      name: 'a bad signature',
      build: () => ({
        key: 'f/x',
        ...signedV4({ expiration: inOneHour(), conditions: [{ bucket: 'post-form' }, { key: 'f/x' }] }),
        'x-amz-signature': '0'.repeat(64),
      }),
      status: 403,
      code: 'SignatureDoesNotMatch',
    },
    {
      name: 'no key field',
      build: () => signedV4({ expiration: inOneHour(), conditions: [{ bucket: 'post-form' }] }),
      status: 400,
      code: 'InvalidArgument',
      message:
        "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
    },
    {
      name: 'a policy that is not JSON',
      build: () => ({
        key: 'f/x',
        policy: Buffer.from('nope').toString('base64'),
        AWSAccessKeyId: 'test',
        signature: createHmac('sha1', SECRET).update(Buffer.from('nope').toString('base64')).digest('base64'),
      }),
      status: 400,
      code: 'InvalidPolicyDocument',
    },
    {
      name: 'a policy without expiration',
      build: () => ({ key: 'f/x', ...signedV2({ conditions: [] }) }),
      status: 400,
      code: 'InvalidPolicyDocument',
      message: 'Invalid Policy: Policy missing expiration.',
    },
    {
      name: 'a tagging field that is not a Tagging document',
      build: () => ({
        key: 'f/x',
        tagging: '<Tagging><Nope/></Tagging>',
        ...signedV4({
          expiration: inOneHour(),
          conditions: [{ bucket: 'post-form' }, { key: 'f/x' }, { tagging: '<Tagging><Nope/></Tagging>' }],
        }),
      }),
      status: 400,
      code: 'MalformedXML',
    },
    {
      name: 'a public-read acl on a BucketOwnerEnforced bucket',
      build: () => ({
        key: 'f/x',
        acl: 'public-read',
        ...signedV4({
          expiration: inOneHour(),
          conditions: [{ bucket: 'post-form' }, { key: 'f/x' }, { acl: 'public-read' }],
        }),
      }),
      status: 400,
      code: 'AccessControlListNotSupported',
    },
    { name: 'an anonymous form on a private bucket', build: () => ({ key: 'f/x' }), status: 403, code: 'AccessDenied' },
  ]
  it.each(refusals)('$name answers $status $code', async ({ build, file, status, code, message }) => {
    const r = await postForm(url, build(), file ?? 'data')
    expect(r.status, r.text).toBe(status)
    expect(r.text).toContain(`<Code>${code}</Code>`)
    if (message)
      expect(r.text).toContain(
        `<Message>${message.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')}</Message>`,
      )
  })

  it('the tagging field tags the object as x-amz-tagging does on PutObject', async () => {
    const tagging =
      '<Tagging><TagSet><Tag><Key>team</Key><Value>a b</Value></Tag><Tag><Key>k&#43;1</Key><Value>v=1</Value></Tag></TagSet></Tagging>'
    const r = await postForm(
      url,
      {
        key: 'f/tagged',
        tagging,
        ...signedV4({
          expiration: inOneHour(),
          conditions: [{ bucket: 'post-form' }, { key: 'f/tagged' }, { tagging }],
        }),
      },
      'tagged',
    )
    expect(r.status, r.text).toBe(204)
    const got = await s3.send(new GetObjectTaggingCommand({ Bucket: 'post-form', Key: 'f/tagged' }))
    expect(got.TagSet).toEqual([
      { Key: 'team', Value: 'a b' },
      { Key: 'k+1', Value: 'v=1' },
    ])
  })

  it('a body that is not multipart/form-data, and a form without a file, are refused', async () => {
    const plain = await fetch(url, {
      method: 'POST',
      body: 'key=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(plain.status).toBe(412)
    const form = new FormData()
    form.append('key', 'f/x')
    const nofile = await fetch(url, { method: 'POST', body: form })
    expect(nofile.status).toBe(400)
    expect(await nofile.text()).toContain('<Code>InvalidArgument</Code>')
  })

  it('an anonymous form is accepted where the bucket policy allows anonymous s3:PutObject', async () => {
    // New buckets block public policies, as on AWS: lift that first.
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'post-public' }))
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: 'post-public',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::post-public/drop/*' },
          ],
        }),
      }),
    )
    const ok = await postForm(`${srv.endpoint}/post-public`, { key: 'drop/${filename}' }, 'anonymous', 'a.txt')
    expect(ok.status, ok.text).toBe(204)
    const denied = await postForm(`${srv.endpoint}/post-public`, { key: 'other/a.txt' }, 'anonymous')
    expect(denied.status).toBe(403)
    const got = await s3.send(new GetObjectCommand({ Bucket: 'post-public', Key: 'drop/a.txt' }))
    expect(await got.Body?.transformToString()).toBe('anonymous')
  })
})

describe('POST Object with --sigv4-only', () => {
  let srv: TestServer
  beforeAll(async () => {
    srv = await startTestServer({ args: ['--sigv4-only'] })
    await makeClient(srv.endpoint).send(new CreateBucketCommand({ Bucket: 'strict-post' }))
  })
  afterAll(async () => {
    await srv?.close()
  })

  it('a SigV2 form answers 400 InvalidRequest; a SigV4 form is accepted', async () => {
    const url = `${srv.endpoint}/strict-post`
    const conditions = [{ bucket: 'strict-post' }, { key: 'k' }]
    const v2 = await postForm(url, { key: 'k', ...signedV2({ expiration: inOneHour(), conditions }) }, 'x')
    expect(v2.status).toBe(400)
    expect(v2.text).toContain('Please use AWS4-HMAC-SHA256.')
    const v4 = await postForm(url, { key: 'k', ...signedV4({ expiration: inOneHour(), conditions }) }, 'x')
    expect(v4.status, v4.text).toBe(204)
  })
})
