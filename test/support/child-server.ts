/**
 * @module Test support: the real server as a child process (started by whatever launcher a test
 * names), for what an in-process server cannot show — its own open descriptors, its file modes
 * under another umask, its signals — and a look at the processes left over afterwards.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { readdir, readFile, readlink } from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'

export const REPO = path.resolve(import.meta.dirname, '../..')

export interface ChildServer {
  proc: ChildProcess
  /** The plain-HTTP endpoint it printed (`strongroom listening on …`). */
  endpoint: string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stderr(): string
}

const started = new Set<ChildProcess>()

/** SIGKILL; resolves once the child has been reaped (so LevelDB's lock is free again). */
export async function killChild(child: ChildServer): Promise<void> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL')
  await child.exited
}

/**
 * Spawns `command args` in its own process group and waits (up to 60 s) for the server's
 * `strongroom listening on http://…` line on stdout.
 */
export async function spawnServer(command: string, args: string[], opts: SpawnOptions = {}): Promise<ChildServer> {
  const proc = spawn(command, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts })
  started.add(proc)
  let err = ''
  proc.stderr!.on('data', (b: Buffer) => {
    if (err.length < 200_000) err += b.toString('utf8')
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 60 s:\n${err}`)), 60_000)
    const lines = createInterface({ input: proc.stdout! })
    lines.on('line', (line) => {
      const m = /^strongroom listening on (http:\/\/\S+)$/.exec(line)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    proc.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`server exited (code ${code}, signal ${signal}) before listening:\n${err}`))
    })
  })
  return { proc, endpoint, exited, stderr: () => err }
}

/** Arguments for `node --import tsx server/main.ts server …` on a free port and `dataDir`. */
export function serverArgs(dataDir: string, extra: string[] = []): string[] {
  return [
    '--import',
    'tsx',
    'server/main.ts',
    'server',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--log-level',
    'warn',
    ...extra,
  ]
}

/** Number of open file descriptors of process `pid` (Linux /proc). */
export async function openFds(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length
}

/** PIDs of live processes whose command line contains `needle` (e.g. a temp data directory). */
export async function processesMentioning(needle: string): Promise<number[]> {
  const out: number[] = []
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')
    if (!cmdline.includes(needle)) continue
    // A zombie (exited, not yet reaped) holds nothing: it is gone as a server.
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '')
    if (/^\d+ \(.*\) Z/.test(stat)) continue
    out.push(Number(name))
  }
  return out
}

/** Whether `pid`'s descriptors include a socket (for diagnostics). */
export async function socketCount(pid: number): Promise<number> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])
  let n = 0
  for (const fd of fds) if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')).startsWith('socket:')) n++
  return n
}

/** Polls `probe` every 100 ms until it returns true or `ms` pass; resolves with the last result. */
export async function waitFor(probe: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await probe()) return true
    if (Date.now() >= deadline) return false
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * SIGKILLs the process group of every child this module started (test cleanup): each was spawned
 * as the leader of its own group, so this also reaches what a launcher left behind.
 */
export function killStartedServers(): void {
  for (const proc of started) {
    try {
      if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGKILL')
    } catch {
      // the whole group is gone already
    }
    started.delete(proc)
  }
}

const execFileP = promisify(execFile)

/**
 * Runs `strongroom <args>` (bin/strongroom.js) as a child process with the audit log off and `env`
 * added; never throws for a non-zero exit: the code, stdout and stderr are the answer.
 */
export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [path.join(REPO, 'bin/strongroom.js'), ...args], {
      cwd: REPO,
      env: { ...process.env, STRONGROOM_AUDIT_LOG: '', ...env },
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number; stdout: string; stderr: string }
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout, stderr: e.stderr }
  }
}
