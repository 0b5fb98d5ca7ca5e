/** @module Test support: `strongroom server` as a child process, to SIGKILL it mid-request (crash tests). */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { createInterface } from 'node:readline'

const REPO = path.resolve(import.meta.dirname, '../..')
/** How long the child may take to print its URL: a guard against a hung start, not a measurement. */
const START_GUARD_MS = 30_000

export interface Child {
  proc: ChildProcess
  endpoint: string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stderr(): string
}

/**
 * Starts `strongroom server` as one node process (`node --import tsx`, not the tsx wrapper, whose
 * grandchild a SIGKILL would leave running with the data directory open).
 */
export async function startChild(dataDir: string, args: string[] = []): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', 'server', '--port', '0', '--data-dir', dataDir, '--log-level', 'silent', ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const reap = () => proc.kill('SIGKILL')
  process.once('exit', reap)
  let err = ''
  proc.stderr!.on('data', (b: Buffer) => {
    if (err.length < 100_000) err += b.toString('utf8')
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => {
      process.off('exit', reap)
      resolve({ code, signal })
    }),
  )
  const endpoint = await new Promise<string>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`server child printed no URL within ${START_GUARD_MS} ms; stderr:\n${err}`)), START_GUARD_MS)
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const m = /^strongroom listening on (http:\/\/\S+)$/.exec(line)
      if (m) {
        clearTimeout(guard)
        resolve(m[1])
      }
    })
    proc.once('exit', (code, signal) => {
      clearTimeout(guard)
      reject(new Error(`server child exited before listening (code ${code}, signal ${signal}); stderr:\n${err}`))
    })
    proc.once('error', reject)
  })
  return { proc, endpoint, exited, stderr: () => err }
}

/** SIGKILL; resolves once the child has been reaped (so LevelDB's lock is free again). */
export async function killChild(child: Child): Promise<void> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL')
  await child.exited
}

/** SIGTERM: the server closes its stores and exits. */
export async function stopChild(child: Child): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  child.proc.kill('SIGTERM')
  return child.exited
}
