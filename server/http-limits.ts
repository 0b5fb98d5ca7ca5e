/**
 * @module The HTTP limits every listener gets (README "Limits") and the connection policy that
 * enforces what node:http does not:
 *
 * - the request head must arrive within `headersTimeoutMs`; oversized heads answer 431;
 * - a socket with no traffic either way for `idleTimeoutMs` is closed;
 * - a request body must keep an average of `bodyMinRate` bytes/s once `bodyRateGraceMs` have
 *   passed, counting only the time the server was ready to read (time the server itself stalls
 *   the upload — a slow disk, a KMS call — is not the client's); a slower one is cut;
 * - every refused or timed-out connection is destroyed, after a short bounded linger so the
 *   answer can reach the client — never left half-open for a client that keeps trickling bytes;
 * - an answer sent before its request body has fully arrived (a 403 for an unauthenticated PUT
 *   with a huge Content-Length) says `Connection: close` and ends the connection the same way,
 *   instead of draining the rest of the body for as long as the client sends it;
 * - optionally, at most `maxConnectionsPerPeer` open connections per client address.
 *
 * Request bodies have no overall deadline (a large upload on a slow link may take long, as long as
 * it keeps the rate); XML and KMS JSON bodies are capped where they are read.
 */
import {
  ServerResponse,
  type IncomingMessage,
  type OutgoingHttpHeader,
  type OutgoingHttpHeaders,
  type Server,
  type ServerOptions,
} from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { S3Error } from './s3/errors.js'

export interface HttpLimits {
  /** Time allowed to receive the complete request head (request line and headers); also the TLS handshake's. */
  headersTimeoutMs: number
  /** A socket with no traffic in either direction for this long is closed (0: never). */
  idleTimeoutMs: number
  /** How long an idle keep-alive connection is kept between requests. */
  keepAliveTimeoutMs: number
  /** Largest request head (request line and headers) in bytes; larger answers 431. */
  maxHeaderSize: number
  /** Headers beyond this count are ignored by the parser (they can then not be signed either). */
  maxHeadersCount: number
  /** Least average rate of a request body in bytes/s, after the grace period (0: no bound). */
  bodyMinRate: number
  /** Time a request body gets before its rate is held to `bodyMinRate`. */
  bodyRateGraceMs: number
  /** Open connections one client address may hold; more are closed at once (0: no cap). */
  maxConnectionsPerPeer: number
}

/** A refused or early-answered connection gets this long for its answer to reach the client. */
export const LINGER_MS = 2_000

/** Options for `createServer(options, listener)` (http or https). */
export function httpServerOptions(l: HttpLimits): ServerOptions & { handshakeTimeout: number } {
  return {
    maxHeaderSize: l.maxHeaderSize,
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: 0, // no overall deadline: a multi-GiB upload may legitimately take long
    keepAliveTimeout: l.keepAliveTimeoutMs,
    // headersTimeout is enforced by a periodic sweep; sweep often enough for the limit to mean something.
    connectionsCheckingInterval: Math.max(100, Math.min(5_000, Math.floor(l.headersTimeoutMs / 4))),
    ServerResponse: EarlyAnswerAwareResponse as unknown as typeof ServerResponse,
    // A TLS client trickling its handshake is held to the same bound as one trickling its headers.
    handshakeTimeout: l.headersTimeoutMs,
  }
}

/** The limits that are properties of the server rather than constructor options. */
export function applyHttpLimits(server: Server, l: HttpLimits): Server {
  server.maxHeadersCount = l.maxHeadersCount
  server.timeout = l.idleTimeoutMs
  server.headersTimeout = l.headersTimeoutMs
  server.requestTimeout = 0
  server.keepAliveTimeout = l.keepAliveTimeoutMs
  return server
}

const lingering = new WeakSet<Duplex>()

/**
 * Ends a connection: its answer (already written) goes out with a FIN, and the socket is destroyed
 * after LINGER_MS at the latest. With `keepReading`, what the client still sends meanwhile is
 * read and discarded (a client busy uploading then sees the answer rather than a reset) and the
 * socket closes as soon as the client closes its side; otherwise nothing more is read.
 */
export function lingerThenDestroy(socket: Duplex, keepReading: boolean): void {
  if (socket.destroyed || lingering.has(socket)) return
  lingering.add(socket)
  if (!keepReading) socket.pause()
  if (socket.writable) socket.end()
  const timer = setTimeout(() => socket.destroy(), LINGER_MS)
  timer.unref()
  socket.once('close', () => clearTimeout(timer))
}

/**
 * The listeners' response class: an answer written before its request's body has fully arrived
 * says `Connection: close`, and its connection lingers, then is destroyed (node:http would
 * otherwise keep it alive and read the rest of the body, at whatever pace the client likes).
 */
class EarlyAnswerAwareResponse extends ServerResponse {
  override writeHead(
    statusCode: number,
    statusMessage?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    headers?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    const req = this.req
    const socket = req.socket as Socket | null
    if (!req.complete && socket && !this.headersSent) {
      this.shouldKeepAlive = false
      // node:http ends a `Connection: close` answer with destroySoon() — destroy as soon as it is
      // flushed, which resets a client still sending (its answer can be lost): linger instead,
      // discarding the rest of the body, whoever had been reading it.
      socket.destroySoon = () => {
        req.resume()
        lingerThenDestroy(socket, true)
      }
    }
    return typeof statusMessage === 'string'
      ? super.writeHead(statusCode, statusMessage, headers)
      : super.writeHead(statusCode, statusMessage)
  }
}

