/**
 * @module Version ids. Every version of an object has an internal id of 32 lowercase hex digits:
 * 14 digits of (2^56 − 1 − microseconds since the epoch), then 18 random digits. Hex digits sort
 * in ASCII order, so within a key the newest version sorts first and a listing of versions is a
 * plain forward range scan. The id is opaque to clients; the `null` version (written while
 * versioning is off or suspended) has an internal id like any other and is shown as "null".
 */
import { createHash, randomBytes } from 'node:crypto'

/** What clients see, and send, for the null version. */
export const NULL_VERSION = 'null'

const MAX_MICROS = (1n << 56n) - 1n
const VERSION_ID = /^[0-9a-f]{32}$/
let lastMicros = 0n

function timePart(micros: bigint): string {
  return (MAX_MICROS - micros).toString(16).padStart(14, '0')
}

/**
 * A fresh version id, newer than every id this process made before (microseconds, bumped by one
 * when the clock has not moved or went back).
 */
export function newVersionId(now: number = Date.now()): string {
  let micros = BigInt(Math.floor(now)) * 1000n
  if (micros <= lastMicros) micros = lastMicros + 1n
  lastMicros = micros
  return timePart(micros) + randomBytes(9).toString('hex')
}

/**
 * The id given to a record written before versions existed: its time, then digits derived from
 * `salt` (deterministic, so decoding the same old record twice gives the same id).
 */
export function legacyVersionId(ms: number, salt: string): string {
  const micros = BigInt(Math.max(0, Math.floor(Number.isFinite(ms) ? ms : 0))) * 1000n
  return timePart(micros) + createHash('sha256').update(salt).digest('hex').slice(0, 18)
}

/** True for an internal version id (what storage keys hold). */
export function isVersionId(s: string): boolean {
  return VERSION_ID.test(s)
}

/** The version id clients see: "null" for the null version. */
export function externalVersionId(rec: { versionId: string; nullVersion?: true }): string {
  return rec.nullVersion ? NULL_VERSION : rec.versionId
}
