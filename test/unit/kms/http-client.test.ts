/**
 * @module Unit tests of the HTTP KMS client against undici's MockAgent (docs/architecture.md#tests): signing and
 * framing, 4xx mapping, retries on 5xx/throttling/network errors, timeouts, bounds, the decrypt cache.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MockAgent } from 'undici'
import { HttpKmsClient, type HttpKmsClientOptions } from '../../../kms/http-client.js'
import { KmsError } from '../../../kms/types.js'
import { authenticateKms } from '../../../server/s3/auth/kms.js'
import { kmsErrorOf } from './helpers.js'

const ORIGIN = 'http://kms.test:4599'
const ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'
const NOW = new Date('2026-05-01T12:00:00Z')
const JSON_HEADERS = { 'content-type': 'application/x-amz-json-1.1' }

interface Seen {
  target: string
  body: Record<string, unknown>
  headers: Record<string, string>
}

let agent: MockAgent
let seen: Seen[]

beforeEach(() => {
  agent = new MockAgent()
  agent.disableNetConnect()
  seen = []
})

afterEach(async () => {
  await agent.close()
})

function client(extra: Partial<HttpKmsClientOptions> = {}): HttpKmsClient {
  return new HttpKmsClient({
    endpoint: ORIGIN,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret/key+1' },
    dispatcher: agent,
    backoffBaseMs: 1,
    now: () => NOW,
    ...extra,
  })
}

type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | Error

/** Intercepts the next POST / answering each reply in turn (recording what was sent). */
function replies(...answers: Reply[]): void {
  const pool = agent.get(ORIGIN)
  for (const answer of answers) {
    const scope = pool.intercept({ path: '/', method: 'POST' })
    if (answer instanceof Error) {
      scope.replyWithError(answer)
      continue
    }
    scope.reply((opts) => {
      const headers = Object.fromEntries(
        Object.entries(opts.headers as Record<string, string>).map(([k, v]) => [k.toLowerCase(), String(v)]),
      )
      seen.push({ target: headers['x-amz-target'], body: JSON.parse(String(opts.body)), headers })
      const data = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {})
      return { statusCode: answer.status, data, responseOptions: { headers: { ...JSON_HEADERS, ...answer.headers } } }
    })
  }
}

const fault = (type: string, message?: string, status = 400): Reply => ({
  status,
  body: message === undefined ? { __type: type } : { __type: type, message },
})

