/**
 * @module The store under soak: a child `node --import tsx server/main.ts server` on 127.0.0.1 at a
 * fixed port and data directory, so it can be SIGKILLed and started again on the same ones; its
 * log (warn and above) appended to a file; its RSS and open descriptors sampled every second.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, readdirSync, type WriteStream } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import path from 'node:path'
import { procStatus } from '../proc.js'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
const GUARD = path.join(ROOT, 'bench', 'child-guard.mjs')

/** The embedded-KMS keys the soak's SSE-KMS writes use (created on first start, found after). */
export const KMS_KEYS = ['alias/soak-1', 'alias/soak-2'] as const

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port
      srv.close(() => resolve(port))
    })
  })
}

export function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return NaN
  }
}

export interface Sample {
  /** Seconds since the soak started. */
  t: number
  rss: number
  fds: number
}

export class StoreProcess {
  private child?: ChildProcess
  private readonly log: WriteStream
  private boots = 0
  readonly samples: Sample[] = []
  private timer?: NodeJS.Timeout
  /** Exits nobody asked for (a crash): reported as failures. */
  readonly crashes: string[] = []
  private killing = false

  constructor(
    readonly port: number,
    readonly dataDir: string,
    readonly logPath: string,
    private readonly t0: number,
    /** The checkout whose server/main.ts runs (default: this one). */
    private readonly storeRoot = ROOT,
  ) {
    this.log = createWriteStream(logPath, { flags: 'a', mode: 0o600 })
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  /** Starts the server and resolves once it listens (rejects if it exits first or takes > 60 s). */
  async start(): Promise<void> {
    this.boots++
    this.log.write(`--- soak: boot ${this.boots} ---\n`)
    const args = [
      '--import',
      'tsx',
      '--import',
      GUARD,
      path.join(this.storeRoot, 'server', 'main.ts'),
      'server',
      '--host',
      '127.0.0.1',
      '--port',
      String(this.port),
      '--data-dir',
      this.dataDir,
      '--log-level',
      'warn',
      '--allow-sse-c-on-new-buckets',
      '--kms-keys',
      KMS_KEYS.join(','),
    ]
    // Spawned as node itself (not the tsx CLI, a wrapper process): the pid is the server's, so the
    // SIGKILL lands on it and /proc shows its memory and descriptors.
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    })
    this.child = child
    child.stderr!.pipe(this.log, { end: false })
    let tail = ''
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      tail = (tail + d).slice(-4000)
    })
    await new Promise<void>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(
        () => reject(new Error(`the store did not start within 60 s (log: ${this.logPath})`)),
        60_000,
      )
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d
        if (/listening on http:\/\/127\.0\.0\.1:\d+/.test(out)) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`the store exited (${code ?? signal}) before listening (log: ${this.logPath}):\n${tail}`))
      })
    })
    child.once('exit', (code, signal) => {
      if (!this.killing)
        this.crashes.push(
          `the store exited by itself (${code ?? signal}) at ${((performance.now() - this.t0) / 1000).toFixed(1)} s`,
        )
    })
    this.timer ??= setInterval(() => this.sample(), 1000)
    this.sample()
  }

  sample(): Sample | undefined {
    const pid = this.child?.pid
    if (pid === undefined || this.child?.exitCode !== null || this.child?.signalCode !== null) return undefined
    const st = procStatus(pid)
    const fds = openFds(pid)
    if (!st) return undefined
    const s = { t: (performance.now() - this.t0) / 1000, rss: st.rss, fds }
    this.samples.push(s)
    return s
  }

  /** SIGKILLs the server (no drain, no flush) and waits for it to be gone. */
  async kill(): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    this.killing = true
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGKILL')
    await gone
    this.killing = false
  }

  /** Graceful stop (SIGTERM, then SIGKILL after 20 s); stops sampling. */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    const child = this.child
    if (child && child.exitCode === null && child.signalCode === null) {
      this.killing = true
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000)
      await gone
      clearTimeout(t)
    }
    await new Promise<void>((resolve) => this.log.end(resolve))
  }
}
