/**
 * @module Lifecycle's wiring: routing of ?lifecycle, its policy actions, the flag, the audit line, the sweep interval.
 */
import { describe, expect, it } from 'vitest'
import { auditLine } from '../../../server/audit.js'
import { loadConfig } from '../../../server/config.js'
import { sweepIntervalMs } from '../../../server/lifecycle-sweeper.js'
import { accessFor } from '../../../server/s3/policy/actions.js'
import { parseOperation, parseTarget } from '../../../server/s3/route.js'

const kindOf = (method: string, target: string) => parseOperation(method, parseTarget(target), {}).kind

describe('lifecycle wiring', () => {
  it('routes GET/PUT/DELETE ?lifecycle on a bucket; other methods and objects are refused', () => {
    expect(kindOf('GET', '/b?lifecycle')).toBe('GetBucketLifecycleConfiguration')
    expect(kindOf('PUT', '/b?lifecycle')).toBe('PutBucketLifecycleConfiguration')
    expect(kindOf('DELETE', '/b?lifecycle')).toBe('DeleteBucketLifecycle')
    expect(() => kindOf('POST', '/b?lifecycle')).toThrowError(expect.objectContaining({ code: 'MethodNotAllowed' }))
    expect(() => kindOf('GET', '/b/k?lifecycle')).toThrowError(expect.objectContaining({ code: 'NotImplemented' }))
  })

  it('authorizes with s3:GetLifecycleConfiguration and s3:PutLifecycleConfiguration (the delete too)', () => {
    expect(accessFor({ kind: 'GetBucketLifecycleConfiguration', bucket: 'b' })?.action).toBe(
      's3:GetLifecycleConfiguration',
    )
    expect(accessFor({ kind: 'PutBucketLifecycleConfiguration', bucket: 'b' })?.action).toBe(
      's3:PutLifecycleConfiguration',
    )
    expect(accessFor({ kind: 'DeleteBucketLifecycle', bucket: 'b' })?.action).toBe('s3:PutLifecycleConfiguration')
  })

  it('reads --lifecycle-day-seconds and its variable, 1..86400, default 86400', () => {
    expect(loadConfig([], {}).lifecycleDaySeconds).toBe(86_400)
    expect(loadConfig(['--lifecycle-day-seconds', '1'], {}).lifecycleDaySeconds).toBe(1)
    expect(loadConfig([], { STRONGROOM_LIFECYCLE_DAY_SECONDS: '60' }).lifecycleDaySeconds).toBe(60)
    for (const bad of ['0', '-1', '1.5', 'x', '86401'])
      expect(() => loadConfig(['--lifecycle-day-seconds', bad], {})).toThrow(/lifecycle-day-seconds/)
  })

  it('sweeps four times a day, between 250 ms and an hour', () => {
    expect(sweepIntervalMs(1000)).toBe(250)
    expect(sweepIntervalMs(60_000)).toBe(15_000)
    expect(sweepIntervalMs(86_400_000)).toBe(3_600_000)
  })

  it('writes what the sweeper removed to the audit log: bucket, key, version id, rule id', () => {
    const line = JSON.parse(
      auditLine({
        operation: 'lifecycle',
        action: 'lifecycle',
        outcome: 'ok',
        reason: 'expire-noncurrent',
        bucket: 'b',
        key: 'k',
        versionId: 'v1',
        ruleId: 'r',
      }),
    )
    expect(line).toMatchObject({
      action: 'lifecycle',
      reason: 'expire-noncurrent',
      bucket: 'b',
      key: 'k',
      versionId: 'v1',
      ruleId: 'r',
    })
  })
})
