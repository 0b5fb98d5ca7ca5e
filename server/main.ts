/**
 * @module Process entry: `strongroom server [--host H] [--port P] [--data-dir D] [--region R]`.
 * Loads the config, opens the stores, serves, and shuts down gracefully on SIGINT/SIGTERM.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { RootKeyring } from '../crypto/keyring.js'
import type { HttpKmsClientOptions } from '../crypto/kms/http-client.js'
import { FsBlobStore } from '../storage/fs/blobs.js'
import { collectOrphans } from '../storage/gc.js'
import { LevelMetadataStore } from '../storage/level/metadata.js'
import { createRequestListener, handleClientError } from './app.js'
import { ConfigError, SERVER_USAGE, loadConfig, redactConfig, type Config } from './config.js'
import { openKms } from './kms/setup.js'
import { createLogger } from './log.js'
import type { Services } from './s3/context.js'
import { ObjectDataKeys } from './s3/kms-keys.js'

const USAGE = `Usage: strongroom <command> [options]

Commands:
  server     serve the S3 API (see: strongroom server --help)
`

/** HTTP client options for `--kms-endpoint` (credentials: the KMS pair, else the first S3 pair). */
function externalKms(cfg: Config): HttpKmsClientOptions | undefined {
  if (!cfg.kmsEndpoint) return undefined
  const accessKeyId = cfg.kmsAccessKeyId ?? cfg.credentials[0].accessKeyId
  const secretAccessKey = cfg.kmsSecretAccessKey ?? cfg.credentials[0].secretAccessKey
  return { endpoint: cfg.kmsEndpoint, region: cfg.kmsRegion, credentials: { accessKeyId, secretAccessKey } }
}

export interface RunningServer {
  url: string
  port: number
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
  const kms = await openKms({
    dataDir: cfg.dataDir, region: cfg.region, accountId: cfg.accountId, keyring, external: externalKms(cfg),
    keys: cfg.kmsKeys.map((alias) => ({ alias })),
  })
  const svc: Services = { config: cfg, meta, blobs, keyring, log, kms, dataKeys: new ObjectDataKeys(kms.client) }
  const server: Server = createServer(createRequestListener(svc))
  server.on('clientError', handleClientError)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(cfg.port, cfg.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const addr = server.address() as AddressInfo
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  const url = `http://${host}:${addr.port}`
  log.info('config', { config: redactConfig(cfg) })
  let closing: Promise<void> | undefined
  return {
    url,
    port: addr.port,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeIdleConnections()
        })
        await meta.close()
        await kms.close()
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
  process.stdout.write(`strongroom listening on ${running.url}\n`)
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