describe('HttpKmsClient framing and signing', () => {
  it('GenerateDataKey sends TrentService.GenerateDataKey as x-amz-json-1.1, SigV4 for kms in the region, and parses the answer', async () => {
    const plaintext = Buffer.alloc(32, 0xab)
    replies({
      status: 200,
      body: {
        KeyId: ARN,
        Plaintext: plaintext.toString('base64'),
        CiphertextBlob: Buffer.from('blob').toString('base64'),
      },
    })
    const out = await client().generateDataKey({ keyId: 'alias/app', context: { 'aws:s3:arn': 'arn:aws:s3:::b/k' } })
    expect(out).toEqual({ plaintext, ciphertextBlob: Buffer.from('blob'), keyArn: ARN })
    const [req] = seen
    expect(req.target).toBe('TrentService.GenerateDataKey')
    expect(req.headers['content-type']).toBe('application/x-amz-json-1.1')
    expect(req.body).toEqual({
      KeyId: 'alias/app',
      KeySpec: 'AES_256',
      EncryptionContext: { 'aws:s3:arn': 'arn:aws:s3:::b/k' },
    })
    expect(req.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/20260501\/eu-west-1\/kms\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=[0-9a-f]{64}$/,
    )
    // The store's own verifier accepts the client's signature over the exact body.
    const ctx = authenticateKms(
      { method: 'POST', path: '/', query: [], headers: { ...req.headers, host: 'kms.test:4599' }, now: NOW },
      {
        lookup: (id) =>
          id === 'AKIDTEST'
            ? { secretAccessKey: 'secret/key+1', accountId: '111122223333', principalArn: 'p' }
            : undefined,
        region: 'eu-west-1',
        maxSkewSeconds: 300,
      },
      JSON.stringify(req.body),
    )
    expect(ctx?.scope).toBe('20260501/eu-west-1/kms/aws4_request')
  })

  it('an empty context is not sent; a session token is signed as x-amz-security-token', async () => {
    replies({
      status: 200,
      body: { KeyId: ARN, Plaintext: Buffer.alloc(32).toString('base64'), CiphertextBlob: 'AA==' },
    })
    await client({
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 's', sessionToken: 'tok' },
    }).generateDataKey({ keyId: 'k', context: {} })
    expect(seen[0].body).toEqual({ KeyId: 'k', KeySpec: 'AES_256' })
    expect(seen[0].headers['x-amz-security-token']).toBe('tok')
    expect(seen[0].headers.authorization).toContain('x-amz-security-token')
  })

  it('Decrypt, Encrypt, ReEncrypt and DescribeKey map their members', async () => {
    replies(
      { status: 200, body: { KeyId: ARN, Plaintext: 'AQID' } },
      { status: 200, body: { KeyId: ARN, CiphertextBlob: 'BAU=' } },
      { status: 200, body: { KeyId: ARN, SourceKeyId: 'arn:src', CiphertextBlob: 'Bg==' } },
      {
        status: 200,
        body: {
          KeyMetadata: {
            KeyId: 'id',
            Arn: ARN,
            KeyState: 'Disabled',
            Enabled: false,
            KeyManager: 'AWS',
            Description: 'd',
          },
        },
      },
    )
    const c = client()
    expect(await c.decrypt({ ciphertextBlob: Buffer.from('x'), keyId: ARN })).toEqual({
      plaintext: Buffer.from([1, 2, 3]),
      keyArn: ARN,
    })
    expect(seen[0].body).toEqual({ CiphertextBlob: 'eA==', KeyId: ARN })
    expect(await c.encrypt({ keyId: 'k', plaintext: Buffer.from('p'), context: { a: 'b' } })).toEqual({
      ciphertextBlob: Buffer.from([4, 5]),
      keyArn: ARN,
    })
    expect(seen[1].body).toEqual({ KeyId: 'k', Plaintext: 'cA==', EncryptionContext: { a: 'b' } })
    expect(
      await c.reEncrypt({ ciphertextBlob: Buffer.from('x'), destinationKeyId: 'd', sourceContext: { s: '1' } }),
    ).toEqual({
      ciphertextBlob: Buffer.from([6]),
      sourceKeyArn: 'arn:src',
      keyArn: ARN,
    })
    expect(seen[2].body).toEqual({ CiphertextBlob: 'eA==', DestinationKeyId: 'd', SourceEncryptionContext: { s: '1' } })
    expect(await c.describeKey('id')).toEqual({
      keyId: 'id',
      keyArn: ARN,
      state: 'Disabled',
      enabled: false,
      keyManager: 'AWS',
      description: 'd',
    })
  })

  it('a GenerateDataKey answer without a 32-byte key or with a non-JSON body is an error, not a short key', async () => {
    replies(
      { status: 200, body: { KeyId: ARN, Plaintext: 'AQID', CiphertextBlob: 'AA==' } },
      { status: 200, body: '<html>' },
    )
    expect((await kmsErrorOf(client().generateDataKey({ keyId: 'k' }))).reason).toBe('other')
    expect((await kmsErrorOf(client().generateDataKey({ keyId: 'k' }))).reason).toBe('other')
  })
})

