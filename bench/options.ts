/** @module The bench's command-line options and the constants derived from them. */
import { parseArgs } from 'node:util'
import type { VerifyMode } from './client.js'

// ---------------------------------------------------------------------------------------------
// Options

const HELP = `Usage: npm run bench -- [options]

  --quick                 short run (0.5 s per case, fewer ops): a smoke test, noisier numbers
  --only LIST             comma-separated filters matched against "<case>@<concurrency>", e.g.
                          put-4k  get-64m@2  range  4k  (range-1m@N pulls in get-1m@N, its reference)
  --seconds S             measured time per case and server (default 2; --quick 0.5)
  --rounds R              slices each case is measured in, alternating servers (default 3; --quick 1)
  --verify compare|sha256 how GET bodies are checked against the known content (default compare)
  --target both|store|baseline   which servers to run (default both; ratios need both)
  --store-node-args="..." extra node flags for the store child (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
  --ref-store DIR         A/B two versions of the store: the reference column is the store of the
                          checkout in DIR (its server/main.ts) instead of the bare baseline
  --data-dir DIR          parent of the temp data dirs (default: the OS temp dir)
  --json FILE             also write all results as JSON
  --keep                  keep the data dirs
  --strict                exit 1 if a target or the memory bound is missed
`

export function usageError(message: string): never {
  process.stderr.write(`bench: ${message}\n\n${HELP}`)
  process.exit(2)
}

const OPTIONS = {
  quick: { type: 'boolean', default: false },
  only: { type: 'string' },
  seconds: { type: 'string' },
  rounds: { type: 'string' },
  verify: { type: 'string', default: 'compare' },
  target: { type: 'string', default: 'both' },
  'store-node-args': { type: 'string', default: '' },
  'ref-store': { type: 'string' },
  'data-dir': { type: 'string' },
  json: { type: 'string' },
  keep: { type: 'boolean', default: false },
  strict: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const
function parseOptions() {
  try {
    return parseArgs({ args: process.argv.slice(2), options: OPTIONS, strict: true }).values
  } catch (err) {
    return usageError((err as Error).message)
  }
}
export const opt = parseOptions()
if (opt.help) {
  process.stdout.write(HELP)
  process.exit(0)
}
if (opt.verify !== 'compare' && opt.verify !== 'sha256') usageError(`--verify must be compare or sha256`)
if (!['both', 'store', 'baseline'].includes(opt.target ?? '')) usageError(`--target must be both, store or baseline`)
export const QUICK = opt.quick === true
export const SECONDS = opt.seconds !== undefined ? Number(opt.seconds) : QUICK ? 0.5 : 2
if (!(SECONDS > 0)) usageError(`--seconds must be > 0`)

/**
 * The store's memory bound checked in the 64 MiB cases (bench/README.md): objects are streamed
 * (per request a few 64–256 KiB buffers, plus at most 4 MiB queued to the hash worker on PUT), so
 * the peak stays within idle (~100 MiB) + V8 heap slack and does not grow with object size.
 */
export const MEMORY_BOUND_MIB = 320

export const ROUNDS = opt.rounds !== undefined ? Number(opt.rounds) : QUICK ? 1 : 3
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) usageError(`--rounds must be a positive integer`)
export const WARMUP_SECONDS = QUICK ? 0.1 : 0.3
export const VERIFY = opt.verify as VerifyMode
