/**
 * @module Process entry: `strongroom server [--host H] [--port P] [--data-dir D] [--region R]`,
 * the operator commands, `--version`. Loads the config, opens the stores, serves, and shuts down
 * gracefully on SIGINT/SIGTERM (and, when started by npm, when npm goes away).
 */
import { readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { RootKeyring } from '../crypto/keyring.js'
import type { HttpKmsClientOptions } from '../kms/http-client.js'
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
import { startLifecycleSweeper, type LifecycleSweeper } from './lifecycle-sweeper.js'
import { ADMIN_COMMANDS, ADMIN_USAGE, runAdmin } from './admin/cli.js'
import type { Services } from './s3/context.js'
import { ObjectDataKeys } from './s3/kms-keys.js'
import { ownerOnlyDataDir, restrictUmask } from './owner-only.js'

const USAGE = `Usage: strongroom <command> [options]

Commands:
  server     serve the S3 API (see: strongroom server --help)
${ADMIN_USAGE}
strongroom --version prints the version.
`

/** The package version (package.json beside server/). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
    version: string
  }
  return pkg.version
}

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
  /** The background lifecycle sweeper (tests may run a pass at once with sweepNow). */
  lifecycle: LifecycleSweeper
  close(): Promise<void>
}

/** Opens the data directory and serves; resolves once listening. */
export async function startServer(cfg: Config): Promise<RunningServer> {
  const log = createLogger(cfg.logLevel)
  restrictUmask()
  await mkdir(cfg.dataDir, { recursive: true, mode: 0o700 })
  const keyring = await RootKeyring.open(path.join(cfg.dataDir, 'keyring.json'))
  const meta = await LevelMetadataStore.open(path.join(cfg.dataDir, 'meta'))
  const blobs = await FsBlobStore.open(cfg.dataDir)
  // No request is in flight yet: leftovers of interrupted writes and unreferenced blobs go now.
  const gc = await collectOrphans(meta, blobs)
  if (gc.swept || gc.orphans)
    log.info('cleaned up after an interrupted run', { tmpFiles: gc.swept, orphanBlobs: gc.orphans })
  const metrics = new Metrics()
  const external = externalKms(cfg, metrics)
  const kms = await openKms({
    dataDir: cfg.dataDir,
    region: cfg.region,
    accountId: cfg.accountId,
    keyring,
    external,
    accountIds: cfg.credentials.map((c) => c.accountId),
    keys: cfg.kmsKeys.map((alias) => ({ alias })),
  })
  // SSE-KMS calls are counted and timed; the embedded KMS's own API (handleKms) is served as before.
  const kmsClient = instrumentKms(kms.client, metrics)
  const readiness = createReadiness({ meta, dataDir: cfg.dataDir, kms, external, log })
  const audit = openAuditLog(cfg.auditLog)
  // After the keyring was opened (a keyring others can read is refused there, not repaired here).
  const perms = await ownerOnlyDataDir(cfg.dataDir)
  if (perms.changed)
    log.warn('data directory entries let group or others in: made owner-only (0700/0600)', { paths: perms.changed })
  if (perms.failed.length)
    log.warn('could not make these data directory entries owner-only', {
      paths: perms.failed.slice(0, 20),
      count: perms.failed.length,
    })
  const svc: Services = {
    audit,
    config: cfg,
    meta,
    blobs,
    keyring,
    log,
    kms: { service: kms.service, accounts: kms.accounts, client: kmsClient },
    dataKeys: new ObjectDataKeys(kmsClient, (hit) => metrics.dataKeyCache('bucket-key', hit)),
    metrics,
    readiness,
  }
  const stopRotation =
    cfg.keyRotationDays > 0 ? scheduleKeyRotation(keyring, cfg.keyRotationDays, log, audit) : () => {}
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
  const lifecycle = startLifecycleSweeper(svc)
  const primary = (listeners.http ?? listeners.https)!
  log.info('config', { config: redactConfig(cfg) })
  let closing: Promise<void> | undefined
  return {
    url: primary.url,
    port: primary.port,
    https: listeners.https,
    lifecycle,
    close() {
      closing ??= (async () => {
        stopRotation()
        await listeners.close(shutdownGraceMs())
        await lifecycle.stop()
        await readiness.close()
        await meta.close()
        await kms.close()
        await audit.close()
      })()
      return closing
    },
  }
}

/**
 * Resolves when the server should stop: on SIGINT or SIGTERM, or — started by npm (`npm start`,
 * `npx strongroom`), which runs it under a shell that dies of the signal npm forwards instead of
 * passing it on — once the parent process is gone. The handlers stay installed: a second signal
 * (a terminal's Ctrl-C reaches npm, which forwards it again) must not cut the drain short.
 */
function stopRequested(): Promise<string> {
  return new Promise((resolve) => {
    let requested = false
    const stop = (why: string) => {
      if (requested) return
      requested = true
      resolve(why)
    }
    process.on('SIGINT', () => stop('SIGINT'))
    process.on('SIGTERM', () => stop('SIGTERM'))
    if (process.env.npm_lifecycle_event !== undefined) {
      const parent = process.ppid
      const watch = setInterval(() => {
        if (process.ppid === parent) return
        clearInterval(watch)
        stop('parent process exited')
      }, 250)
      watch.unref()
    }
  })
}

export async function main(argv: string[]): Promise<number> {
  restrictUmask()
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === 'help') {
    process.stdout.write(USAGE)
    return command === undefined ? 2 : 0
  }
  if (command === '--version' || command === 'version') {
    process.stdout.write(`${version()}\n`)
    return 0
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
  const stopping = stopRequested()
  const running = await startServer(cfg)
  for (const ep of [running.https?.url === running.url ? undefined : running.url, running.https?.url]) {
    if (ep) process.stdout.write(`strongroom listening on ${ep}\n`)
  }
  await stopping
  await running.close()
  return 0
}

/** Runs `strongroom <argv>` and exits with its code (bin/strongroom.js and this file as entry). */
export function runMain(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`strongroom: ${(err as Error)?.stack ?? String(err)}\n`)
      process.exit(1)
    },
  )
}

const isEntry =
  process.argv[1] &&
  path.resolve(process.argv[1]).replace(/\.[cm]?[jt]s$/, '') === path.resolve(import.meta.dirname, 'main')
if (isEntry) runMain(process.argv.slice(2))