/**
 * Body-rate bookkeeping of one request (pure: the caller supplies the clock). The client is
 * charged only for time the server was reading: while the socket is paused by the server's own
 * backpressure the clock stops.
 */
export class BodyRate {
  readonly #minRate: number
  readonly #graceMs: number
  readonly #start: number
  #pausedMs = 0
  #pausedSince: number | undefined

  constructor(minRate: number, graceMs: number, now: number, paused: boolean) {
    this.#minRate = minRate
    this.#graceMs = graceMs
    this.#start = now
    if (paused) this.#pausedSince = now
  }

  pause(now: number): void {
    this.#pausedSince ??= now
  }

  resume(now: number): void {
    if (this.#pausedSince === undefined) return
    this.#pausedMs += now - this.#pausedSince
    this.#pausedSince = undefined
  }

  /** Whether `received` bytes by `now` are below the bound (after the grace, minRate per second). */
  tooSlow(now: number, received: number): boolean {
    const paused = this.#pausedMs + (this.#pausedSince === undefined ? 0 : now - this.#pausedSince)
    const clientMs = now - this.#start - paused
    return clientMs > this.#graceMs && received < (this.#minRate * (clientMs - this.#graceMs)) / 1000
  }
}

interface Watched {
  req: IncomingMessage
  rate: BodyRate
  socket: Socket
  startBytes: number
  stop(): void
}

/** Normalized client address: IPv4-mapped IPv6 addresses count as their IPv4 address. */
function peerOf(socket: Socket): string | undefined {
  const a = socket.remoteAddress
  return a?.startsWith('::ffff:') ? a.slice(7) : a
}

/**
 * The connection policy shared by every listener of one server (a peer's connections to the
 * HTTP and the HTTPS port count together).
 */
export class ConnectionPolicy {
  readonly #limits: HttpLimits
  readonly #peers = new Map<string, number>()
  readonly #watched = new Set<Watched>()
  #sweep: NodeJS.Timeout | undefined

  constructor(limits: HttpLimits) {
    this.#limits = limits
  }

  /** Attaches the policy to a listener (before it listens). */
  attach(server: Server): void {
    if (this.#limits.maxConnectionsPerPeer > 0) server.on('connection', (socket: Socket) => this.#admit(socket))
  }

  /** Counts the peer's open connections; one over the cap is destroyed before anything is read. */
  #admit(socket: Socket): void {
    const peer = peerOf(socket)
    if (peer === undefined) {
      socket.destroy()
      return
    }
    const open = (this.#peers.get(peer) ?? 0) + 1
    this.#peers.set(peer, open)
    socket.once('close', () => {
      const left = (this.#peers.get(peer) ?? 1) - 1
      if (left > 0) this.#peers.set(peer, left)
      else this.#peers.delete(peer)
    })
    if (open > this.#limits.maxConnectionsPerPeer) socket.destroy()
  }

  /** After the clientError handler has answered a refused request: the connection is destroyed soon. */
  refused(socket: Duplex): void {
    lingerThenDestroy(socket, false)
  }

  /** Holds a request's body to the minimum rate until it has arrived or the request is over. */
  watch(req: IncomingMessage, res: ServerResponse): void {
    const { bodyMinRate, bodyRateGraceMs } = this.#limits
    if (bodyMinRate <= 0 || req.complete) return
    const socket = req.socket
    const rate = new BodyRate(bodyMinRate, bodyRateGraceMs, Date.now(), socket.isPaused())
    const onPause = () => rate.pause(Date.now())
    const onResume = () => rate.resume(Date.now())
    const entry: Watched = {
      req,
      rate,
      socket,
      startBytes: socket.bytesRead,
      stop: () => {
        if (!this.#watched.delete(entry)) return
        socket.off('pause', onPause)
        socket.off('resume', onResume)
      },
    }
    socket.on('pause', onPause)
    socket.on('resume', onResume)
    req.once('end', entry.stop)
    req.once('close', entry.stop)
    res.once('finish', entry.stop)
    res.once('close', entry.stop)
    this.#watched.add(entry)
    if (!this.#sweep) {
      this.#sweep = setInterval(() => this.#check(), Math.max(100, Math.min(1_000, Math.floor(bodyRateGraceMs / 4))))
      this.#sweep.unref()
    }
  }

  #check(): void {
    const now = Date.now()
    for (const w of this.#watched) {
      if (w.req.complete || w.socket.destroyed) {
        w.stop()
        continue
      }
      if (!w.rate.tooSlow(now, w.socket.bytesRead - w.startBytes)) continue
      w.stop()
      // The body reader fails with RequestTimeout (a client fault, as S3 names it); the
      // connection is destroyed with it: a client this slow would not read an answer either.
      w.req.destroy(new S3Error('RequestTimeout'))
    }
    if (this.#watched.size === 0 && this.#sweep) {
      clearInterval(this.#sweep)
      this.#sweep = undefined
    }
  }

  /** Stops the rate sweep (the listeners are closed). */
  close(): void {
    if (this.#sweep) clearInterval(this.#sweep)
    this.#sweep = undefined
  }
}
