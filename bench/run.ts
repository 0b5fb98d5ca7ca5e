import { setTimeout as sleep } from 'node:timers/promises'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { BenchClient, BenchError } from './client.js'
import { MEMORY_BOUND_MIB, QUICK, ROUNDS, SECONDS, VERIFY, WARMUP_SECONDS, opt, usageError } from './options.js'
import { procCpu, procStatus, RssSampler } from './proc.js'
import { cleanup, startServer, tempDirs, type Server, type TargetName } from './servers.js'
import { COLS, fmt, pad, padR, row } from './table.js'

const KiB = 1024
const MiB = 1024 * KiB
const BUCKET = 'bench'

// ---------------------------------------------------------------------------------------------
// Cases

type Op = 'put' | 'get' | 'range'

interface SizeClass {
  label: string
  size: number
  /** Distinct objects (and distinct contents): key j always holds content j. */
  keys: number
  /** Bounds on ops per measured case; the case stops at `seconds` once minOps are done. */
  minOps: (conc: number) => number
  maxOps: number
}

const SIZES: Record<string, SizeClass> = {
  '4k': { label: '4 KiB', size: 4 * KiB, keys: 64, minOps: () => (QUICK ? 20 : 100), maxOps: 200_000 },
  '1m': { label: '1 MiB', size: MiB, keys: 16, minOps: () => (QUICK ? 8 : 30), maxOps: 20_000 },
  '64m': { label: '64 MiB', size: 64 * MiB, keys: 2, minOps: (c) => (QUICK ? c : 3 * c), maxOps: 60 },
}

interface CaseSpec {
  name: string
  op: Op
  sizeClass: string
  concurrency: number[]
  /** For range: bytes per ranged GET. */
  rangeLength?: number
  /** Size class whose op bounds apply (default: sizeClass). */
  boundsClass?: string
}

const CASES: CaseSpec[] = [
  { name: 'put-4k', op: 'put', sizeClass: '4k', concurrency: [1, 8] },
  { name: 'get-4k', op: 'get', sizeClass: '4k', concurrency: [1, 8] },
  { name: 'put-1m', op: 'put', sizeClass: '1m', concurrency: [1, 8] },
  { name: 'get-1m', op: 'get', sizeClass: '1m', concurrency: [1, 8] },
  // Right after get-1m, its reference, so both run with the server in the same state (the 64 MiB
  // cases leave a bigger heap behind, and with it slower garbage collections).
  { name: 'range-1m', op: 'range', sizeClass: '64m', concurrency: [1, 8], rangeLength: MiB, boundsClass: '1m' },
  { name: 'put-64m', op: 'put', sizeClass: '64m', concurrency: [1, 2] },
  { name: 'get-64m', op: 'get', sizeClass: '64m', concurrency: [1, 2] },
]

interface Target {
  name: string
  min: number
  /** The figure and its reference, from the results. */
  pick: (r: ResultIndex, conc: number) => { value?: number; ref?: number }
  case: string
  concurrency: number[]
}

const TARGETS: Target[] = [
  { name: 'SSE-S3 4 KiB PUT vs baseline', case: 'put-4k', concurrency: [1, 8], min: 0.5, pick: vsBaseline('put-4k') },
  { name: 'SSE-S3 4 KiB GET vs baseline', case: 'get-4k', concurrency: [1, 8], min: 0.5, pick: vsBaseline('get-4k') },
  {
    name: 'SSE-S3 64 MiB PUT vs baseline',
    case: 'put-64m',
    concurrency: [1, 2],
    min: 0.6,
    pick: vsBaseline('put-64m'),
  },
  {
    name: 'SSE-S3 64 MiB GET vs baseline',
    case: 'get-64m',
    concurrency: [1, 2],
    min: 0.6,
    pick: vsBaseline('get-64m'),
  },
  {
    name: '1 MiB range of 64 MiB vs whole 1 MiB GET (store)',
    case: 'range-1m',
    concurrency: [1, 8],
    min: 0.9,
    pick: (r, c) => ({ value: r.get('store', 'range-1m', c)?.opsPerSec, ref: r.get('store', 'get-1m', c)?.opsPerSec }),
  },
]

function vsBaseline(name: string) {
  return (r: ResultIndex, c: number) => ({
    value: r.get('store', name, c)?.opsPerSec,
    ref: r.get('baseline', name, c)?.opsPerSec,
  })
}