describe('HttpKmsClient error mapping (4xx, not retried)', () => {
  const cases: Array<[string, string | undefined, string]> = [
    ['NotFoundException', "Key 'arn:x' does not exist", 'not-found'],
    ['DisabledException', `${ARN} is disabled.`, 'disabled'],
    ['KMSInvalidStateException', `${ARN} is pending deletion.`, 'pending-deletion'],
    ['KMSInvalidStateException', `${ARN} is pending import.`, 'other'],
    ['InvalidCiphertextException', undefined, 'invalid-ciphertext'],
    [
      'IncorrectKeyException',
      'The key ID in the request does not identify a CMK that can perform this operation.',
      'invalid-ciphertext',
    ],
    ['AccessDeniedException', 'User: x is not authorized', 'access-denied'],
    ['UnrecognizedClientException', 'The security token included in the request is invalid.', 'access-denied'],
    ['ValidationException', '1 validation error detected', 'validation'],
    ['InvalidKeyUsageException', 'usage', 'validation'],
    ['SomethingNewException', 'new', 'other'],
  ]
  for (const [type, message, reason] of cases) {
    it(`${type}${message ? ` "${message}"` : ''} → reason ${reason}, exception and message kept verbatim`, async () => {
      replies(fault(type, message))
      const err = await kmsErrorOf(client().generateDataKey({ keyId: 'k' }))
      expect(err).toMatchObject({ reason, exception: type, kmsMessage: message ?? '', status: 400 })
      expect(err.s3Code).toBe(`KMS.${type}`)
      expect(seen).toHaveLength(1)
    })
  }

  it('a namespaced __type (com.amazonaws.kms#NotFoundException) and x-amzn-ErrorType alone are understood', async () => {
    replies(fault('com.amazonaws.kms#NotFoundException', 'gone'), {
      status: 400,
      body: '',
      headers: { 'x-amzn-errortype': 'DisabledException:http://internal.amazon.com/' },
    })
    expect(await kmsErrorOf(client().describeKey('k'))).toMatchObject({
      reason: 'not-found',
      exception: 'NotFoundException',
      kmsMessage: 'gone',
    })
    expect(await kmsErrorOf(client().describeKey('k'))).toMatchObject({
      reason: 'disabled',
      exception: 'DisabledException',
    })
  })

  it('a 403 without a KMS exception is access-denied', async () => {
    replies({ status: 403, body: '' })
    expect(await kmsErrorOf(client().describeKey('k'))).toMatchObject({ reason: 'access-denied', exception: undefined })
  })
})

describe('HttpKmsClient retries and timeouts', () => {
  it('a 500 then a 200: retried once, succeeds', async () => {
    replies(fault('KMSInternalException', 'boom', 500), { status: 200, body: { KeyId: ARN, Plaintext: 'AQID' } })
    expect((await client().decrypt({ ciphertextBlob: Buffer.from('x') })).keyArn).toBe(ARN)
    expect(seen).toHaveLength(2)
  })

  it('ThrottlingException (400) and 429 are retried', async () => {
    replies(
      fault('ThrottlingException', 'Rate exceeded'),
      { status: 429, body: '' },
      { status: 200, body: { KeyMetadata: { KeyId: 'i', Arn: ARN, KeyState: 'Enabled', Enabled: true } } },
    )
    expect((await client().describeKey('i')).state).toBe('Enabled')
    expect(seen).toHaveLength(3)
  })

  it('retries are bounded: maxAttempts 5xx answers then unavailable with the last exception', async () => {
    replies(...Array.from({ length: 4 }, () => fault('DependencyTimeoutException', 'slow', 503)))
    const err = await kmsErrorOf(client({ maxAttempts: 3 }).describeKey('k'))
    expect(err).toMatchObject({ reason: 'unavailable', exception: 'DependencyTimeoutException', status: 503 })
    expect(seen).toHaveLength(3)
    expect(agent.pendingInterceptors()).toHaveLength(1)
  })

  it('network errors are retried, then unavailable without an exception name', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    replies(refused, refused)
    const err = await kmsErrorOf(client({ maxAttempts: 2 }).generateDataKey({ keyId: 'k' }))
    expect(err).toMatchObject({ reason: 'unavailable', exception: undefined })
    expect(err.kmsMessage).toContain('did not answer')
    expect(agent.pendingInterceptors()).toHaveLength(0)
  })

  it('a network error then a success recovers', async () => {
    replies(new Error('socket hang up'), { status: 200, body: { KeyId: ARN, CiphertextBlob: 'AA==' } })
    expect((await client().encrypt({ keyId: 'k', plaintext: Buffer.from('p') })).keyArn).toBe(ARN)
  })

  it('an answer slower than requestTimeoutMs is a timeout, retried, then unavailable (no hang)', async () => {
    const pool = agent.get(ORIGIN)
    pool.intercept({ path: '/', method: 'POST' }).reply(200, { KeyId: ARN, Plaintext: 'AQID' }).delay(2000).times(2)
    const started = Date.now()
    const err = await kmsErrorOf(
      client({ requestTimeoutMs: 50, maxAttempts: 2 }).decrypt({ ciphertextBlob: Buffer.from('x') }),
    )
    expect(err).toMatchObject({ reason: 'unavailable', exception: undefined })
    expect(err.kmsMessage).toContain('timed out after 50 ms')
    expect(Date.now() - started).toBeLessThan(1500)
  })

  it('a real unreachable endpoint (closed loopback port) is unavailable after the bounded attempts', async () => {
    const c = new HttpKmsClient({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      maxAttempts: 2,
      backoffBaseMs: 1,
    })
    const err = await kmsErrorOf(c.describeKey('k'))
    expect(err).toBeInstanceOf(KmsError)
    expect(err.reason).toBe('unavailable')
    await c.close()
  })
})

