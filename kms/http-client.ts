/**
 * @module The KMS client over HTTP (undici): the AWS KMS JSON API (`X-Amz-Target:
 * TrentService.<Op>`, `application/x-amz-json-1.1`, SigV4 service `kms`) with keep-alive,
 * timeouts, bounded retries with backoff, and a TTL cache of decrypted data keys. The same code
 * talks to AWS KMS, moto_server, local-kms, LocalStack and strongroom's embedded KMS.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request, type Dispatcher } from 'undici'
import { signRequest, type AwsCredentials } from '../lib/sigv4.js'
import { DataKeyCache, type DataKeyCacheOptions } from './cache.js'
import {
  KmsError,
  reasonOfException,
  type DecryptInput,
  type DecryptOutput,
  type EncryptInput,
  type EncryptOutput,
  type EncryptionContext,
  type GenerateDataKeyInput,
  type GenerateDataKeyOutput,
  type KeyDescription,
  type KmsClient,
  type ReEncryptInput,
  type ReEncryptOutput,
} from './types.js'

// ---- The client.

export interface HttpKmsClientOptions {
  /** Base URL of the KMS, e.g. `https://kms.eu-west-1.amazonaws.com` or `http://127.0.0.1:5000`. */
  endpoint: string
  /** Region to sign for (SigV4 scope). */
  region: string
  credentials: AwsCredentials
  /** TCP/TLS connect timeout. Default 2 s. */
  connectTimeoutMs?: number
  /** Whole-attempt timeout (send, headers, body). Default 5 s. */
  requestTimeoutMs?: number
  /** Attempts per call, first included; retried on network errors, timeouts, 5xx, 429, throttling. Default 3. */
  maxAttempts?: number
  /** Backoff before retry n (1-based): random in [0, min(max, base × 2^(n−1))]. Defaults 100 ms / 2 s. */
  backoffBaseMs?: number
  backoffMaxMs?: number
  /** Connections kept per origin. Default 16. */
  connections?: number
  /** Decrypted data key cache; `false` turns it off. */
  cache?: DataKeyCacheOptions | false
  /** Use this dispatcher instead of an own Agent (tests pass undici's MockAgent). Not closed by close(). */
  dispatcher?: Dispatcher
  /** Clock for signing (tests). */
  now?: () => Date
}

type Json = Record<string, unknown>

/** Exceptions (besides 5xx and 429 answers) worth another attempt: AWS SDK's throttling codes. */
const RETRYABLE_EXCEPTIONS = new Set([
  'ThrottlingException',
  'LimitExceededException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
])

/**
 * The AWS exception name in `__type` (`com.amazonaws.kms#NotFoundException` → `NotFoundException`) or x-amzn-ErrorType.
 */
function exceptionName(body: Json | undefined, errorTypeHeader: string | undefined): string | undefined {
  const raw = typeof body?.__type === 'string' ? body.__type : errorTypeHeader?.split(':')[0]
  if (!raw) return undefined
  return raw.slice(raw.lastIndexOf('#') + 1)
}

function parseJson(text: string): Json | undefined {
  try {
    const v: unknown = JSON.parse(text)
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined
  } catch {
    return undefined
  }
}

function b64(value: unknown, member: string, op: string): Buffer {
  if (typeof value !== 'string') throw new KmsError('other', undefined, `KMS ${op} answer has no ${member}`)
  return Buffer.from(value, 'base64')
}

function str(value: unknown, member: string, op: string): string {
  if (typeof value !== 'string') throw new KmsError('other', undefined, `KMS ${op} answer has no ${member}`)
  return value
}

/** Only non-empty contexts are sent: an empty map is the same as none (docs/s3-sse-rules.md §6.4). */
function withContext(body: Json, member: string, context: EncryptionContext | undefined): Json {
  if (context && Object.keys(context).length > 0) body[member] = context
  return body
}

/** A failure of one attempt that another attempt may cure. */
class Retryable extends Error {
  constructor(readonly final: KmsError) {
    super(final.message)
  }
}

