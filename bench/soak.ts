/**
 * @module `npm run soak`: a bounded load-and-fault test of the real store on loopback — 64 clients
 * for 60 s over every SSE mode, a SIGKILL and restart midway, then a byte-for-byte check of every
 * acknowledged object and configuration. See bench/README.md ("Soak test").
 *
 *   npm run soak                               60 s, 64 clients, killed and restarted at 30 s
 *   npm run soak -- --seconds 20 --clients 16  a shorter, lighter run
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { CONFIG_BUCKETS, DATA_BUCKETS, Rng, type Ctx } from './soak/buckets.js'
import { finalCheck } from './soak/check.js'
import { Model } from './soak/model.js'
import { parseOptions } from './soak/options.js'
import { SoakClient } from './soak/s3.js'
import { freePort, StoreProcess, type Sample } from './soak/server.js'
import { Restarts, Stats, summary } from './soak/stats.js'
import { runClients } from './soak/workload.js'

const MiB = 1024 * 1024
const opt = parseOptions(process.argv.slice(2))

let store: StoreProcess | undefined
let root: string | undefined
let interrupted = false
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (interrupted) return
    interrupted = true
    process.stderr.write(`\nsoak: ${sig}, stopping the store${root ? ` (data left in ${root})` : ''}\n`)
    void (store?.stop() ?? Promise.resolve()).finally(() => process.exit(130))
  })
}

/** SIGKILL, then start again on the same port and data directory; clients wait meanwhile. */
async function crashAndRestart(s: StoreProcess, client: SoakClient, restarts: Restarts): Promise<void> {
  restarts.down()
  await s.kill()
  client.resetAgent()
  await s.start()
  restarts.up()
}

async function createBuckets(ctx: Ctx): Promise<void> {
  for (const name of new Set([...DATA_BUCKETS.map((b) => b.name), ...CONFIG_BUCKETS])) {
    const ans = await ctx.client.send({ method: 'PUT', bucket: name })
    if (ans.status !== 200) throw new Error(`CreateBucket ${name}: ${ans.status} ${ans.code || ans.connError}`)
  }
}

/** The clients for --seconds, with the SIGKILL + restart at --kill-at and a progress line every 10 s. */
async function runLoad(ctx: Ctx, s: StoreProcess, restarts: Restarts): Promise<number> {
  const started = performance.now()
  const crash =
    opt.killAt > 0 ? sleep(opt.killAt * 1000).then(() => crashAndRestart(s, ctx.client, restarts)) : Promise.resolve()
  const progress = setInterval(() => {
    const last = s.samples.at(-1)
    const ops = [...ctx.stats.kinds.values()].reduce((n, k) => n + k.ops, 0)
    process.stdout.write(
      `  ${((performance.now() - started) / 1000).toFixed(0)} s: ${ops} answers, ${ctx.stats.unexpected} unexpected, ${ctx.stats.dataFailures} data failures; ` +
        `RSS ${last ? (last.rss / MiB).toFixed(0) : '-'} MiB, ${last?.fds ?? '-'} fds${restarts.isDown ? ' (restarting)' : ''}\n`,
    )
  }, 10_000)
  await runClients(ctx, opt.clients, started + opt.seconds * 1000, restarts)
  await crash
  clearInterval(progress)
  return started
}

const fmtSample = (x: Sample | undefined) => (x ? `${(x.rss / MiB).toFixed(0)} MiB, ${x.fds} fds` : '-')

async function main(): Promise<number> {
  root = await mkdtemp(path.join(opt.dataDir ? path.resolve(opt.dataDir) : os.tmpdir(), 'strongroom-soak-'))
  const logPath = path.join(root, 'server.log')
  const t0 = performance.now()
  const port = await freePort()
  const storeRoot = opt.store ? path.resolve(opt.store) : undefined
  const s = (store = new StoreProcess(port, path.join(root, 'data'), logPath, t0, storeRoot))
  process.stdout.write(
    `strongroom soak — ${opt.clients} clients for ${opt.seconds} s, ${opt.killAt > 0 ? `SIGKILL + restart at ${opt.killAt} s` : 'no kill'}, seed ${opt.seed}\n` +
      `node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}; store${storeRoot ? ` of ${storeRoot}` : ''} on 127.0.0.1:${port}, data in ${root}\n`,
  )
  await s.start()
  const restarts = new Restarts()
  const stats = new Stats(restarts)
  const client = new SoakClient(port, opt.clients + 8)
  const ctx: Ctx = { client, model: new Model(), stats, rng: new Rng(opt.seed), runSeed: `soak-${opt.seed}` }
  await createBuckets(ctx)
  const idle = s.sample()
  const started = await runLoad(ctx, s, restarts)
  const ran = (performance.now() - started) / 1000

  // The server at rest: descriptors and memory once every request is answered and the client's
  // keep-alive sockets are closed (they count among the server's descriptors).
  client.resetAgent()
  await sleep(2000)
  const rest = s.sample()
  process.stdout.write(
    `clients stopped after ${ran.toFixed(1)} s; checking every acknowledged object and configuration\n`,
  )
  const live = await finalCheck(ctx)
  let reads = live.objects + live.configs
  if (opt.finalKill) {
    await crashAndRestart(s, client, restarts)
    const after = await finalCheck(ctx, ' (after a 2nd SIGKILL)')
    reads += after.objects + after.configs
  }
  for (const c of s.crashes) stats.dataFailure('server-crash', c)
  await s.stop()
  client.close()

  const input = {
    stats,
    seconds: ran,
    clients: opt.clients,
    samples: s.samples,
    restarts,
    t0: started,
    objectsChecked: live.objects,
    configsChecked: live.configs,
    logPath,
  }
  process.stdout.write(
    `\n${summary(input)}\nServer at rest: before the run ${fmtSample(idle)}; 2 s after the last answer, client sockets closed: ${fmtSample(rest)}\n`,
  )
  const failed = stats.unexpected > 0 || stats.dataFailures > 0
  process.stdout.write(
    `\n${failed ? 'FAIL' : 'PASS'}: ${stats.unexpected} unexpected answers, ${stats.dataFailures} data failures (${reads} final reads)\n`,
  )
  if (opt.json) {
    const windows = restarts.windows.map((w) => ({ killAt: (w.killAt - t0) / 1000, readyAt: (w.readyAt - t0) / 1000 }))
    const figures = {
      seed: opt.seed,
      clients: opt.clients,
      seconds: ran,
      kinds: Object.fromEntries(stats.kinds),
      codes: Object.fromEntries(stats.codes),
      tallies: Object.fromEntries(stats.tallies),
      data: Object.fromEntries(stats.data),
      failures: stats.failures,
      samples: s.samples,
      idle,
      rest,
      restarts: windows,
    }
    await writeFile(opt.json, JSON.stringify(figures, null, 2))
  }
  if (failed || opt.keep) process.stdout.write(`data and server log kept in ${root}\n`)
  else await rm(root, { recursive: true, force: true })
  return failed ? 1 : 0
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    process.stderr.write(`soak: ${(err as Error)?.stack ?? String(err)}\n`)
    await store?.stop().catch(() => {})
    process.stderr.write(root ? `data and server log kept in ${root}\n` : '')
    process.exit(1)
  },
)
