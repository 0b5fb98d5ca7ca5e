/** @module The streaming multipart/form-data reader of POST Object and the POST policy checks. */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { S3Error } from '../../server/s3/errors.js'
import { formBoundary, MAX_PRE_FILE_BYTES, readPostForm } from '../../server/s3/form-data.js'
import { checkPolicy, parsePolicy } from '../../server/s3/post-policy.js'

const B = 'XyZ--boundary--123'

function form(fields: Array<[string, string]>, file?: { name?: string; data: Buffer }, after = ''): Buffer {
  const parts: Buffer[] = []
  for (const [n, v] of fields)
    parts.push(Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`))
  if (file) {
    parts.push(
      Buffer.from(
        `--${B}\r\nContent-Disposition: form-data; name="file"; filename="${file.name ?? 'C:\\dir\\f.bin'}"\r\nContent-Type: image/png\r\n\r\n`,
      ),
    )
    parts.push(file.data, Buffer.from('\r\n'))
  }
  parts.push(Buffer.from(after + `--${B}--\r\n`))
  return Buffer.concat(parts)
}

/** The body cut into chunks of `size` bytes (1 puts every boundary across chunks). */
async function* chunks(body: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size)
}

async function readAll(body: Buffer, size: number) {
  const f = await readPostForm(chunks(body, size), B)
  const got: Buffer[] = []
  let largest = 0
  for await (const c of f.file.stream) {
    largest = Math.max(largest, c.length)
    got.push(c)
  }
  await f.finish()
  return {
    fields: f.fields,
    filename: f.file.filename,
    contentType: f.file.contentType,
    data: Buffer.concat(got),
    largest,
  }
}

function s3Code(err: unknown): string {
  expect(err).toBeInstanceOf(S3Error)
  return (err as S3Error).code
}

describe('readPostForm', () => {
  const data = Buffer.concat([randomBytes(70_000), Buffer.from(`\r\n--${B.slice(0, 10)}`), randomBytes(1000)])
  const body = form(
    [
      ['key', 'a/${filename}'],
      ['x-amz-meta-a', 'é'],
      ['policy', 'cG9s'],
    ],
    { data },
    `--${B}\r\nContent-Disposition: form-data; name="after"\r\n\r\nignored\r\n`,
  )

  it.each([1, 2, 7, 64, 1000, 65536, body.length])(
    'reads fields and the file the same in chunks of %i bytes (boundaries split across chunks)',
    async (size) => {
      const got = await readAll(body, size)
      expect(got.fields).toEqual([
        ['key', 'a/${filename}'],
        ['x-amz-meta-a', 'é'],
        ['policy', 'cG9s'],
      ])
      expect(got.filename).toBe('f.bin')
      expect(got.contentType).toBe('image/png')
      expect(got.data.equals(data)).toBe(true)
      // Never more than one input chunk is held: the file is streamed, not buffered.
      expect(got.largest).toBeLessThanOrEqual(Math.max(size, 2 * B.length + 8))
    },
  )

  it('an empty file is a file', async () => {
    const got = await readAll(form([['key', 'k']], { data: Buffer.alloc(0) }), 3)
    expect(got.data.length).toBe(0)
  })

  it('fields before the file over 20 KB answer MaxPostPreDataLengthExceeded (also one huge field without an end)', async () => {
    const big = form(
      [
        ['key', 'k'],
        ['x-amz-meta-big', 'v'.repeat(MAX_PRE_FILE_BYTES)],
      ],
      { data: Buffer.from('x') },
    )
    await expect(readPostForm(chunks(big, 4096), B)).rejects.toSatisfy(
      (e) => s3Code(e) === 'MaxPostPreDataLengthExceeded',
    )
    async function* endless(): AsyncGenerator<Buffer> {
      yield Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\n`)
      for (let i = 0; i < 1000; i++) yield Buffer.alloc(1024, 0x61)
    }
    await expect(readPostForm(endless(), B)).rejects.toSatisfy((e) => s3Code(e) === 'MaxPostPreDataLengthExceeded')
  })

  it('no file field answers InvalidArgument; a truncated form or bad part headers answer MalformedPOSTRequest', async () => {
    await expect(readPostForm(chunks(form([['key', 'k']]), 5), B)).rejects.toSatisfy(
      (e) => s3Code(e) === 'InvalidArgument',
    )
    const cut = body.subarray(0, body.length - 200)
    const f = await readPostForm(chunks(cut, 100), B)
    await expect(
      (async () => {
        for await (const _ of f.file.stream) {
          /* drain */
        }
      })(),
    ).rejects.toSatisfy((e) => s3Code(e) === 'MalformedPOSTRequest')
    const noName = Buffer.from(`--${B}\r\nContent-Disposition: form-data\r\n\r\nv\r\n--${B}--\r\n`)
    await expect(readPostForm(chunks(noName, 8), B)).rejects.toSatisfy((e) => s3Code(e) === 'MalformedPOSTRequest')
    await expect(readPostForm(chunks(Buffer.from('garbage'), 8), B)).rejects.toSatisfy(
      (e) => s3Code(e) === 'MalformedPOSTRequest',
    )
  })

  it('formBoundary takes multipart/form-data only', () => {
    expect(formBoundary('multipart/form-data; boundary=abc')).toBe('abc')
    expect(formBoundary('multipart/form-data; charset=utf-8; boundary="a b"')).toBe('a b')
    for (const t of [undefined, 'text/plain', 'multipart/form-data', 'multipart/mixed; boundary=x']) {
      expect(() => formBoundary(t)).toThrow(S3Error)
    }
  })
})

