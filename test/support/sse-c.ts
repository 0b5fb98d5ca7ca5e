/**
 * @module Test support for the SSE-C, bucket-encryption and copy-matrix suites: docs/s3-sse-rules.md's
 * customer keys (§0.3), their request headers, the blob files of a data directory, and a
 * strongroom child process whose logs can be read.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import path from 'node:path'
import { createInterface } from 'node:readline'

/** A customer key as docs/s3-sse-rules.md's vectors give it (§0.3): raw bytes, base64, base64 MD5. */
export interface CustomerKeyVector {
  raw: Buffer
  b64: string
  md5: string
}

export function customerKey(raw: Buffer): CustomerKeyVector {
  return { raw, b64: raw.toString('base64'), md5: createHash('md5').update(raw).digest('base64') }
}

/** K1 = ASCII `1234567890abcdef1234567890abcdef` (docs/s3-sse-rules.md §0.3). */
export const K1 = customerKey(Buffer.from('1234567890abcdef1234567890abcdef'))
/** K2 and K3 of docs/s3-sse-rules.md §0.3. */
export const K2 = customerKey(Buffer.from('pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs=', 'base64'))
export const K3 = customerKey(Buffer.from('6b+WOZ1T3cqZMxgThRcXAQBrS5mXKdDUphvpxptl9/4=', 'base64'))

export const SSE = 'x-amz-server-side-encryption'
export const SSE_C_ALGORITHM = 'x-amz-server-side-encryption-customer-algorithm'
export const SSE_C_KEY = 'x-amz-server-side-encryption-customer-key'
export const SSE_C_KEY_MD5 = 'x-amz-server-side-encryption-customer-key-md5'
export const COPY_SSE_C_ALGORITHM = 'x-amz-copy-source-server-side-encryption-customer-algorithm'
export const COPY_SSE_C_KEY = 'x-amz-copy-source-server-side-encryption-customer-key'
export const COPY_SSE_C_KEY_MD5 = 'x-amz-copy-source-server-side-encryption-customer-key-md5'

/** The destination (or read) trio for `k`. */
export function ssecHeaders(k: CustomerKeyVector): Record<string, string> {
  return { [SSE_C_ALGORITHM]: 'AES256', [SSE_C_KEY]: k.b64, [SSE_C_KEY_MD5]: k.md5 }
}

/** The copy-source trio for `k`. */
export function copySourceHeaders(k: CustomerKeyVector): Record<string, string> {
  return { [COPY_SSE_C_ALGORITHM]: 'AES256', [COPY_SSE_C_KEY]: k.b64, [COPY_SSE_C_KEY_MD5]: k.md5 }
}

/** SDK input fields for SSE-C with `k` (raw bytes: the SDK base64-encodes and hashes them). */
export function sdkSsec(k: CustomerKeyVector): { SSECustomerAlgorithm: string; SSECustomerKey: any } {
  return { SSECustomerAlgorithm: 'AES256', SSECustomerKey: k.raw }
}

/** SDK input fields for the copy-source SSE-C key `k`. */
export function sdkCopySsec(k: CustomerKeyVector): {
  CopySourceSSECustomerAlgorithm: string
  CopySourceSSECustomerKey: any
} {
  return { CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: k.raw }
}

/** Problem messages of docs/s3-sse-rules.md §4.8 ([O] unless tagged in docs/s3-sse-rules.md). */
export const MSG = {
  insecure:
    'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.',
  incompatible:
    'Server Side Encryption with Customer provided key is incompatible with the encryption method specified',
  noAlgorithm:
    'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.',
  noKey:
    'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.',
  badAlgorithm: 'The Encryption request you specified is not valid. Supported value: AES256.',
  noMd5:
    'Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.',
  md5Mismatch: 'The calculated MD5 hash of the key did not match the hash that was provided.',
  badKey: 'The secret key was invalid for the specified algorithm.',
  storedWithSse:
    'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.',
  wrongKey:
    'Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key.',
  notApplicable: 'The encryption parameters are not applicable to this object.',
  initiateRequested:
    'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.',
  didNotMatch: 'The provided encryption parameters did not match the ones used originally.',
  selfCopy:
    "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
} as const

export const md5Hex = (b: Uint8Array | string) => createHash('md5').update(b).digest('hex')
export const sha256Hex = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex')

export { allFiles, blobFiles, newBlobs } from './data-dir.js'

/**
 * SR1 size of a part blob of `plain` bytes (crypto/README.md §5): 64 KiB chunks, a 16-byte tag each, one tag for 0
 * bytes.
 */
export function sr1Size(plain: number): number {
  const chunks = Math.max(1, Math.ceil(plain / 65536))
  return plain + 16 * chunks
}

/** A strongroom server in a child process, with its stderr (the JSON log) collected. */
export interface ChildServer {
  endpoint: string
  port: number
  child: ChildProcess
  /** Everything the server wrote to stderr and stdout so far. */
  output(): string
  stop(): Promise<void>
}

/**
 * Starts `tsx server/main.ts server --port 0 --data-dir <dataDir> …args` from the project root and
 * resolves once it printed its URL. stop() sends SIGTERM and waits for the exit.
 */
export function startChildServer(dataDir: string, args: string[] = []): Promise<ChildServer> {
  const child = spawn(
    path.join('node_modules', '.bin', 'tsx'),
    ['server/main.ts', 'server', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, ...args],
    { cwd: process.cwd(), env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const captured: string[] = []
  child.stderr!.setEncoding('utf8').on('data', (s: string) => captured.push(s))
  let exited = false
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true
      resolve()
    }),
  )
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    let started = false
    lines.on('line', (line) => {
      captured.push(line + '\n')
      const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(line)
      if (started || !m) return
      started = true
      resolve({
        endpoint: m[1],
        port: Number(m[2]),
        child,
        output: () => captured.join(''),
        async stop() {
          if (!exited) child.kill('SIGTERM')
          await exit
        },
      })
    })
    child.once('error', reject)
    child.once('exit', (code) => {
      if (!started) reject(new Error(`strongroom exited with ${String(code)} before listening:\n${captured.join('')}`))
    })
  })
}
