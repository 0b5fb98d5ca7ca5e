/**
 * @module Progress on stderr: a redrawn bar on a terminal, otherwise a plain line every few
 * seconds (logs and CI keep a readable trace).
 */

export interface ProgressReporter {
  update(p: { done: number; total: number }): void
  done(): void
}

export function progressReporter(out: NodeJS.WriteStream, label: string, intervalMs = 2000): ProgressReporter {
  const tty = out.isTTY === true
  const started = Date.now()
  let last = 0
  let latest = { done: 0, total: 0 }
  let drawn = false
  const line = () => {
    const { done, total } = latest
    const secs = (Date.now() - started) / 1000
    const rate = secs > 0 ? Math.round(done / secs) : 0
    const pct = total > 0 ? Math.floor((done / total) * 100) : 100
    if (!tty) return `${label}: ${done}/${total} (${pct}%), ${rate}/s\n`
    const width = 30
    const filled = total > 0 ? Math.round((done / total) * width) : width
    return `\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct}% ${done}/${total} ${rate}/s `
  }
  return {
    update(p) {
      latest = p
      const now = Date.now()
      if (now - last < (tty ? 100 : intervalMs)) return
      last = now
      drawn = true
      out.write(line())
    },
    done() {
      if (drawn || tty) out.write(line() + (tty ? '\n' : ''))
    },
  }
}
