/**
 * @module Unit: the request-body rate bound (server/http-limits.ts) and the limit flags
 * (server/config.ts). The clock is supplied, so these are exact.
 */
import { describe, expect, it } from 'vitest'
import { ConfigError, DEFAULT_HTTP_LIMITS, loadConfig } from '../../../server/config.js'
import { BodyRate } from '../../../server/http-limits.js'

describe('BodyRate', () => {
  it('nothing is too slow within the grace period, however little has arrived', () => {
    const r = new BodyRate(1000, 5000, 0, false)
    expect(r.tooSlow(4999, 0)).toBe(false)
    expect(r.tooSlow(5000, 0)).toBe(false)
  })

  it('after the grace, the body must have kept minRate bytes/s over the time beyond it', () => {
    const r = new BodyRate(1000, 5000, 0, false)
    expect(r.tooSlow(7000, 2000)).toBe(false) // exactly the rate
    expect(r.tooSlow(7000, 1999)).toBe(true)
    expect(r.tooSlow(60_000, 55_000)).toBe(false)
  })

  it('time the server kept the socket paused is not charged to the client', () => {
    const r = new BodyRate(1000, 1000, 0, false)
    r.pause(500)
    r.resume(100_500) // the server was busy (disk, KMS) for 100 s
    expect(r.tooSlow(101_000, 0)).toBe(false) // 1 s of client time: still within the grace
    expect(r.tooSlow(103_000, 2000)).toBe(false)
    expect(r.tooSlow(103_000, 1000)).toBe(true)
  })

  it('a socket paused at the start, and still paused, is never too slow', () => {
    const r = new BodyRate(1000, 1000, 0, true)
    expect(r.tooSlow(1_000_000, 0)).toBe(false)
    r.pause(10) // repeated pause events do not restart the pause
    r.resume(1_000_000)
    expect(r.tooSlow(1_000_500, 0)).toBe(false)
    expect(r.tooSlow(1_003_000, 0)).toBe(true)
  })
})

describe('limit flags', () => {
  it('default to the documented limits', () => {
    expect(loadConfig([], {}).limits).toEqual(DEFAULT_HTTP_LIMITS)
    expect(DEFAULT_HTTP_LIMITS).toMatchObject({
      headersTimeoutMs: 20_000,
      idleTimeoutMs: 60_000,
      bodyMinRate: 1024,
      bodyRateGraceMs: 20_000,
      maxConnectionsPerPeer: 0,
    })
  })

  it('are read from flags, else from the environment', () => {
    const cfg = loadConfig(
      ['--headers-timeout-ms', '1500', '--body-min-rate', '0', '--max-connections-per-peer', '64'],
      {
        STRONGROOM_HEADERS_TIMEOUT_MS: '9',
        STRONGROOM_IDLE_TIMEOUT_MS: '2500',
        STRONGROOM_BODY_RATE_GRACE_MS: '3000',
        STRONGROOM_BODY_MIN_RATE: '',
      },
    )
    expect(cfg.limits).toMatchObject({
      headersTimeoutMs: 1500,
      idleTimeoutMs: 2500,
      bodyMinRate: 0,
      bodyRateGraceMs: 3000,
      maxConnectionsPerPeer: 64,
    })
  })

  it.each([
    ['--headers-timeout-ms', '0'],
    ['--idle-timeout-ms', '-1'],
    ['--body-min-rate', '1.5'],
    ['--body-rate-grace-ms', 'soon'],
    ['--max-connections-per-peer', '1e3'],
  ])('%s %j is refused', (flag, value) => {
    expect(() => loadConfig([flag, value], {})).toThrow(ConfigError)
  })
})