/** The KMS client over undici. See HttpKmsClientOptions for the knobs. */
export class HttpKmsClient implements KmsClient {
  readonly #url: URL
  readonly #opts: HttpKmsClientOptions
  readonly #dispatcher: Dispatcher
  readonly #ownAgent: Agent | undefined
  readonly #cache: DataKeyCache | undefined
  readonly #timeoutMs: number
  readonly #attempts: number

  constructor(opts: HttpKmsClientOptions) {
    this.#url = new URL(opts.endpoint)
    if (this.#url.protocol !== 'http:' && this.#url.protocol !== 'https:') {
      throw new KmsError('validation', undefined, `KMS endpoint must be an http(s) URL, got ${this.#url.protocol}`)
    }
    this.#opts = opts
    this.#timeoutMs = opts.requestTimeoutMs ?? 5000
    this.#attempts = Math.max(1, opts.maxAttempts ?? 3)
    this.#ownAgent = opts.dispatcher
      ? undefined
      : new Agent({
          connect: { timeout: opts.connectTimeoutMs ?? 2000 },
          connections: opts.connections ?? 16,
          keepAliveTimeout: 30_000,
          headersTimeout: this.#timeoutMs,
          bodyTimeout: this.#timeoutMs,
        })
    this.#dispatcher = opts.dispatcher ?? this.#ownAgent!
    this.#cache = opts.cache === false ? undefined : new DataKeyCache(opts.cache)
  }

  /** Where this client sends requests (no credentials). */
  get endpoint(): string {
    return this.#url.origin
  }

  async generateDataKey(input: GenerateDataKeyInput): Promise<GenerateDataKeyOutput> {
    const out = await this.call(
      'GenerateDataKey',
      withContext({ KeyId: input.keyId, KeySpec: 'AES_256' }, 'EncryptionContext', input.context),
    )
    const plaintext = b64(out.Plaintext, 'Plaintext', 'GenerateDataKey')
    if (plaintext.length !== 32) {
      plaintext.fill(0)
      throw new KmsError('other', undefined, 'KMS GenerateDataKey returned a data key that is not 32 bytes')
    }
    return {
      plaintext,
      ciphertextBlob: b64(out.CiphertextBlob, 'CiphertextBlob', 'GenerateDataKey'),
      keyArn: str(out.KeyId, 'KeyId', 'GenerateDataKey'),
    }
  }

