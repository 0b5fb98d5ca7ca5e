/** @module The audit log: whitelisted fields only, encryption context values redacted, outputs. */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { CryptoError } from '../../../crypto/errors.js'
import { auditLine, failureOutcome, openAuditLog, recordFields, type AuditEvent } from '../../../server/audit.js'

describe('audit log', () => {
  it('writes the documented fields and nothing else a caller passes', () => {
    const event = {
      action: 'unseal',
      outcome: 'ok',
      requestId: 'r1',
      operation: 'GetObject',
      bucket: 'b',
      key: 'k',
      generation: 'g',
      mode: 'SSE-KMS',
      kmsKeyArn: 'arn:aws:kms:us-east-1:000000000000:key/x',
      principal: { accessKeyId: 'AK', accountId: '1', secret: 'S' },
      encryptionContext: { 'aws:s3:arn': 'arn:aws:s3:::b/k', team: 'secret-value' },
      customerKey: 'c2VjcmV0',
      dataKey: Buffer.from('secret-key'),
    } as unknown as AuditEvent
    const line = auditLine(event, new Date(0))
    expect(line.endsWith('\n')).toBe(true)
    expect(JSON.parse(line)).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      action: 'unseal',
      outcome: 'ok',
      requestId: 'r1',
      operation: 'GetObject',
      bucket: 'b',
      key: 'k',
      generation: 'g',
      mode: 'SSE-KMS',
      kmsKeyArn: 'arn:aws:kms:us-east-1:000000000000:key/x',
      principal: { accessKeyId: 'AK', accountId: '1' },
      encryptionContextKeys: ['aws:s3:arn', 'team'],
    })
    expect(line).not.toMatch(/secret|c2VjcmV0/)
  })

  it('recordFields names DSSE and the root key version; failureOutcome gives the crypto reason', () => {
    const f = recordFields(
      {
        format: 'SR1',
        mode: 'SSE-KMS',
        binding: { mode: 'SSE-KMS', bucket: 'b', key: 'k', generation: 'g' },
        sealed: { sealIV: '', nonce: '', ciphertext: '' },
        rootKeyVersion: 3,
        kms: { keyArn: 'arn', ciphertextBlob: 'blob', context: { a: 'v' }, dsse: true },
      },
      { bucket: 'b', key: 'k' },
    )
    expect(f).toMatchObject({ mode: 'DSSE-KMS', rootKeyVersion: 3, kmsKeyArn: 'arn', generation: 'g' })
    expect(JSON.parse(auditLine({ action: 'seal', outcome: 'ok', ...f }))).not.toHaveProperty('ciphertextBlob')
    expect(failureOutcome(new CryptoError('wrong-key'))).toBe('wrong-key')
    expect(failureOutcome(new TypeError('x'))).toBe('TypeError')
  })

  it('appends to a file created 0600; off without a destination', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'audit-'))
    const file = path.join(dir, 'audit.jsonl')
    const log = openAuditLog(file)
    log.audit({ action: 'rotate', outcome: 'ok', toVersion: 2 })
    log.audit({ action: 'retire', outcome: 'ok', fromVersion: 1 })
    await log.close()
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines.map((l) => l.action)).toEqual(['rotate', 'retire'])
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const off = openAuditLog(undefined)
    off.audit({ action: 'seal', outcome: 'ok' })
    await off.close()
    await rm(dir, { recursive: true, force: true })
  })
})
