/**
 * @module Automatic root-key rotation (`--key-rotation-days N`): the server rotates the SSE-S3
 * root keyring when its active version is older than N days. New writes use the new version;
 * existing objects keep theirs until `strongroom keys rewrap`.
 */
import type { RootKeyring } from '../crypto/keyring.js'
import type { AuditLog } from './audit.js'
import type { Logger } from './log.js'

const DAY_MS = 24 * 60 * 60 * 1000
/** How often the server checks whether a rotation is due. */
const CHECK_INTERVAL_MS = 60 * 60 * 1000

/**
 * Rotates `keyring` if its active version was created more than `days` days before `now`.
 * Returns the new version, or undefined when no rotation was due.
 */
export async function rotateIfDue(keyring: RootKeyring, days: number, now = Date.now()): Promise<number | undefined> {
  const active = keyring.active().version
  const info = keyring.versions().find((v) => v.version === active)
  const created = info ? Date.parse(info.createdAt) : NaN
  if (!Number.isFinite(created) || now - created < days * DAY_MS) return undefined
  return keyring.rotate()
}

/** Checks at start and then hourly; the timer never keeps the process alive. Returns a stop function. */
export function scheduleKeyRotation(keyring: RootKeyring, days: number, log: Logger, audit: AuditLog): () => void {
  let running = false
  const check = async () => {
    if (running) return
    running = true
    try {
      const from = keyring.active().version
      const version = await rotateIfDue(keyring, days)
      if (version !== undefined) {
        log.info('root key rotated on schedule', { fromVersion: from, toVersion: version, rotationDays: days })
        audit.audit({
          operation: 'scheduled rotation',
          action: 'rotate',
          outcome: 'ok',
          fromVersion: from,
          toVersion: version,
        })
      }
    } catch (err) {
      log.error('scheduled root key rotation failed', { err })
    } finally {
      running = false
    }
  }
  void check()
  const timer = setInterval(() => void check(), CHECK_INTERVAL_MS)
  timer.unref()
  return () => clearInterval(timer)
}
