/**
 * @module A small JSON-lines logger (one object per line on stderr). Callers pass plain fields;
 * nothing here ever receives headers, keys or bodies, so no secret can reach a log line by accident.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
}

function errorFields(err: unknown): unknown {
  if (!(err instanceof Error)) return String(err)
  return {
    name: err.name,
    message: err.message,
    stack: err.stack,
    cause: err.cause ? errorFields(err.cause) : undefined,
  }
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const min = RANK[level]
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < min) return
    const out: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, msg }
    if (fields) for (const [k, v] of Object.entries(fields)) out[k] = k === 'err' ? errorFields(v) : v
    write(JSON.stringify(out) + '\n')
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  }
}
