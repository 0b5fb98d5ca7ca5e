// Preloaded (`--import`) into the server children the benchmark starts: when the benchmark
// process goes away (its end of our stdin closes, even on SIGKILL), the child gets a SIGTERM and
// shuts down through its own graceful path. Costs nothing while the pipe is open.
// Plain JavaScript on purpose: worker threads inherit `--import` flags but not the TypeScript
// loader; in a worker this file loads and does nothing.
import { isMainThread } from 'node:worker_threads'

if (isMainThread) {
  process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'))
  process.stdin.on('error', () => process.kill(process.pid, 'SIGTERM'))
  process.stdin.resume()
  // The guard must not keep an otherwise finished process alive.
  process.stdin.unref?.()
}