  async decrypt(input: DecryptInput): Promise<DecryptOutput> {
    const load = async (): Promise<DecryptOutput> => {
      const body: Json = { CiphertextBlob: Buffer.from(input.ciphertextBlob).toString('base64') }
      if (input.keyId !== undefined) body.KeyId = input.keyId
      const out = await this.call('Decrypt', withContext(body, 'EncryptionContext', input.context))
      return { plaintext: b64(out.Plaintext, 'Plaintext', 'Decrypt'), keyArn: str(out.KeyId, 'KeyId', 'Decrypt') }
    }
    if (!this.#cache) return load()
    return this.#cache.getOrLoad(DataKeyCache.idOf(input.ciphertextBlob, input.context, input.keyId), load)
  }

  async encrypt(input: EncryptInput): Promise<EncryptOutput> {
    const body: Json = { KeyId: input.keyId, Plaintext: Buffer.from(input.plaintext).toString('base64') }
    const out = await this.call('Encrypt', withContext(body, 'EncryptionContext', input.context))
    return {
      ciphertextBlob: b64(out.CiphertextBlob, 'CiphertextBlob', 'Encrypt'),
      keyArn: str(out.KeyId, 'KeyId', 'Encrypt'),
    }
  }

  async reEncrypt(input: ReEncryptInput): Promise<ReEncryptOutput> {
    const body: Json = {
      CiphertextBlob: Buffer.from(input.ciphertextBlob).toString('base64'),
      DestinationKeyId: input.destinationKeyId,
    }
    if (input.sourceKeyId !== undefined) body.SourceKeyId = input.sourceKeyId
    withContext(body, 'SourceEncryptionContext', input.sourceContext)
    withContext(body, 'DestinationEncryptionContext', input.destinationContext)
    const out = await this.call('ReEncrypt', body)
    return {
      ciphertextBlob: b64(out.CiphertextBlob, 'CiphertextBlob', 'ReEncrypt'),
      sourceKeyArn: str(out.SourceKeyId, 'SourceKeyId', 'ReEncrypt'),
      keyArn: str(out.KeyId, 'KeyId', 'ReEncrypt'),
    }
  }

  async describeKey(keyId: string): Promise<KeyDescription> {
    const out = await this.call('DescribeKey', { KeyId: keyId })
    const m = (out.KeyMetadata ?? {}) as Json
    return {
      keyId: str(m.KeyId, 'KeyMetadata.KeyId', 'DescribeKey'),
      keyArn: str(m.Arn, 'KeyMetadata.Arn', 'DescribeKey'),
      state: str(m.KeyState, 'KeyMetadata.KeyState', 'DescribeKey'),
      enabled: m.Enabled === true,
      keyManager: typeof m.KeyManager === 'string' ? m.KeyManager : 'CUSTOMER',
      description: typeof m.Description === 'string' ? m.Description : '',
    }
  }

  /**
   * One KMS JSON operation with retries: returns the parsed answer, throws KmsError (reason from
   * the exception, or 'unavailable' once the attempts are spent on retryable failures).
   */
  async call(operation: string, body: Json): Promise<Json> {
    const payload = JSON.stringify(body)
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#attempt(operation, payload)
      } catch (err) {
        if (!(err instanceof Retryable)) throw err
        if (attempt >= this.#attempts) throw err.final
        const cap = Math.min(this.#opts.backoffMaxMs ?? 2000, (this.#opts.backoffBaseMs ?? 100) * 2 ** (attempt - 1))
        await sleep(Math.random() * cap)
      }
    }
  }

  async #attempt(operation: string, payload: string): Promise<Json> {
    const headers = signRequest({
      method: 'POST',
      url: this.#url,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${operation}` },
      body: payload,
      region: this.#opts.region,
      service: 'kms',
      credentials: this.#opts.credentials,
      now: this.#opts.now?.() ?? new Date(),
    })
    const abort = new AbortController()
    const timer = setTimeout(() => abort.abort(), this.#timeoutMs)
    let status: number
    let text: string
    let errorType: string | undefined
    try {
      const res = await request(this.#url, {
        method: 'POST',
        headers,
        body: payload,
        dispatcher: this.#dispatcher,
        signal: abort.signal,
      })
      status = res.statusCode
      const h = res.headers['x-amzn-errortype']
      errorType = Array.isArray(h) ? h[0] : h
      text = await res.body.text()
    } catch (err) {
      const what = abort.signal.aborted
        ? `timed out after ${this.#timeoutMs} ms`
        : ((err as NodeJS.ErrnoException).code ?? (err as Error).name)
      throw new Retryable(
        new KmsError('unavailable', undefined, `KMS ${operation} at ${this.#url.origin} did not answer: ${what}`, {
          cause: err,
        }),
      )
    } finally {
      clearTimeout(timer)
    }
    const json = parseJson(text)
    if (status >= 200 && status < 300) {
      if (json) return json
      // Empty-output operations: AWS sends `{}`, some emulators an empty body or `null`.
      if (text.trim() === '' || text.trim() === 'null') return {}
      throw new KmsError(
        'other',
        undefined,
        `KMS ${operation} answered ${status} with a body that is not a JSON object`,
        { status },
      )
    }
    const exception = exceptionName(json, errorType)
    const message =
      typeof json?.message === 'string' ? json.message : typeof json?.Message === 'string' ? json.Message : ''
    if (status >= 500 || status === 429 || (exception !== undefined && RETRYABLE_EXCEPTIONS.has(exception))) {
      throw new Retryable(new KmsError('unavailable', exception, message, { status }))
    }
    const reason = exception
      ? reasonOfException(exception, message)
      : status === 401 || status === 403
        ? 'access-denied'
        : 'other'
    throw new KmsError(reason, exception, exception ? message : message || `KMS ${operation} answered ${status}`, {
      status,
    })
  }

  async close(): Promise<void> {
    this.#cache?.clear()
    await this.#ownAgent?.close()
  }
}