describe('POST policy', () => {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64')
  const now = new Date('2026-01-01T00:00:00Z')
  const policy = (conditions: unknown[]) => parsePolicy(b64({ expiration: '2026-01-02T00:00:00.000Z', conditions }))

  it('exact, eq, starts-with (empty prefix: any value) and content-length-range; field names case-insensitive', () => {
    const p = policy([
      { bucket: 'b' },
      ['eq', '$Key', 'k'],
      ['starts-with', '$Content-Type', ''],
      ['content-length-range', 1, 10],
    ])
    expect(
      checkPolicy(
        p,
        new Map([
          ['key', 'k'],
          ['content-type', 'x/y'],
          ['policy', '…'],
          ['x-amz-signature', 's'],
          ['x-ignore-me', '1'],
        ]),
        'b',
        now,
      ),
    ).toEqual({ min: 1, max: 10 })
  })

  it('refusals carry AWS messages', () => {
    const fields = new Map([['key', 'k']])
    expect(() => checkPolicy(policy([{ key: 'k' }]), fields, 'b', new Date('2026-01-02T00:00:00Z'))).toThrow(
      'Invalid according to Policy: Policy expired.',
    )
    expect(() => checkPolicy(policy([]), fields, 'b', now)).toThrow(
      'Invalid according to Policy: Extra input fields: key',
    )
    expect(() => checkPolicy(policy([{ key: 'k' }, { bucket: 'other' }]), fields, 'b', now)).toThrow(
      'Policy Condition failed: ["eq", "$bucket", "other"]',
    )
    expect(() => checkPolicy(policy([['starts-with', '$key', 'x']]), fields, 'b', now)).toThrow(
      'Policy Condition failed: ["starts-with", "$key", "x"]',
    )
    expect(() => checkPolicy(policy([{ key: 'k' }, { acl: 'private' }]), fields, 'b', now)).toThrow(
      'Policy Condition failed',
    )
  })

  it.each([
    ['not base64', '%%%'],
    ['not JSON', Buffer.from('{').toString('base64')],
    ['no expiration', b64({ conditions: [] })],
    ['bad expiration', b64({ expiration: 'tomorrow', conditions: [] })],
    ['no conditions', b64({ expiration: '2026-01-02T00:00:00Z' })],
    ['unknown operator', b64({ expiration: '2026-01-02T00:00:00Z', conditions: [['gt', '$key', 'a']] })],
    ['bad range', b64({ expiration: '2026-01-02T00:00:00Z', conditions: [['content-length-range', 5, 1]] })],
    ['two-property simple condition', b64({ expiration: '2026-01-02T00:00:00Z', conditions: [{ a: '1', b: '2' }] })],
  ])('%s answers InvalidPolicyDocument', (_name, text) => {
    let caught: unknown
    try {
      parsePolicy(text)
    } catch (e) {
      caught = e
    }
    expect(s3Code(caught)).toBe('InvalidPolicyDocument')
  })
})
