/**
 * @module TLS material for the HTTPS listener: a certificate and key from files (`--tls-cert`,
 * `--tls-key`), or a self-signed pair for localhost / 127.0.0.1 / ::1 generated into
 * `<dataDir>/tls/` on first start (`--tls-self-signed`; key file mode 0600) and reused after.
 */
import { X509Certificate } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { generate } from 'selfsigned'
import { replaceFileDurably } from '../lib/durable-fs.js'
import type { Logger } from './log.js'

export interface TlsMaterial {
  cert: Buffer
  key: Buffer
  /** Where the certificate was read from (clients may trust it: AWS_CA_BUNDLE). */
  certPath: string
}

export interface TlsOptions {
  tlsCert?: string
  tlsKey?: string
  tlsSelfSigned: boolean
  dataDir: string
}

/** Paths of the generated self-signed pair. */
export function selfSignedPaths(dataDir: string): { dir: string; cert: string; key: string } {
  const dir = path.join(dataDir, 'tls')
  return { dir, cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') }
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Generates (or loads) the self-signed pair in `<dataDir>/tls/`; valid 10 years. */
async function selfSigned(dataDir: string, log: Logger): Promise<TlsMaterial> {
  const p = selfSignedPaths(dataDir)
  const [cert, key] = await Promise.all([readIfExists(p.cert), readIfExists(p.key)])
  if (cert && key) {
    const x509 = new X509Certificate(cert)
    if (new Date(x509.validTo).getTime() > Date.now()) return { cert, key, certPath: p.cert }
    log.warn('the self-signed TLS certificate has expired; generating a new one', { cert: p.cert })
  }
  await mkdir(p.dir, { recursive: true, mode: 0o700 })
  const notBeforeDate = new Date(Date.now() - 60_000)
  const notAfterDate = new Date(notBeforeDate.getTime() + 10 * 365 * 24 * 3600 * 1000)
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 2, value: '*.localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  })
  // Key first: a cert without its key on disk would be reused with no key to serve it.
  await replaceFileDurably(p.key, pems.private, 0o600)
  await replaceFileDurably(p.cert, pems.cert, 0o600) // like everything under the data dir: copy it out to share it
  log.info('generated a self-signed TLS certificate', { cert: p.cert })
  return { cert: Buffer.from(pems.cert), key: Buffer.from(pems.private), certPath: p.cert }
}

/** The TLS material the config asks for, or undefined (no HTTPS listener). */
export async function loadTls(opts: TlsOptions, log: Logger): Promise<TlsMaterial | undefined> {
  if (opts.tlsCert && opts.tlsKey) {
    const [cert, key] = await Promise.all([readFile(opts.tlsCert), readFile(opts.tlsKey)])
    return { cert, key, certPath: path.resolve(opts.tlsCert) }
  }
  if (opts.tlsSelfSigned) return selfSigned(opts.dataDir, log)
  return undefined
}
