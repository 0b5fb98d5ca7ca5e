/**
 * @module Unit tests of the embedded KMS's JSON data model: operation table, member types, base64 and epoch-second
 * encoding (docs/s3-sse-rules.md §6.1).
 */
import { describe, expect, it } from 'vitest'
import { KMS_OPERATION_NAMES, callKmsOperation, toJson } from '../../../kms/embedded/api.js'
import { expectFault, harness } from './helpers.js'

describe('callKmsOperation', () => {
  it('serves every operation of the docs/s3-sse-rules.md §6.3 subset (and RotateKeyOnDemand, key policies, grants)', () => {
    expect([...KMS_OPERATION_NAMES].sort()).toEqual(
      [
        'CancelKeyDeletion',
        'CreateAlias',
        'CreateKey',
        'Decrypt',
        'DeleteAlias',
        'DescribeKey',
        'DisableKey',
        'DisableKeyRotation',
        'EnableKey',
        'EnableKeyRotation',
        'Encrypt',
        'GenerateDataKey',
        'GenerateDataKeyWithoutPlaintext',
        'GetKeyRotationStatus',
        'ListAliases',
        'ListKeys',
        'ReEncrypt',
        'RotateKeyOnDemand',
        'ScheduleKeyDeletion',
        'PutKeyPolicy',
        'GetKeyPolicy',
        'ListKeyPolicies',
        'CreateGrant',
        'ListGrants',
        'ListRetirableGrants',
        'RetireGrant',
        'RevokeGrant',
      ].sort(),
    )
  })

  it('KAPI-28 an operation not served (TrentService.Nope) is UnknownOperationException without a message', async () => {
    const { kms } = await harness()
    await expectFault(callKmsOperation(kms, 'Nope', {}), 'UnknownOperationException', '')
    await expectFault(callKmsOperation(kms, 'toString', {}), 'UnknownOperationException', '')
  })

  it('a body that is not a JSON object, or a member of the wrong type, is SerializationException', async () => {
    const { kms } = await harness()
    await expectFault(callKmsOperation(kms, 'ListKeys', [1]), 'SerializationException')
    await expectFault(callKmsOperation(kms, 'ListKeys', { Limit: '1' }), 'SerializationException')
    await expectFault(callKmsOperation(kms, 'DescribeKey', { KeyId: 5 }), 'SerializationException')
    await expectFault(
      callKmsOperation(kms, 'Encrypt', { KeyId: 'alias/aws/s3', Plaintext: 'not base64!' }),
      'SerializationException',
    )
    await expectFault(
      callKmsOperation(kms, 'Encrypt', { KeyId: 'alias/aws/s3', Plaintext: 'eA==', EncryptionContext: { a: 1 } }),
      'SerializationException',
    )
    await expectFault(callKmsOperation(kms, 'CreateKey', { Tags: [{ TagKey: 1 }] }), 'SerializationException')
  })

  it('the validation message never echoes a plaintext', async () => {
    const { kms } = await harness()
    const secret = Buffer.alloc(4097, 'S').toString('base64')
    const err = await expectFault(
      callKmsOperation(kms, 'Encrypt', { KeyId: 'alias/aws/s3', Plaintext: secret }),
      'ValidationException',
    )
    expect(err.message).not.toContain('SSSS')
    expect(err.message).not.toContain(secret.slice(0, 16))
  })

  it('binary members travel as base64 and timestamps as epoch seconds; null members count as absent', async () => {
    const { kms, clock } = await harness()
    const created = await callKmsOperation(kms, 'CreateKey', { Description: 'wire', Tags: null })
    const meta = created.KeyMetadata as Record<string, unknown>
    expect(meta.CreationDate).toBe(clock.now / 1000)
    const enc = await callKmsOperation(kms, 'Encrypt', {
      KeyId: meta.KeyId,
      Plaintext: Buffer.from('hi').toString('base64'),
      EncryptionContext: { a: 'b' },
    })
    expect(typeof enc.CiphertextBlob).toBe('string')
    const dec = await callKmsOperation(kms, 'Decrypt', {
      CiphertextBlob: enc.CiphertextBlob,
      EncryptionContext: { a: 'b' },
      KeyId: null,
    })
    expect(dec).toEqual({
      KeyId: meta.Arn,
      Plaintext: Buffer.from('hi').toString('base64'),
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    })
    expect(await callKmsOperation(kms, 'DisableKey', { KeyId: meta.KeyId })).toEqual({})
  })

  it('toJson drops undefined members and converts nested Buffers and Dates', () => {
    expect(toJson({ a: undefined, b: [Buffer.from('x')], c: { d: new Date(1500) } })).toEqual({
      b: ['eA=='],
      c: { d: 1.5 },
    })
  })
})
