/**
 * @module The store's listeners: plain HTTP on `--port` and/or HTTPS on `--https-port`, serving
 * the same request listener, each with the HTTP limits and one connection policy
 * (server/http-limits.ts); and their graceful close — stop accepting, let in-flight requests
 * finish (bounded), then cut what is left.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { handleClientError } from './app.js'
import { holdContinue } from './expect-continue.js'
import type { Config } from './config.js'
import { ConnectionPolicy, applyHttpLimits, httpServerOptions } from './http-limits.js'
import type { Logger } from './log.js'
import { loadTls } from './tls.js'

/** In-flight requests get this long after a shutdown starts (STRONGROOM_SHUTDOWN_TIMEOUT_MS overrides). */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000

export function shutdownGraceMs(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.STRONGROOM_SHUTDOWN_TIMEOUT_MS)
  return env.STRONGROOM_SHUTDOWN_TIMEOUT_MS && Number.isInteger(n) && n >= 0 ? n : DEFAULT_SHUTDOWN_GRACE_MS
}

export interface Endpoint {
  url: string
  port: number
}

export interface Listeners {
  http?: Endpoint
  https?: Endpoint & { certPath: string }
  /** Stops accepting; resolves once in-flight requests ended or were cut after `graceMs`. */
  close(graceMs: number): Promise<void>
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void

function listen(server: Server, port: number, host: string, scheme: 'http' | 'https'): Promise<Endpoint> {
  return new Promise<Endpoint>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      const addr = server.address() as AddressInfo
      const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
      resolve({ url: `${scheme}://${h}:${addr.port}`, port: addr.port })
    })
  })
}

/** Closes one server: no new connections, idle ones now, busy ones when idle, all after `graceMs`. */
function closeGracefully(server: Server, graceMs: number, log: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 100)
    const force = setTimeout(() => {
      log.warn('shutdown grace period over: closing connections with requests still in flight', { graceMs })
      server.closeAllConnections()
    }, graceMs)
    server.close(() => {
      clearInterval(sweep)
      clearTimeout(force)
      resolve()
    })
    server.closeIdleConnections()
  })
}

/** Opens the listeners the config asks for (at least one: config validation sees to it). */
export async function openListeners(cfg: Config, handler: Handler, log: Logger): Promise<Listeners> {
  const limits = cfg.limits
  const policy = new ConnectionPolicy(limits)
  let stopping = false
  // Once stopping, answers say Connection: close so clients do not reuse a closing connection.
  const serve: Handler = (req, res) => {
    if (stopping) res.shouldKeepAlive = false
    policy.watch(req, res)
    handler(req, res)
  }
  const serveAfterCheck: Handler = (req, res) => {
    holdContinue(req, res)
    serve(req, res)
  }
  // A refused request's connection is destroyed shortly after its answer, never left half-open.
  const onClientError = (err: NodeJS.ErrnoException, socket: Duplex) => {
    handleClientError(err, socket)
    policy.refused(socket)
  }
  const servers: Server[] = []
  const out: Omit<Listeners, 'close'> = {}
  try {
    if (cfg.http) {
      const server = applyHttpLimits(createServer(httpServerOptions(limits), serve), limits)
      server.on('checkContinue', serveAfterCheck)
      server.on('clientError', onClientError)
      policy.attach(server)
      servers.push(server)
      out.http = await listen(server, cfg.port, cfg.host, 'http')
    }
    const tls = await loadTls(cfg, log)
    if (tls && cfg.httpsPort !== undefined) {
      const https = createHttpsServer({ ...httpServerOptions(limits), cert: tls.cert, key: tls.key }, serve)
      const server = applyHttpLimits(https as unknown as Server, limits)
      server.on('checkContinue', serveAfterCheck)
      server.on('clientError', onClientError)
      policy.attach(server)
      // Failed handshakes (a client that does not trust the certificate) are the client's business.
      https.on('tlsClientError', (err) =>
        log.debug('TLS handshake failed', { code: (err as NodeJS.ErrnoException).code }),
      )
      servers.push(server)
      out.https = { ...(await listen(server, cfg.httpsPort, cfg.host, 'https')), certPath: tls.certPath }
    }
  } catch (err) {
    for (const s of servers) s.close(() => undefined)
    policy.close()
    throw err
  }
  return {
    ...out,
    async close(graceMs) {
      stopping = true
      await Promise.all(servers.map((s) => closeGracefully(s, graceMs, log)))
      policy.close()
    },
  }
}
