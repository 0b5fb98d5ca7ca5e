/** @module The soak's command-line options. */
import { parseArgs } from 'node:util'

const HELP = `Usage: npm run soak -- [options]

Starts the store on a free loopback port with a temp data dir, runs concurrent clients doing a
mix of PUT/GET/range/overwrite/delete/multipart (with part re-uploads, some racing Complete) and
concurrent bucket configuration changes across SSE-S3, SSE-KMS (with and without bucket keys)
and SSE-C, SIGKILLs and restarts the store midway, then checks every acknowledged object byte for
byte and every acknowledged configuration. Exits 1 on any lost or corrupted object, lost
configuration update or unexpected answer (see bench/README.md, "Soak test").

  --seconds S     how long the clients run (default 60)
  --clients N     concurrent clients (default 64)
  --kill-at S     SIGKILL and restart the store S seconds in (default: half of --seconds; 0: never)
  --no-final-kill skip the second SIGKILL + restart before the last check
  --seed N        seed of the operation mix and contents (default: random; printed)
  --data-dir DIR  parent of the temp data dir (default: the OS temp dir)
  --store DIR     run the store of another checkout (its server/main.ts), e.g. an older commit
  --keep          keep the temp dir (kept anyway when the run fails)
  --json FILE     also write the figures as JSON
`

export function usageError(message: string): never {
  process.stderr.write(`soak: ${message}\n\n${HELP}`)
  process.exit(2)
}

const OPTIONS = {
  seconds: { type: 'string', default: '60' },
  clients: { type: 'string', default: '64' },
  'kill-at': { type: 'string' },
  'no-final-kill': { type: 'boolean', default: false },
  seed: { type: 'string' },
  'data-dir': { type: 'string' },
  store: { type: 'string' },
  keep: { type: 'boolean', default: false },
  json: { type: 'string' },
  help: { type: 'boolean', default: false },
} as const

export interface SoakOptions {
  seconds: number
  clients: number
  killAt: number
  finalKill: boolean
  seed: number
  dataDir?: string
  store?: string
  keep: boolean
  json?: string
}

export function parseOptions(argv: string[]): SoakOptions {
  let v
  try {
    v = parseArgs({ args: argv, options: OPTIONS, strict: true }).values
  } catch (err) {
    return usageError((err as Error).message)
  }
  if (v.help) {
    process.stdout.write(HELP)
    process.exit(0)
  }
  const seconds = Number(v.seconds)
  const clients = Number(v.clients)
  const killAt = v['kill-at'] !== undefined ? Number(v['kill-at']) : seconds / 2
  const seed = v.seed !== undefined ? Number(v.seed) : Math.floor(Math.random() * 2 ** 31)
  if (!(seconds > 0 && seconds <= 3600)) usageError('--seconds must be in (0, 3600]')
  if (!Number.isInteger(clients) || clients < 1 || clients > 1024)
    usageError('--clients must be an integer in [1, 1024]')
  if (!(killAt >= 0 && killAt < seconds)) usageError('--kill-at must be in [0, --seconds)')
  if (!Number.isInteger(seed)) usageError('--seed must be an integer')
  return {
    seconds,
    clients,
    killAt,
    finalKill: !v['no-final-kill'],
    seed,
    dataDir: v['data-dir'],
    store: v.store,
    keep: v.keep,
    json: v.json,
  }
}