describe('HttpKmsClient decrypt cache', () => {
  it('the same blob + context + keyId is decrypted by the KMS once; another context asks again', async () => {
    replies(
      { status: 200, body: { KeyId: ARN, Plaintext: Buffer.alloc(32, 1).toString('base64') } },
      { status: 200, body: { KeyId: ARN, Plaintext: Buffer.alloc(32, 2).toString('base64') } },
    )
    const c = client()
    const blob = Buffer.from('blob')
    const first = await c.decrypt({ ciphertextBlob: blob, context: { a: '1' } })
    first.plaintext.fill(0) // callers zero their copy; the cache keeps its own
    const second = await c.decrypt({ ciphertextBlob: blob, context: { a: '1' } })
    expect(second.plaintext.equals(Buffer.alloc(32, 1))).toBe(true)
    expect(seen).toHaveLength(1)
    const other = await c.decrypt({ ciphertextBlob: blob, context: { a: '2' } })
    expect(other.plaintext.equals(Buffer.alloc(32, 2))).toBe(true)
    expect(seen).toHaveLength(2)
  })

  it('errors are not cached, and cache: false always asks', async () => {
    replies(
      fault('InvalidCiphertextException'),
      { status: 200, body: { KeyId: ARN, Plaintext: 'AQID' } },
      { status: 200, body: { KeyId: ARN, Plaintext: 'AQID' } },
    )
    const c = client()
    await kmsErrorOf(c.decrypt({ ciphertextBlob: Buffer.from('b') }))
    await c.decrypt({ ciphertextBlob: Buffer.from('b') })
    await client({ cache: false }).decrypt({ ciphertextBlob: Buffer.from('b') })
    expect(seen).toHaveLength(3)
  })

  it('entries expire after the TTL', async () => {
    replies(
      { status: 200, body: { KeyId: ARN, Plaintext: 'AQID' } },
      { status: 200, body: { KeyId: ARN, Plaintext: 'AQID' } },
    )
    const clock = { now: 0 }
    const c = client({ cache: { ttlMs: 1000, now: () => clock.now } })
    await c.decrypt({ ciphertextBlob: Buffer.from('b') })
    clock.now = 1001
    await c.decrypt({ ciphertextBlob: Buffer.from('b') })
    expect(seen).toHaveLength(2)
  })
})
