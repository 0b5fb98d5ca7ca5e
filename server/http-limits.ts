/**
 * @module The node:http limits every listener gets (README "Limits"): slow-loris headers are cut
 * after `headersTimeout`, idle sockets (a stalled upload or download) after `idleTimeout`, oversized
 * header sections answer 431. Request bodies have no overall deadline (large uploads may be slow);
 * XML and KMS JSON bodies are capped where they are read. Overridable through the environment
 * (tests use short timeouts): STRONGROOM_HEADERS_TIMEOUT_MS, STRONGROOM_IDLE_TIMEOUT_MS.
 */
import type { Server, ServerOptions } from 'node:http'

export interface HttpLimits {
  /** Time allowed to receive the complete request head (request line and headers). */
  headersTimeoutMs: number
  /** A socket with no traffic in either direction for this long is closed (0: never). */
  idleTimeoutMs: number
  /** How long an idle keep-alive connection is kept between requests. */
  keepAliveTimeoutMs: number
  /** Largest request head (request line and headers) in bytes; larger answers 431. */
  maxHeaderSize: number
  /** Headers beyond this count are ignored by the parser (they can then not be signed either). */
  maxHeadersCount: number
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 20_000,
  idleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderSize: 16 * 1024,
  maxHeadersCount: 500,
}

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value)
  return value !== undefined && value !== '' && Number.isInteger(n) && n >= 0 ? n : fallback
}

/** The limits, with the environment overrides applied. */
export function httpLimits(env: NodeJS.ProcessEnv = process.env): HttpLimits {
  const d = DEFAULT_HTTP_LIMITS
  return {
    ...d,
    headersTimeoutMs: positive(env.STRONGROOM_HEADERS_TIMEOUT_MS, d.headersTimeoutMs) || d.headersTimeoutMs,
    idleTimeoutMs: positive(env.STRONGROOM_IDLE_TIMEOUT_MS, d.idleTimeoutMs),
  }
}

/** Options for `createServer(options, listener)` (http or https). */
export function httpServerOptions(l: HttpLimits = httpLimits()): ServerOptions {
  return {
    maxHeaderSize: l.maxHeaderSize,
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: 0, // no overall deadline: a multi-GiB upload may legitimately take long
    keepAliveTimeout: l.keepAliveTimeoutMs,
    // headersTimeout is enforced by a periodic sweep; sweep often enough for the limit to mean something.
    connectionsCheckingInterval: Math.max(100, Math.min(5_000, Math.floor(l.headersTimeoutMs / 4))),
  }
}

/** The limits that are properties of the server rather than constructor options. */
export function applyHttpLimits(server: Server, l: HttpLimits = httpLimits()): Server {
  server.maxHeadersCount = l.maxHeadersCount
  server.timeout = l.idleTimeoutMs
  server.headersTimeout = l.headersTimeoutMs
  server.requestTimeout = 0
  server.keepAliveTimeout = l.keepAliveTimeoutMs
  return server
}
