/**
 * @module Temporary credentials (STS): an access key id (`ASIA…`), a secret and a session token,
 * acting as an identity until they expire. Kept in memory by the process that issued them: a
 * restart ends every session (documented). The secret and the token never reach a log.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IamIdentity } from './identity.js'

export interface TemporaryCredential {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string
  accountId: string
  principalArn: string
  identity: IamIdentity
  /** Epoch ms. */
  expiresAt: number
}

/** Live sessions at most (a bound on memory); expired ones are kept a day to answer ExpiredToken. */
const MAX_SESSIONS = 100_000
const KEEP_EXPIRED_MS = 24 * 3600_000
const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

export class SessionLimitError extends Error {
  override readonly name = 'SessionLimitError'
}

export class SessionStore {
  readonly #byKey = new Map<string, TemporaryCredential>()

  /** New temporary credentials for `identity`, valid `seconds` from `now`. */
  issue(identity: IamIdentity, seconds: number, now = Date.now()): TemporaryCredential {
    this.#sweep(now)
    if (this.#byKey.size >= MAX_SESSIONS) throw new SessionLimitError(`more than ${MAX_SESSIONS} sessions are open`)
    const id = randomBytes(16)
    let accessKeyId = 'ASIA'
    for (let i = 0; i < 16; i++) accessKeyId += KEY_ALPHABET[id[i] % 32]
    const cred: TemporaryCredential = {
      accessKeyId,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `SRSESSION${randomBytes(96).toString('base64')}`,
      accountId: identity.accountId,
      principalArn: identity.arn,
      identity,
      expiresAt: now + seconds * 1000,
    }
    this.#byKey.set(accessKeyId, cred)
    return cred
  }

  /** The session of `accessKeyId` (expired ones too, for a day), if this process issued it. */
  find(accessKeyId: string): TemporaryCredential | undefined {
    return this.#byKey.get(accessKeyId)
  }

  #sweep(now: number): void {
    for (const [k, v] of this.#byKey) if (v.expiresAt + KEEP_EXPIRED_MS <= now) this.#byKey.delete(k)
  }
}

/** Constant-time comparison of a presented token with the issued one. */
export function tokensEqual(issued: string, presented: string): boolean {
  const a = Buffer.from(issued, 'utf8')
  const b = Buffer.from(presented, 'utf8')
  return a.length === b.length && timingSafeEqual(a, b)
}

const stores = new WeakMap<object, SessionStore>()

/** The session store of one running server (keyed by its config object). */
export function sessionsOf(owner: object): SessionStore {
  let s = stores.get(owner)
  if (!s) {
    s = new SessionStore()
    stores.set(owner, s)
  }
  return s
}
