/**
 * @module Command-line flags and environment into one validated, typed Config (and a redacted
 * view of it for logs: secrets never leave this module in printable form).
 */
import path from 'node:path'
import { parseArgs } from 'node:util'
import { CredentialsFileError, loadAccountsFile } from './credentials-file.js'
import type { HttpLimits } from './http-limits.js'
import type { IamIdentity, IamRole } from './iam/identity.js'

export interface Credential {
  accessKeyId: string
  secretAccessKey: string
  accountId: string
  principalArn: string
  /** IAM users of the credentials file: their identity and inline policies (absent: the account's full authority). */
  identity?: IamIdentity
}

export interface Config {
  host: string
  port: number
  dataDir: string
  region: string
  accountId: string
  credentials: Credential[]
  /** IAM roles of the credentials file (AssumeRole). */
  iamRoles?: IamRole[]
  virtualHostBaseDomains: string[]
  maxClockSkewSeconds: number
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent'
  /** Refuse SSE-C/SSE-KMS over plain HTTP from loopback peers too (full AWS parity, docs/s3-behaviour.md). */
  strictTls: boolean
  /** Refuse Signature V2 (header, presigned, POST forms) with AWS's answer for SigV4-only regions. */
  sigv4Only?: boolean
  /** New buckets start without the SSE-C block (AWS blocks SSE-C on new buckets since April 2026). */
  allowSseCOnNewBuckets: boolean
  /** An external KMS speaking the AWS KMS JSON API; undefined = the embedded KMS. */
  kmsEndpoint?: string
  kmsRegion: string
  /** Credentials for the external KMS (default: the root credentials). */
  kmsAccessKeyId?: string
  kmsSecretAccessKey?: string
  /** Aliases of embedded-KMS keys a fresh store starts with (created if missing). */
  kmsKeys: string[]
  /** Audit log of key operations: a file path, `-` for stdout; undefined = off (server/audit.ts). */
  auditLog?: string
  /** Rotate the root keyring when its active version is older than this many days (0 = never). */
  keyRotationDays: number
  /** Length of a lifecycle "day" in seconds (86400; shorter to watch rules act, server/lifecycle-sweeper.ts). */
  lifecycleDaySeconds: number
  /** Serve plain HTTP on `port` (false with --no-http; then HTTPS must be on). */
  http: boolean
  /** HTTPS listener port (0 picks a free one); undefined = no HTTPS listener. */
  httpsPort?: number
  /** PEM files of the HTTPS certificate (chain) and key. */
  tlsCert?: string
  tlsKey?: string
  /** Generate (first start) and use a self-signed pair in `<dataDir>/tls/`. */
  tlsSelfSigned: boolean
  /** What a slow or hostile client can hold (server/http-limits.ts, README "Limits"). */
  limits: HttpLimits
}

/** The documented development credentials used when none are configured (README). */
export const DEV_ACCESS_KEY_ID = 'test'
export const DEV_SECRET_ACCESS_KEY = 'test'
export const DEFAULT_ACCOUNT_ID = '000000000000'
/** The HTTPS port when TLS is on and --https-port is not given. */
export const DEFAULT_HTTPS_PORT = 9443

/** The HTTP limits when no flag or variable changes them (README "Limits"). */
export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 20_000,
  idleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderSize: 16 * 1024,
  maxHeadersCount: 500,
  // 1 KiB/s is 8 kbit/s: below any real link, even a poor mobile one shared by a few uploads.
  bodyMinRate: 1024,
  bodyRateGraceMs: 20_000,
  // Off: on loopback, behind a proxy or a NAT every client has the same address, so a cap would
  // throttle legitimate parallel clients; the limits above already bound what each connection holds.
  maxConnectionsPerPeer: 0,
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/**
 * Every server flag: its environment variable and its default, the one place each is defined (admin/args.ts reads it
 * too).
 */
