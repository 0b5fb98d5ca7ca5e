/** @module /proc sampling of a child process: RSS (current and peak) and CPU time. */
import { readFileSync, writeFileSync } from 'node:fs'

const KiB = 1024

// ---------------------------------------------------------------------------------------------
// /proc sampling: RSS (current and peak) and CPU time of a child

const CLK_TCK = 100 // USER_HZ on Linux

export function procStatus(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * KiB
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
  } catch {
    return undefined
  }
}

/** CPU seconds (user + system, all threads) of a process so far. */
export function procCpu(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = s.slice(s.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
  } catch {
    return NaN
  }
}

/** Resets VmHWM (Linux ≥ 4.0, `echo 5 > clear_refs`); false if not allowed. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

export class RssSampler {
  peak = 0
  private timer: NodeJS.Timeout
  private readonly reset: boolean
  constructor(
    private readonly pid: number,
    intervalMs = 20,
  ) {
    this.reset = resetPeak(pid)
    this.sample()
    this.timer = setInterval(() => this.sample(), intervalMs)
  }
  private sample(): void {
    const st = procStatus(this.pid)
    if (st) this.peak = Math.max(this.peak, st.rss)
  }
  stop(): number {
    clearInterval(this.timer)
    this.sample()
    // VmHWM catches spikes between samples, when it was reset for this case.
    const st = procStatus(this.pid)
    if (this.reset && st) this.peak = Math.max(this.peak, st.hwm)
    return this.peak
  }
}
