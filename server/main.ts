/**
 * @module Process entry: `strongroom server [--host H] [--port P] [--data-dir D] [--region R]`.
 * Loads the config, opens the stores, serves, and shuts down gracefully on SIGINT/SIGTERM.
 */
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { RootKeyring } from '../crypto/keyring.js'
import type { HttpKmsClientOptions } from '../crypto/kms/http-client.js'
import { FsBlobStore } from '../storage/fs/blobs.js'
import { collectOrphans } from '../storage/gc.js'
import { LevelMetadataStore } from '../storage/level/metadata.js'
import { createRequestListener } from './app.js'
import { createReadiness } from './health.js'
import { openListeners, shutdownGraceMs } from './listeners.js'
import { Metrics, instrumentKms } from './metrics.js'
import { ConfigError, SERVER_USAGE, loadConfig, redactConfig, type Config } from './config.js'
import { openKms } from './kms/setup.js'
import { createLogger } from './log.js'
import { openAuditLog } from './audit.js'
import { scheduleKeyRotation } from './key-rotation.js'
import { ADMIN_COMMANDS, ADMIN_USAGE, runAdmin } from './admin/cli.js'
import type { Services } from './s3/context.js'
import { ObjectDataKeys } from './s3/kms-keys.js'

const USAGE = `Usage: strongroom <command> [options]

Commands:
  server     serve the S3 API (see: strongroom server --help)
${ADMIN_USAGE}`

/** HTTP client options for `--kms-endpoint` (credentials: the KMS pair, else the first S3 pair). */
function externalKms(cfg: Config, metrics?: Metrics): HttpKmsClientOptions | undefined {
  if (!cfg.kmsEndpoint) return undefined
  const accessKeyId = cfg.kmsAccessKeyId ?? cfg.credentials[0].accessKeyId
  const secretAccessKey = cfg.kmsSecretAccessKey ?? cfg.credentials[0].secretAccessKey
  const cache = metrics && { onLookup: (hit: boolean) => metrics.dataKeyCache('decrypt', hit) }
  return { endpoint: cfg.kmsEndpoint, region: cfg.kmsRegion, credentials: { accessKeyId, secretAccessKey }, cache }
}

export interface RunningServer {
  /** The plain-HTTP listener's URL and port (the HTTPS one's with --no-http). */
  url: string
  port: number
  /** The HTTPS listener, when TLS is on. */
  https?: { url: string; port: number; certPath: string }
  close(): Promise<void>
}

/** Opens the data directory and serves; resolves once listening. */
export async function startServer(cfg: Config): Promise<RunningServer> {
  const log = createLogger(cfg.logLevel)
  await mkdir(cfg.dataDir, { recursive: true, mode: 0o700 })
  const keyring = await RootKeyring.open(path.join(cfg.dataDir, 'keyring.json'))
  const meta = await LevelMetadataStore.open(path.join(cfg.dataDir, 'meta'))
  const blobs = await FsBlobStore.open(cfg.dataDir)
  // No request is in flight yet: leftovers of interrupted writes and unreferenced blobs go now.
  const gc = await collectOrphans(meta, blobs)
  if (gc.swept || gc.orphans) log.info('cleaned up after an interrupted run', { tmpFiles: gc.swept, orphanBlobs: gc.orphans })
  const metrics = new Metrics()
  const external = externalKms(cfg, metrics)
  const kms = await openKms({
    dataDir: cfg.dataDir, region: cfg.region, accountId: cfg.accountId, keyring, external,
    accountIds: cfg.credentials.map((c) => c.accountId),
    keys: cfg.kmsKeys.map((alias) => ({ alias })),
  })
  // SSE-KMS calls are counted and timed; the embedded KMS's own API (handleKms) is served as before.
  const kmsClient = instrumentKms(kms.client, metrics)
  const readiness = createReadiness({ meta, dataDir: cfg.dataDir, kms, external, log })
  const audit = openAuditLog(cfg.auditLog)
  const svc: Services = {
    audit,
    config: cfg, meta, blobs, keyring, log, kms: { service: kms.service, accounts: kms.accounts, client: kmsClient },
    dataKeys: new ObjectDataKeys(kmsClient, (hit) => metrics.dataKeyCache('bucket-key', hit)), metrics, readiness,
  }
  const stopRotation = cfg.keyRotationDays > 0 ? scheduleKeyRotation(keyring, cfg.keyRotationDays, log, audit) : () => {}
  let listeners
  try {
    listeners = await openListeners(cfg, createRequestListener(svc), log)
  } catch (err) {
    stopRotation()
    await readiness.close()
    await meta.close()
    await kms.close()
    throw err
  }
  const primary = (listeners.http ?? listeners.https)!
  log.info('config', { config: redactConfig(cfg) })
  let closing: Promise<void> | undefined
  return {
    url: primary.url,
    port: primary.port,
    https: listeners.https,
    close() {
      closing ??= (async () => {
        stopRotation()
        await listeners.close(shutdownGraceMs())
        await readiness.close()
        await meta.close()
        await kms.close()
        await audit.close()
      })()
      return closing
    },
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === 'help') {
    process.stdout.write(USAGE)
    return command === undefined ? 2 : 0
  }
  if (ADMIN_COMMANDS.has(command)) return runAdmin(command, rest)
  if (command !== 'server') {
    process.stderr.write(`strongroom: unknown command '${command}'\n${USAGE}`)
    return 2
  }
  let cfg: ReturnType<typeof loadConfig>
  try {
    cfg = loadConfig(rest)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`strongroom: ${err.message}\n${SERVER_USAGE}`)
      return 2
    }
    throw err
  }
  if (cfg.help) {
    process.stdout.write(SERVER_USAGE)
    return 0
  }
  const running = await startServer(cfg)
  for (const ep of [running.https?.url === running.url ? undefined : running.url, running.https?.url]) {
    if (ep) process.stdout.write(`strongroom listening on ${ep}\n`)
  }
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      running.close().then(resolve, resolve)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  return 0
}

const isEntry = process.argv[1] && path.resolve(process.argv[1]).replace(/\.[cm]?[jt]s$/, '') === path.resolve(import.meta.dirname, 'main')
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`strongroom: ${(err as Error)?.stack ?? String(err)}\n`)
      process.exit(1)
    },
  )
}