export const FLAGS = {
  host: { type: 'string', env: 'STRONGROOM_HOST', default: '127.0.0.1' },
  port: { type: 'string', env: 'STRONGROOM_PORT', default: '9000' },
  'data-dir': { type: 'string', env: 'STRONGROOM_DATA_DIR', default: './data' },
  region: { type: 'string', env: 'AWS_REGION', default: 'us-east-1' },
  'log-level': { type: 'string', env: 'STRONGROOM_LOG_LEVEL', default: 'info' },
  'strict-tls': { type: 'boolean', env: 'STRONGROOM_STRICT_TLS', default: false },
  'sigv4-only': { type: 'boolean', env: 'STRONGROOM_SIGV4_ONLY', default: false },
  'allow-sse-c-on-new-buckets': { type: 'boolean', env: 'STRONGROOM_ALLOW_SSE_C_ON_NEW_BUCKETS', default: false },
  'kms-endpoint': { type: 'string', env: 'STRONGROOM_KMS_ENDPOINT', default: '' },
  'kms-region': { type: 'string', env: 'STRONGROOM_KMS_REGION', default: '' },
  'kms-keys': { type: 'string', env: 'STRONGROOM_KMS_KEYS', default: '' },
  'audit-log': { type: 'string', env: 'STRONGROOM_AUDIT_LOG', default: '' },
  'key-rotation-days': { type: 'string', env: 'STRONGROOM_KEY_ROTATION_DAYS', default: '0' },
  'lifecycle-day-seconds': { type: 'string', env: 'STRONGROOM_LIFECYCLE_DAY_SECONDS', default: '86400' },
  'credentials-file': { type: 'string', env: 'STRONGROOM_CREDENTIALS_FILE', default: '' },
  'https-port': { type: 'string', env: 'STRONGROOM_HTTPS_PORT', default: '' },
  'tls-cert': { type: 'string', env: 'STRONGROOM_TLS_CERT', default: '' },
  'tls-key': { type: 'string', env: 'STRONGROOM_TLS_KEY', default: '' },
  'tls-self-signed': { type: 'boolean', env: 'STRONGROOM_TLS_SELF_SIGNED', default: false },
  'no-http': { type: 'boolean', env: 'STRONGROOM_NO_HTTP', default: false },
  'headers-timeout-ms': {
    type: 'string',
    env: 'STRONGROOM_HEADERS_TIMEOUT_MS',
    default: String(DEFAULT_HTTP_LIMITS.headersTimeoutMs),
  },
  'idle-timeout-ms': {
    type: 'string',
    env: 'STRONGROOM_IDLE_TIMEOUT_MS',
    default: String(DEFAULT_HTTP_LIMITS.idleTimeoutMs),
  },
  'body-min-rate': {
    type: 'string',
    env: 'STRONGROOM_BODY_MIN_RATE',
    default: String(DEFAULT_HTTP_LIMITS.bodyMinRate),
  },
  'body-rate-grace-ms': {
    type: 'string',
    env: 'STRONGROOM_BODY_RATE_GRACE_MS',
    default: String(DEFAULT_HTTP_LIMITS.bodyRateGraceMs),
  },
  'max-connections-per-peer': {
    type: 'string',
    env: 'STRONGROOM_MAX_CONNECTIONS_PER_PEER',
    default: String(DEFAULT_HTTP_LIMITS.maxConnectionsPerPeer),
  },
  help: { type: 'boolean', env: '', default: false },
} as const

const d = (name: keyof typeof FLAGS): string => String(FLAGS[name].default)

export const SERVER_USAGE = `Usage: strongroom server [options]

Serves the S3 API, and the embedded KMS's API (AWS KMS JSON protocol) unless --kms-endpoint
names an external KMS, on one address (plain HTTP and/or HTTPS).

Options (each also readable from the environment variable shown):
  --host H         address to listen on            STRONGROOM_HOST       (default ${d('host')})
  --port P         port; 0 picks a free one        STRONGROOM_PORT       (default ${d('port')})
  --data-dir D     data directory                  STRONGROOM_DATA_DIR   (default ${d('data-dir')})
  --region R       region of this endpoint         AWS_REGION            (default ${d('region')})
  --log-level L    debug|info|warn|error|silent    STRONGROOM_LOG_LEVEL  (default ${d('log-level')})
  --strict-tls     refuse SSE-C/SSE-KMS over plain HTTP even from loopback
                                                   STRONGROOM_STRICT_TLS
  --sigv4-only     refuse Signature V2 (400 InvalidRequest, as AWS regions that accept only SigV4)
                                                   STRONGROOM_SIGV4_ONLY
  --allow-sse-c-on-new-buckets
                   new buckets do not block SSE-C  STRONGROOM_ALLOW_SSE_C_ON_NEW_BUCKETS
  --kms-endpoint U an external KMS (AWS KMS JSON API) for SSE-KMS; default: the embedded KMS
                                                   STRONGROOM_KMS_ENDPOINT
  --kms-region R   region of the external KMS      STRONGROOM_KMS_REGION (default: --region)
                   credentials for it: STRONGROOM_KMS_ACCESS_KEY_ID / STRONGROOM_KMS_SECRET_ACCESS_KEY
  --kms-keys A,B   embedded-KMS keys to create at start, by alias (e.g. alias/app)
                                                   STRONGROOM_KMS_KEYS
  --audit-log F    JSON lines per key operation (seal, unseal, KMS calls, denials) to file F,
                   or - for stdout; default: off     STRONGROOM_AUDIT_LOG
  --key-rotation-days N
                   rotate the root key when the active one is older than N days; 0 = never
                                                   STRONGROOM_KEY_ROTATION_DAYS (default ${d('key-rotation-days')})
  --lifecycle-day-seconds N
                   length of a lifecycle-rule "day" in seconds (shorter to watch rules act)
                                                   STRONGROOM_LIFECYCLE_DAY_SECONDS (default ${d('lifecycle-day-seconds')})
  --credentials-file F  accounts and their access keys (JSON, README "Accounts")
                                                   STRONGROOM_CREDENTIALS_FILE
  --tls-cert F --tls-key F
                   serve HTTPS with this certificate and key (PEM)
                                                   STRONGROOM_TLS_CERT / STRONGROOM_TLS_KEY
  --tls-self-signed
                   serve HTTPS with a self-signed pair for localhost, generated
                   into <data-dir>/tls/ on first start  STRONGROOM_TLS_SELF_SIGNED
  --https-port P   HTTPS port; 0 picks a free one  STRONGROOM_HTTPS_PORT (default ${DEFAULT_HTTPS_PORT})
  --no-http        no plain-HTTP listener (needs TLS)  STRONGROOM_NO_HTTP

Limits on slow or hostile clients (README "Limits"):
  --headers-timeout-ms MS   time to receive a request head    STRONGROOM_HEADERS_TIMEOUT_MS (default ${d('headers-timeout-ms')})
  --idle-timeout-ms MS      close a socket silent this long   STRONGROOM_IDLE_TIMEOUT_MS (default ${d('idle-timeout-ms')}; 0 = never)
  --body-min-rate B         least average request-body rate in bytes/s after the grace period
                                                   STRONGROOM_BODY_MIN_RATE (default ${d('body-min-rate')}; 0 = no bound)
  --body-rate-grace-ms MS   time a body gets before that rate applies
                                                   STRONGROOM_BODY_RATE_GRACE_MS (default ${d('body-rate-grace-ms')})
  --max-connections-per-peer N
                            open connections per client address; more are closed at once
                                                   STRONGROOM_MAX_CONNECTIONS_PER_PEER (default ${d('max-connections-per-peer')} = no cap)

Credentials: STRONGROOM_ACCESS_KEY_ID and STRONGROOM_SECRET_ACCESS_KEY
(default development pair: ${DEV_ACCESS_KEY_ID} / ${DEV_SECRET_ACCESS_KEY}).
`

const REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d$/

/** Parses argv (after the `server` command) and env into a Config. Throws ConfigError. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config & { help: boolean } {
  let values: Record<string, string | boolean | undefined>
  try {
    const options = Object.fromEntries(Object.entries(FLAGS).map(([k, v]) => [k, { type: v.type }]))
    values = parseArgs({ args: argv, options: options as never, strict: true, allowPositionals: false }).values as never
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
  const flag = (name: keyof typeof FLAGS): boolean => {
    const v = values[name] ?? env[FLAGS[name].env]
    return v === true || v === 'true' || v === '1'
  }
  const get = (name: keyof typeof FLAGS): string => {
    const f = FLAGS[name]
    const v =
      values[name] ?? (f.env ? env[f.env] : undefined) ?? env[`STRONGROOM_${name.toUpperCase().replace(/-/g, '_')}`]
    return String(v ?? f.default)
  }
  const port = Number(get('port'))
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`invalid port: ${get('port')}`)
  const tls = parseTls(get, flag)
  const region = get('region')
  if (!REGION_RE.test(region)) throw new ConfigError(`invalid region: ${region}`)
  const logLevel = get('log-level')
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel))
    throw new ConfigError(`invalid log level: ${logLevel}`)
  const accessKeyId = env.STRONGROOM_ACCESS_KEY_ID || DEV_ACCESS_KEY_ID
  const secretAccessKey = env.STRONGROOM_SECRET_ACCESS_KEY || DEV_SECRET_ACCESS_KEY
  const accountId = DEFAULT_ACCOUNT_ID
  const root: Credential = { accessKeyId, secretAccessKey, accountId, principalArn: `arn:aws:iam::${accountId}:root` }
  const credentialsFile = get('credentials-file')
  let fileCredentials: Credential[] = []
  let iamRoles: IamRole[] = []
  try {
    if (credentialsFile)
      ({ credentials: fileCredentials, roles: iamRoles } = loadAccountsFile(path.resolve(credentialsFile), [
        accessKeyId,
      ]))
  } catch (err) {
    if (err instanceof CredentialsFileError) throw new ConfigError(err.message)
    throw err
  }
  return {
    help: values.help === true,
    host: get('host'),
    port,
    dataDir: path.resolve(get('data-dir')),
    region,
    accountId,
    credentials: [root, ...fileCredentials],
    iamRoles,
    virtualHostBaseDomains: ['localhost'],
    maxClockSkewSeconds: 900,
    logLevel: logLevel as Config['logLevel'],
    strictTls: flag('strict-tls'),
    sigv4Only: flag('sigv4-only'),
    allowSseCOnNewBuckets: flag('allow-sse-c-on-new-buckets'),
    kmsEndpoint: get('kms-endpoint') || undefined,
    kmsRegion: get('kms-region') || region,
    kmsAccessKeyId: env.STRONGROOM_KMS_ACCESS_KEY_ID || undefined,
    kmsSecretAccessKey: env.STRONGROOM_KMS_SECRET_ACCESS_KEY || undefined,
    kmsKeys: parseKmsKeys(get('kms-keys')),
    auditLog: get('audit-log') || undefined,
    keyRotationDays: parseRotationDays(get('key-rotation-days')),
    lifecycleDaySeconds: parseDaySeconds(get('lifecycle-day-seconds')),
    ...tls,
    limits: parseLimits(get),
  }
}

/** The HTTP limits: whole numbers; the headers timeout must be positive (node:http treats 0 as none). */
function parseLimits(get: (name: keyof typeof FLAGS) => string): HttpLimits {
  const whole = (name: keyof typeof FLAGS, min: number): number => {
    const v = get(name) || String(FLAGS[name].default) // an empty variable means the default
    const n = Number(v)
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min)
      throw new ConfigError(`invalid --${name}: ${v} (a whole number${min > 0 ? ` ≥ ${min}` : ''})`)
    return n
  }
  return {
    ...DEFAULT_HTTP_LIMITS,
    headersTimeoutMs: whole('headers-timeout-ms', 1),
    idleTimeoutMs: whole('idle-timeout-ms', 0),
    bodyMinRate: whole('body-min-rate', 0),
    bodyRateGraceMs: whole('body-rate-grace-ms', 0),
    maxConnectionsPerPeer: whole('max-connections-per-peer', 0),
  }
}

