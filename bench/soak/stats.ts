/**
 * @module The soak's bookkeeping: every answer counted by operation and by status/error code,
 * judged expected or not, the restart windows connection errors are judged against, the data
 * failures (lost, stale, corrupt objects; lost configuration updates), and the summary table.
 */
import type { S3Answer } from './s3.js'
import type { Sample } from './server.js'

const MiB = 1024 * 1024

/** Times (performance.now()) the server was down: from the SIGKILL until it listened again. */
export class Restarts {
  readonly windows: Array<{ killAt: number; readyAt: number }> = []
  private waiting?: { promise: Promise<void>; resolve: () => void }

  down(now = performance.now()): void {
    this.windows.push({ killAt: now, readyAt: Infinity })
    let resolve!: () => void
    const promise = new Promise<void>((r) => (resolve = r))
    this.waiting = { promise, resolve }
  }

  up(now = performance.now()): void {
    const w = this.windows.at(-1)
    if (w) w.readyAt = now
    this.waiting?.resolve()
    this.waiting = undefined
  }

  /** Resolves at once while the server is up, else when it is back. */
  ready(): Promise<void> {
    return this.waiting?.promise ?? Promise.resolve()
  }

  get isDown(): boolean {
    return this.waiting !== undefined
  }

  /** True when a request sent at `start` and failed at `end` overlapped a restart. */
  overlaps(start: number, end: number): boolean {
    return this.windows.some((w) => start <= w.readyAt && end >= w.killAt)
  }
}

export type Verdict = { ok: true } | { ok: false; expected: boolean; why: string }

export interface Failure {
  what: string
  detail: string
}

interface KindCount {
  ops: number
  ok: number
  expected: number
  unexpected: number
}

export class Stats {
  readonly kinds = new Map<string, KindCount>()
  /** `<kind>\t<status> <code>\t<expected: why | UNEXPECTED: why>` → count */
  readonly codes = new Map<string, number>()
  readonly failures: Failure[] = []
  /** Data failures by class: lost, stale, corrupt, resurrected, bad-read, config-lost, … */
  readonly data = new Map<string, number>()
  /** Plain counters of interest (e.g. how races came out), printed as they were first tallied. */
  readonly tallies = new Map<string, number>()
  private unexpectedCount = 0

  tally(name: string): void {
    this.tallies.set(name, (this.tallies.get(name) ?? 0) + 1)
  }

  constructor(private readonly restarts: Restarts) {}

  /**
   * Judges and counts one answer. A 2xx, or a status/code listed in `expected` (code → why), is
   * fine; a connection error is fine when the request overlapped a restart; anything else —
   * every 5xx among it — is unexpected.
   */
  judge(kind: string, ans: S3Answer, start: number, expected: Record<string, string> = {}, context = ''): Verdict {
    let v: Verdict
    if (ans.connError === 'TIMEOUT') {
      v = { ok: false, expected: false, why: 'no answer within the request bound' }
    } else if (ans.connError) {
      v = this.restarts.overlaps(start, performance.now())
        ? { ok: false, expected: true, why: 'restart' }
        : { ok: false, expected: false, why: `connection error outside a restart` }
    } else if (ans.status >= 200 && ans.status < 300) {
      v = { ok: true }
    } else {
      const why = expected[`${ans.status} ${ans.code}`]
      v =
        why !== undefined
          ? { ok: false, expected: true, why }
          : {
              ok: false,
              expected: false,
              why: ans.status >= 500 ? 'a 5xx is never expected' : 'not in the expected set',
            }
    }
    this.count(kind, ans, v, context)
    return v
  }

  /** Counts an answer whose verdict the caller decided (e.g. a GET whose body is checked). */
  count(kind: string, ans: S3Answer, v: Verdict, context = ''): void {
    const k = this.kinds.get(kind) ?? { ops: 0, ok: 0, expected: 0, unexpected: 0 }
    this.kinds.set(kind, k)
    k.ops++
    if (v.ok) {
      k.ok++
      return
    }
    const label = ans.connError ? `conn ${ans.connError}` : `${ans.status} ${ans.code}`
    const key = `${kind}\t${label}\t${v.expected ? `expected: ${v.why}` : `UNEXPECTED: ${v.why}`}`
    this.codes.set(key, (this.codes.get(key) ?? 0) + 1)
    if (v.expected) {
      k.expected++
    } else {
      k.unexpected++
      this.unexpectedCount++
      this.fail(
        `unexpected ${kind} ${label}`,
        `${context}${ans.requestId ? ` request-id ${ans.requestId}` : ''} (${v.why})`,
      )
    }
  }

