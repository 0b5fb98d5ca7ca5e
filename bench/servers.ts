/**
 * @module The bench's child servers: the bare baseline (bench/baseline-server.ts) or strongroom,
 * each spawned as node itself on 127.0.0.1 with a temp data dir, stopped on exit or on a signal
 * (SIGINT, SIGTERM, SIGHUP) with their temp data removed.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { rm } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { BenchError } from './client.js'
import { opt } from './options.js'

const ROOT = path.resolve(import.meta.dirname, '..')

export type TargetName = 'baseline' | 'store'

export interface Server {
  name: TargetName
  /** What the process is: the bare baseline, or a strongroom server. */
  kind: 'bare' | 'store'
  /** Column label: `baseline`, `store`, or `ref` (a store from --ref-store). */
  label: string
  url: string
  pid: number
  child: ChildProcess
  dataDir: string
  stop(): Promise<void>
}

const children = new Set<ChildProcess>()
/** Temp data directories of this run, removed by cleanup (unless --keep). */
export const tempDirs = new Set<string>()

export async function startServer(name: TargetName, dataDir: string, nodeArgs: string[]): Promise<Server> {
  const guard = path.join(ROOT, 'bench', 'child-guard.mjs')
  const refRoot = name === 'baseline' && opt['ref-store'] ? path.resolve(opt['ref-store']) : undefined
  const kind = name === 'store' || refRoot ? 'store' : 'bare'
  const label = refRoot ? 'ref' : name
  const storeMain = path.join(refRoot ?? ROOT, 'server', 'main.ts')
  const args =
    kind === 'store'
      ? [
          ...nodeArgs,
          '--import',
          'tsx',
          '--import',
          guard,
          storeMain,
          'server',
          '--host',
          '127.0.0.1',
          '--port',
          '0',
          '--data-dir',
          dataDir,
          '--log-level',
          'silent',
        ]
      : [
          ...nodeArgs,
          '--import',
          'tsx',
          '--import',
          guard,
          path.join(ROOT, 'bench', 'baseline-server.ts'),
          '--port',
          '0',
          '--data-dir',
          dataDir,
        ]
  // Spawned as node itself (not through the tsx CLI, which would add a wrapper process), so the
  // pid is the server's own for /proc sampling, and node flags like --cpu-prof apply to it.
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  })
  children.add(child)
  child.once('exit', () => children.delete(child))
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-8000)
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(
      () => reject(new BenchError(`${name} server did not start within 60 s\n${stderr}`)),
      60_000,
    )
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new BenchError(`${name} server exited (${code ?? signal}) before listening\n${stderr}`))
    })
  })
  let stopping = false
  child.once('exit', (code, signal) => {
    if (!stopping && !signalled && cleaning === undefined)
      process.stderr.write(`bench: ${name} server exited unexpectedly (${code ?? signal})\n${stderr}\n`)
  })
  return {
    name,
    kind,
    label,
    url,
    pid: child.pid!,
    child,
    dataDir,
    async stop() {
      stopping = true
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      // A --cpu-prof child writes its profile on exit: give it time before SIGKILL.
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      await exited
      clearTimeout(timer)
    },
  }
}

let cleaning: Promise<void> | undefined
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM')
    const deadline = Date.now() + 5000
    while (children.size > 0 && Date.now() < deadline) await sleep(50)
    for (const c of children) c.kill('SIGKILL')
    if (!opt.keep) for (const d of tempDirs) await rm(d, { recursive: true, force: true }).catch(() => {})
  })()
  return cleaning
}

// `on`, not `once`: a Ctrl-C reaches this process twice (from the terminal and relayed by the tsx
// CLI), and a signal without a listener would end it before the cleanup is done.
let signalled = false
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (signalled) return
    signalled = true
    process.stderr.write(`\nbench: ${sig}, stopping servers and removing temp data\n`)
    cleanup().finally(() => process.exit(130))
  })
}