/** The TLS flags: a cert and key, or self-signed; an HTTPS port only with one of them. */
function parseTls(
  get: (name: keyof typeof FLAGS) => string,
  flag: (name: keyof typeof FLAGS) => boolean,
): Pick<Config, 'http' | 'httpsPort' | 'tlsCert' | 'tlsKey' | 'tlsSelfSigned'> {
  const tlsCert = get('tls-cert') || undefined
  const tlsKey = get('tls-key') || undefined
  const tlsSelfSigned = flag('tls-self-signed')
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new ConfigError('--tls-cert and --tls-key go together')
  if (tlsCert && tlsSelfSigned) throw new ConfigError('--tls-self-signed and --tls-cert/--tls-key exclude each other')
  const tlsOn = tlsSelfSigned || tlsCert !== undefined
  const rawHttpsPort = get('https-port')
  if (rawHttpsPort && !tlsOn) throw new ConfigError('--https-port needs --tls-cert/--tls-key or --tls-self-signed')
  let httpsPort: number | undefined
  if (tlsOn) {
    httpsPort = Number(rawHttpsPort || DEFAULT_HTTPS_PORT)
    if (!Number.isInteger(httpsPort) || httpsPort < 0 || httpsPort > 65535)
      throw new ConfigError(`invalid HTTPS port: ${rawHttpsPort}`)
  }
  const http = !flag('no-http')
  if (!http && !tlsOn) throw new ConfigError('--no-http needs --tls-cert/--tls-key or --tls-self-signed')
  return {
    http,
    httpsPort,
    tlsCert: tlsCert && path.resolve(tlsCert),
    tlsKey: tlsKey && path.resolve(tlsKey),
    tlsSelfSigned,
  }
}

function parseRotationDays(v: string): number {
  const n = Number(v)
  if (!/^\d+(\.\d+)?$/.test(v) || !Number.isFinite(n))
    throw new ConfigError(`invalid key rotation interval: ${v} (days, 0 = never)`)
  return n
}

/** A whole number of seconds, 1 to 86400 (a lifecycle day is never longer than a real one). */
function parseDaySeconds(v: string): number {
  const n = Number(v)
  if (!/^\d+$/.test(v) || n < 1 || n > 86_400)
    throw new ConfigError(`invalid --lifecycle-day-seconds: ${v} (whole seconds, 1 to 86400)`)
  return n
}

function parseKmsKeys(v: string): string[] {
  const keys = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  for (const k of keys) {
    if (!/^alias\/[a-zA-Z0-9:/_-]{1,250}$/.test(k) || k.startsWith('alias/aws/'))
      throw new ConfigError(`invalid KMS key alias: ${k} (expected alias/<name>)`)
  }
  return keys
}

/** The config as it may be logged: no secret access keys. */
export function redactConfig(cfg: Config): Record<string, unknown> {
  const { kmsSecretAccessKey: _secret, ...rest } = cfg
  return { ...rest, credentials: cfg.credentials.map((c) => ({ accessKeyId: c.accessKeyId, accountId: c.accountId })) }
}