  /** A data failure: an object or configuration that is not what was acknowledged. */
  dataFailure(cls: string, detail: string): void {
    this.data.set(cls, (this.data.get(cls) ?? 0) + 1)
    this.fail(cls, detail)
  }

  private fail(what: string, detail: string): void {
    if (this.failures.length < 200) this.failures.push({ what, detail })
  }

  get unexpected(): number {
    return this.unexpectedCount
  }

  get dataFailures(): number {
    let n = 0
    for (const v of this.data.values()) n += v
    return n
  }
}

const pad = (s: string | number, w: number) => String(s).padStart(w)
const padR = (s: string, w: number) => s.padEnd(w)

export interface SummaryInput {
  stats: Stats
  seconds: number
  clients: number
  samples: Sample[]
  restarts: Restarts
  t0: number
  objectsChecked: number
  configsChecked: number
  logPath: string
}

/** The summary table, as text. */
export function summary(s: SummaryInput): string {
  const out: string[] = []
  const kinds = [...s.stats.kinds.entries()].sort((a, b) => b[1].ops - a[1].ops)
  out.push(
    `${padR('operation', 46)} ${pad('ops', 7)} ${pad('ops/s', 7)} ${pad('2xx', 7)} ${pad('expected', 8)} ${pad('UNEXPECTED', 10)}`,
  )
  let total = 0
  for (const [kind, k] of kinds) {
    if (kind.startsWith('final ')) continue
    total += k.ops
    out.push(
      `${padR(kind, 46)} ${pad(k.ops, 7)} ${pad((k.ops / s.seconds).toFixed(1), 7)} ${pad(k.ok, 7)} ${pad(k.expected, 8)} ${pad(k.unexpected, 10)}`,
    )
  }
  out.push(`${padR('all (during the run)', 46)} ${pad(total, 7)} ${pad((total / s.seconds).toFixed(1), 7)}`)
  for (const [kind, k] of kinds) {
    if (!kind.startsWith('final ')) continue
    out.push(
      `${padR(kind, 46)} ${pad(k.ops, 7)} ${pad('', 7)} ${pad(k.ok, 7)} ${pad(k.expected, 8)} ${pad(k.unexpected, 10)}`,
    )
  }
  out.push('', 'Answers other than 2xx, by operation and status/code:')
  if (s.stats.codes.size === 0) out.push('  (none)')
  for (const [key, n] of [...s.stats.codes.entries()].sort((a, b) => b[1] - a[1])) {
    const [kind, label, verdict] = key.split('\t')
    out.push(`  ${padR(kind, 44)} ${padR(label, 28)} ${pad(n, 6)}  ${verdict}`)
  }
  if (s.stats.tallies.size) {
    out.push('')
    for (const [name, n] of s.stats.tallies) out.push(`  ${padR(name, 52)} ${pad(n, 6)}`)
  }
  out.push('', `Data checks (${s.objectsChecked} object reads and ${s.configsChecked} configuration reads at the end):`)
  const classes = [
    'lost',
    'stale',
    'resurrected',
    'corrupt',
    'bad-read',
    'config-lost',
    'config-bad-read',
    'wrong-etag',
    'wrong-sse',
  ]
  for (const c of classes) out.push(`  ${padR(c, 16)} ${pad(s.stats.data.get(c) ?? 0, 6)}`)
  for (const [c, n] of s.stats.data) if (!classes.includes(c)) out.push(`  ${padR(c, 16)} ${pad(n, 6)}`)
  const rss = s.samples.map((x) => x.rss).filter(Number.isFinite)
  const fds = s.samples.map((x) => x.fds).filter(Number.isFinite)
  const restarts = s.restarts.windows.map(
    (w) =>
      `killed at ${((w.killAt - s.t0) / 1000).toFixed(1)} s, listening again after ${((w.readyAt - w.killAt) / 1000).toFixed(1)} s`,
  )
  out.push(
    '',
    `Server (sampled every second, ${s.samples.length} samples): peak RSS ${rss.length ? (Math.max(...rss) / MiB).toFixed(0) : '-'} MiB, ` +
      `peak open descriptors ${fds.length ? Math.max(...fds) : '-'}, last sample ${rss.length ? (rss.at(-1)! / MiB).toFixed(0) : '-'} MiB / ${fds.at(-1) ?? '-'} fds`,
    `Restarts: ${restarts.length ? restarts.join('; ') : 'none'}`,
    `Server log (warn and above): ${s.logPath}`,
  )
  if (s.stats.failures.length) {
    out.push('', `First failures (${s.stats.failures.length}${s.stats.failures.length >= 200 ? '+' : ''}):`)
    for (const f of s.stats.failures.slice(0, 40)) out.push(`  ${f.what}: ${f.detail}`)
  }
  return out.join('\n')
}