/** Which (case, concurrency) pairs run, after --only (a range case pulls in its get-1m reference). */
function selectRuns(): Array<{ spec: CaseSpec; conc: number }> {
  const filters = opt.only
    ? opt.only
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined
  const want = new Set<string>()
  for (const spec of CASES) {
    for (const conc of spec.concurrency) {
      const id = `${spec.name}@${conc}`
      if (!filters || filters.some((f) => id.includes(f))) {
        want.add(id)
        if (spec.op === 'range') want.add(`get-1m@${conc}`)
      }
    }
  }
  if (want.size === 0) usageError(`--only ${opt.only} matches no case (cases: ${CASES.map((c) => c.name).join(', ')})`)
  const runs: Array<{ spec: CaseSpec; conc: number }> = []
  for (const spec of CASES)
    for (const conc of spec.concurrency) if (want.has(`${spec.name}@${conc}`)) runs.push({ spec, conc })
  return runs
}

// ---------------------------------------------------------------------------------------------
// Content: distinct random bytes per key, with their MD5 (the store's ETag)

interface Pool {
  contents: Buffer[]
  md5: string[]
}
const pools = new Map<string, Pool>()

function poolOf(sizeClass: string): Pool {
  let pool = pools.get(sizeClass)
  if (!pool) {
    const sc = SIZES[sizeClass]
    const contents = Array.from({ length: sc.keys }, () => randomBytes(sc.size))
    pool = { contents, md5: contents.map((c) => createHash('md5').update(c).digest('hex')) }
    pools.set(sizeClass, pool)
  }
  return pool
}

const keyOf = (sizeClass: string, j: number) => `/${BUCKET}/${sizeClass}/k${j}`

/** Deterministic start offset of ranged GET number i (same sequence for every server). */
function rangeStart(i: number, objectSize: number, length: number): number {
  let x = Math.imul(i + 1, 0x9e3779b1)
  x ^= x >>> 15
  x = Math.imul(x, 0x85ebca77)
  x ^= x >>> 13
  return (x >>> 0) % (objectSize - length + 1)
}

// ---------------------------------------------------------------------------------------------
// Running one case

interface CaseResult {
  target: TargetName
  label: string
  case: string
  concurrency: number
  ops: number
  seconds: number
  opsPerSec: number
  mibPerSec: number
  /** (max − min) of the per-round ops/s, as % of the aggregate: how noisy the figure is. */
  spreadPct: number
  p50ms: number
  p99ms: number
  serverCpuPct: number
  /** Server CPU time per operation: steadier than ops/s when other processes compete. */
  serverCpuMsPerOp: number
  clientCpuPct: number
  serverPeakRssMiB: number
  serverIdleRssMiB: number
}

class ResultIndex {
  readonly all: CaseResult[] = []
  get(target: TargetName, name: string, conc: number): CaseResult | undefined {
    return this.all.find((r) => r.target === target && r.case === name && r.concurrency === conc)
  }
}

function makeOp(
  spec: CaseSpec,
  conc: number,
  client: BenchClient,
  isStore: boolean,
): { bytes: number; run: (i: number) => Promise<void> } {
  const sc = SIZES[spec.sizeClass]
  const pool = poolOf(spec.sizeClass)
  switch (spec.op) {
    case 'put':
      return {
        bytes: sc.size,
        // Every PUT creates a new key: an overwrite would add the old object's deletion (done
        // inline by rename(2) in the baseline, after the answer in the store) to the figure.
        run: (i) => {
          const j = i % sc.keys
          return client.put(
            `/${BUCKET}/${spec.sizeClass}/put-c${conc}-${i}`,
            pool.contents[j],
            isStore ? pool.md5[j] : undefined,
          )
        },
      }
    case 'get':
      return {
        bytes: sc.size,
        run: async (i) => {
          const j = i % sc.keys
          await client.get(keyOf(spec.sizeClass, j), pool.contents[j])
        },
      }
    case 'range': {
      const len = spec.rangeLength!
      return {
        bytes: len,
        run: async (i) => {
          const start = rangeStart(i, sc.size, len)
          await client.get(keyOf(spec.sizeClass, 0), pool.contents[0], { start, end: start + len - 1 })
        },
      }
    }
  }
}

