/**
 * @module E2E: SIGTERM and SIGINT to the PID a user has — `npm start`'s, `npx strongroom`'s,
 * `bin/strongroom.js`'s — drain and stop the server; nothing is left running. npm runs its
 * command under `sh -c`, and the shell dies of the signal npm forwards without passing it on, so
 * this is what leaves a server orphaned if the server does not notice. Each case: start the
 * launcher, make a request, signal the PID spawned, then (bounded waits) the launcher exits, the
 * port stops answering, and no process mentioning the data directory remains.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { killStartedServers, processesMentioning, spawnServer, waitFor } from '../support/child-server.js'

const dirs: string[] = []

afterAll(async () => {
  killStartedServers()
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

const serverFlags = (dataDir: string) => ['--port', '0', '--data-dir', dataDir, '--log-level', 'warn']

const LAUNCHERS: Array<[string, (dataDir: string) => [string, string[]]]> = [
  ['npm start', (d) => ['npm', ['start', '--silent', '--', ...serverFlags(d)]]],
  ['npx strongroom', (d) => ['npx', ['--yes', 'strongroom', 'server', ...serverFlags(d)]]],
  ['bin/strongroom.js', (d) => [process.execPath, ['bin/strongroom.js', 'server', ...serverFlags(d)]]],
]

/**
 * Signals, each to the PID spawned — except SIGINT for npx, sent to its process group as a
 * terminal's Ctrl-C does: npm runs the command under `sh -c` (it cannot be told to `exec`), and a
 * shell that gets SIGINT while it waits for a command holds it until that command exits, so a
 * SIGINT sent to npx's PID alone never reaches the server (README "Configuration").
 */
type Target = 'pid' | 'group'
const CASES: Array<readonly [string, NodeJS.Signals, Target, (dataDir: string) => [string, string[]]]> =
  LAUNCHERS.flatMap(([name, cmd]) => [
    [name, 'SIGTERM', 'pid', cmd] as const,
    [name, 'SIGINT', name.startsWith('npx') ? 'group' : 'pid', cmd] as const,
  ])

describe('signals to the launcher stop the server', () => {
  it.each(CASES)('%s, %s to its %s', async (_name, signal, target, cmd) => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-launch-'))
    dirs.push(dataDir)
    const [command, args] = cmd(dataDir)
    const child = await spawnServer(command, args, { env: { ...process.env, npm_config_update_notifier: 'false' } })
    const live = await fetch(`${child.endpoint}/health/live`)
    expect(live.status).toBe(200)
    expect((await processesMentioning(dataDir)).length).toBeGreaterThan(0)

    if (target === 'pid') child.proc.kill(signal)
    else process.kill(-child.proc.pid!, signal)

    const launcherExit = await Promise.race([
      child.exited,
      new Promise<'running'>((r) => setTimeout(() => r('running'), 30_000)),
    ])
    expect(launcherExit, child.stderr()).not.toBe('running')
    const gone = await waitFor(async () => (await processesMentioning(dataDir)).length === 0, 30_000)
    expect(gone, `left running: ${(await processesMentioning(dataDir)).join(', ')}\n${child.stderr()}`).toBe(true)
    await expect(fetch(`${child.endpoint}/health/live`)).rejects.toThrow()
    // It drained and closed cleanly: nothing at error level on the way out.
    expect(child.stderr()).not.toMatch(/"level":"error"/)
  })
})