/** Runs `conc` workers over op indexes from `first` until the time/ops bounds; returns latencies. */
async function drive(
  conc: number,
  run: (i: number) => Promise<void>,
  bounds: { seconds: number; minOps: number; maxOps: number; first: number },
): Promise<{ ops: number; seconds: number; latencies: number[] }> {
  const latencies: number[] = []
  let next = 0
  const t0 = performance.now()
  const deadline = t0 + bounds.seconds * 1000
  const worker = async () => {
    for (;;) {
      const n = next
      if (n >= bounds.maxOps || (n >= bounds.minOps && performance.now() >= deadline)) return
      next++
      const s = performance.now()
      await run(bounds.first + n)
      latencies.push(performance.now() - s)
    }
  }
  await Promise.all(Array.from({ length: conc }, worker))
  return { ops: latencies.length, seconds: (performance.now() - t0) / 1000, latencies }
}

const populated = new Set<string>()

/** Makes sure every key of a size class holds its known content on this server (untimed). */
async function ensureObjects(server: Server, client: BenchClient, sizeClass: string): Promise<void> {
  const id = `${server.name}:${sizeClass}`
  if (populated.has(id)) return
  const pool = poolOf(sizeClass)
  for (let j = 0; j < pool.contents.length; j++) {
    await client.put(keyOf(sizeClass, j), pool.contents[j], server.kind === 'store' ? pool.md5[j] : undefined)
  }
  populated.add(id)
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN

/**
 * One (case, concurrency) on one server: prepared once (objects in place, warm-up), then measured
 * in ROUNDS slices that alternate with the other server's, so a burst of outside load hits both.
 */
class CaseRunner {
  private readonly client: BenchClient
  private readonly op: ReturnType<typeof makeOp>
  private readonly bounds: SizeClass
  private latencies: number[] = []
  private ops = 0
  private seconds = 0
  private serverCpu = 0
  private clientCpu = 0
  private peak = 0
  private readonly perRound: number[] = []

  constructor(
    private readonly server: Server,
    private readonly spec: CaseSpec,
    private readonly conc: number,
  ) {
    this.bounds = SIZES[spec.boundsClass ?? spec.sizeClass]
    this.client = new BenchClient({ endpoint: server.url, maxSockets: conc, verify: VERIFY })
    this.op = makeOp(spec, conc, this.client, server.kind === 'store')
  }

  async prepare(): Promise<void> {
    if (this.spec.op !== 'put') await ensureObjects(this.server, this.client, this.spec.sizeClass)
    // Warm-up: JIT, sockets, page cache; at least one op per worker.
    await drive(this.conc, this.op.run, {
      seconds: WARMUP_SECONDS,
      minOps: this.conc,
      maxOps: this.bounds.maxOps,
      first: 1_000_000,
    })
  }

  async slice(): Promise<void> {
    const pid = this.server.pid
    const rss = new RssSampler(pid)
    const cpu0 = procCpu(pid)
    const cli0 = process.cpuUsage()
    const r = await drive(this.conc, this.op.run, {
      seconds: SECONDS / ROUNDS,
      minOps: Math.max(this.conc, Math.ceil(this.bounds.minOps(this.conc) / ROUNDS)),
      maxOps: Math.ceil(this.bounds.maxOps / ROUNDS),
      first: this.ops, // PUT keys stay unique across slices
    })
    const cli = process.cpuUsage(cli0)
    this.serverCpu += procCpu(pid) - cpu0
    this.clientCpu += (cli.user + cli.system) / 1e6
    this.peak = Math.max(this.peak, rss.stop())
    this.ops += r.ops
    this.seconds += r.seconds
    this.latencies = this.latencies.concat(r.latencies)
    this.perRound.push(r.ops / r.seconds)
  }

  finish(idleRss: number): CaseResult {
    this.client.close()
    const sorted = this.latencies.sort((a, b) => a - b)
    const opsPerSec = this.ops / this.seconds
    return {
      target: this.server.name,
      label: this.server.label,
      case: this.spec.name,
      concurrency: this.conc,
      ops: this.ops,
      seconds: this.seconds,
      opsPerSec,
      mibPerSec: (this.ops * this.op.bytes) / MiB / this.seconds,
      spreadPct:
        this.perRound.length > 1 ? ((Math.max(...this.perRound) - Math.min(...this.perRound)) / opsPerSec) * 100 : NaN,
      p50ms: percentile(sorted, 0.5),
      p99ms: percentile(sorted, 0.99),
      serverCpuPct: (this.serverCpu / this.seconds) * 100,
      serverCpuMsPerOp: (this.serverCpu * 1000) / this.ops,
      clientCpuPct: (this.clientCpu / this.seconds) * 100,
      serverPeakRssMiB: this.peak / MiB,
      serverIdleRssMiB: idleRss / MiB,
    }
  }

  close(): void {
    this.client.close()
  }
}

// ---------------------------------------------------------------------------------------------
// Output

function targetFor(name: string, conc: number): Target | undefined {
  return TARGETS.find((t) => t.case === name && t.concurrency.includes(conc))
}

function printResult(r: CaseResult, index: ResultIndex): void {
  let ratio = ''
  let target = ''
  let verdict = ''
  if (r.target === 'store') {
    const base = index.get('baseline', r.case, r.concurrency)
    if (base) ratio = `${fmt(r.opsPerSec / base.opsPerSec, 2)}×`
    const t = targetFor(r.case, r.concurrency)
    if (t && t.case !== 'range-1m' && !opt['ref-store']) {
      target = `≥${t.min.toFixed(2)}×`
      if (base) verdict = r.opsPerSec / base.opsPerSec >= t.min ? 'ok' : 'MISS'
    }
  }
  const line = row([
    r.case,
    String(r.concurrency),
    r.label,
    String(r.ops),
    fmt(r.opsPerSec),
    fmt(r.mibPerSec),
    Number.isFinite(r.spreadPct) ? `${fmt(r.spreadPct, 0)}%` : '-',
    fmt(r.p50ms, 2),
    fmt(r.p99ms, 2),
    `${fmt(r.serverCpuPct, 0)}%`,
    fmt(r.serverCpuMsPerOp, r.serverCpuMsPerOp < 10 ? 2 : 0),
    `${fmt(r.clientCpuPct, 0)}%`,
    `${fmt(r.serverPeakRssMiB, 0)}M`,
    ratio,
    target,
    verdict,
  ])
  process.stdout.write(line + '\n')
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const runs = selectRuns()
  const targets: TargetName[] = opt.target === 'both' ? ['baseline', 'store'] : [opt.target as TargetName]
  const parent = opt['data-dir'] ? path.resolve(opt['data-dir']) : os.tmpdir()
  const root = await mkdtemp(path.join(parent, 'strongroom-bench-'))
  tempDirs.add(root)
  const storeArgs = (opt['store-node-args'] ?? '').split(/\s+/).filter(Boolean)

  const cpuModel = os.cpus()[0]?.model ?? '?'
  process.stdout.write(
    `strongroom bench — node ${process.version}, ${os.cpus().length} × ${cpuModel}, data under ${root}\n` +
      `${QUICK ? 'QUICK run: ' : ''}${SECONDS}s per case and server in ${ROUNDS} alternating round(s) (or the op bounds), warm-up ${WARMUP_SECONDS}s, verify=${VERIFY}, ` +
      `servers: ${targets.map((t) => (t === 'baseline' && opt['ref-store'] ? `ref (store of ${path.resolve(opt['ref-store'])})` : t)).join(' + ')}${storeArgs.length ? `, store node args: ${storeArgs.join(' ')}` : ''}\n`,
  )

  // Contents first, so generating them never lands inside a measurement.
  for (const { spec } of runs) poolOf(spec.sizeClass)

  const servers = new Map<TargetName, Server>()
  for (const name of targets) {
    const dir = path.join(root, name)
    servers.set(name, await startServer(name, dir, name === 'store' ? storeArgs : []))
  }
  for (const s of servers.values()) {
    if (s.kind !== 'store') continue
    const c = new BenchClient({ endpoint: s.url, maxSockets: 1, verify: VERIFY })
    await c.createBucket(BUCKET)
    c.close()
  }
  await sleep(200)
  const load = os.loadavg()[0]
  if (load > 1.5) {
    process.stdout.write(
      `WARNING: load average ${load.toFixed(1)} before the run: other processes compete for the 2 cores and the disk, figures will be noisy\n`,
    )
  }
  const idle = new Map<TargetName, number>()
  for (const [name, s] of servers) idle.set(name, procStatus(s.pid)?.rss ?? NaN)
  process.stdout.write(
    `idle RSS: ${[...servers.keys()].map((n) => `${servers.get(n)!.label} ${fmt(idle.get(n)! / MiB, 0)} MiB`).join(', ')}\n\n`,
  )

  const index = new ResultIndex()
  const header = row(COLS.map(([h]) => h))
  process.stdout.write(header + '\n' + '-'.repeat(header.length) + '\n')
  const started = performance.now()
  let lastCase = ''
  for (const { spec, conc } of runs) {
    if (lastCase && lastCase !== spec.name) process.stdout.write('\n')
    lastCase = spec.name
    const runners = targets.map((name) => new CaseRunner(servers.get(name)!, spec, conc))
    try {
      for (const r of runners) await r.prepare()
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate who goes first, so neither side always runs right after the other's writes.
        for (const r of round % 2 === 0 ? runners : [...runners].reverse()) await r.slice()
      }
    } finally {
      for (const r of runners) r.close()
    }
    for (const [i, name] of targets.entries()) {
      const r = runners[i].finish(idle.get(name)!)
      index.all.push(r)
      printResult(r, index)
    }
  }
  const elapsed = (performance.now() - started) / 1000
  const [load1, load5] = os.loadavg()

  // Targets
  process.stdout.write(`\nTargets (ratio of ops/s; SSE-S3 store vs the bare baseline unless noted):\n`)
  let missed = 0
  if (opt['ref-store'])
    process.stdout.write(`  (A/B run: "vs base" is store ÷ ref; only the store-internal range target applies)\n`)
  for (const t of TARGETS) {
    if (opt['ref-store'] && t.case !== 'range-1m') continue
    for (const conc of t.concurrency) {
      if (!index.all.some((r) => r.case === t.case && r.concurrency === conc)) continue
      const { value, ref } = t.pick(index, conc)
      const ratio = value !== undefined && ref !== undefined ? value / ref : undefined
      const ok = ratio !== undefined && ratio >= t.min
      if (ratio !== undefined && !ok) missed++
      process.stdout.write(
        `  ${padR(`${t.name}, concurrency ${conc}`, 62)} ${pad(ratio === undefined ? 'n/a' : `${ratio.toFixed(2)}×`, 6)}  target ≥ ${t.min.toFixed(2)}×  ${ratio === undefined ? '(needs both figures)' : ok ? 'ok' : 'MISS'}\n`,
      )
    }
  }

  // Memory
  const big = index.all.filter((r) => r.case === 'put-64m' || r.case === 'get-64m')
  if (big.length) {
    process.stdout.write(`\nServer peak RSS during the 64 MiB PUT/GET cases:\n`)
    for (const name of targets) {
      const rs = big.filter((r) => r.target === name)
      if (!rs.length) continue
      const peak = Math.max(...rs.map((r) => r.serverPeakRssMiB))
      const idleMiB = idle.get(name)! / MiB
      process.stdout.write(
        `  ${padR(servers.get(name)!.label, 8)} peak ${fmt(peak, 0)} MiB (idle ${fmt(idleMiB, 0)} MiB, +${fmt(peak - idleMiB, 0)} MiB) — ${rs.map((r) => `${r.case}@${r.concurrency} ${fmt(r.serverPeakRssMiB, 0)}`).join(', ')}\n`,
      )
    }
    const mid = index.all.filter((r) => r.target === 'store' && (r.case === 'put-1m' || r.case === 'get-1m'))
    if (mid.length) {
      process.stdout.write(
        `  store peak in the 1 MiB PUT/GET cases, for comparison: ${fmt(Math.max(...mid.map((r) => r.serverPeakRssMiB)), 0)} MiB (64× smaller objects)\n`,
      )
    }
    const st = big.filter((r) => r.target === 'store')
    if (st.length) {
      const peak = Math.max(...st.map((r) => r.serverPeakRssMiB))
      const bound = MEMORY_BOUND_MIB
      const ok = peak <= bound
      if (!ok) missed++
      process.stdout.write(
        `  store memory bound: peak RSS ≤ ${bound} MiB while moving 64 MiB objects (streamed, never buffered whole): ${fmt(peak, 0)} MiB ${ok ? 'ok' : 'MISS'}\n`,
      )
    }
  }
  process.stdout.write(
    `\nmeasured in ${elapsed.toFixed(0)} s (load average now ${load1.toFixed(1)} / 5 min ${load5.toFixed(1)}); every GET body was verified byte for byte against the known content (${VERIFY}); every store PUT's ETag against the MD5\n`,
  )

  if (opt.json) {
    await writeFile(
      opt.json,
      JSON.stringify(
        {
          node: process.version,
          cpus: os.cpus().length,
          quick: QUICK,
          seconds: SECONDS,
          verify: VERIFY,
          results: index.all,
        },
        null,
        2,
      ),
    )
    process.stdout.write(`results written to ${opt.json}\n`)
  }
  for (const s of servers.values()) await s.stop()
  return opt.strict && missed > 0 ? 1 : 0
}

main().then(
  async (code) => {
    await cleanup()
    process.exit(code)
  },
  async (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof BenchError ? err.message : ((err as Error)?.stack ?? String(err))}\n`)
    await cleanup()
    process.exit(1)
  },
)
