/**
 * @module Unit tests of the embedded KMS's key lifecycle, identifiers, aliases and rotation (docs/s3-sse-rules.md
 * §6.2–§6.3, KAPI rows).
 */
import { describe, expect, it } from 'vitest'
import { AWS_S3_KEY_DESCRIPTION } from '../../../kms/embedded/format.js'
import { ACCOUNT, REGION, UNKNOWN_UUID, aliasArnOf, arn, expectFault, harness } from './helpers.js'

const DAY = 86_400_000

describe('EmbeddedKms keys (KAPI-01..06, 33, 34)', () => {
  it('KAPI-01 CreateKey {} answers KeyMetadata with the §6.2 members, Enabled, CUSTOMER', async () => {
    const { kms, clock } = await harness()
    const { KeyMetadata: m } = await kms.createKey({})
    expect(m.KeyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect(m).toEqual({
      AWSAccountId: ACCOUNT,
      KeyId: m.KeyId,
      Arn: arn(m.KeyId),
      CreationDate: new Date(clock.now),
      Enabled: true,
      Description: '',
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeyState: 'Enabled',
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      KeySpec: 'SYMMETRIC_DEFAULT',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      MultiRegion: false,
    })
  })

  it('CreateKey with another KeySpec, KeyUsage, Origin or MultiRegion is UnsupportedOperationException (contract-defined deviation)', async () => {
    const { kms } = await harness()
    await expectFault(
      kms.createKey({ KeySpec: 'RSA_2048' }),
      'UnsupportedOperationException',
      'RSA_2048 is not supported by this store',
    )
    await expectFault(
      kms.createKey({ KeyUsage: 'SIGN_VERIFY' }),
      'UnsupportedOperationException',
      'SIGN_VERIFY is not supported by this store',
    )
    await expectFault(kms.createKey({ Origin: 'EXTERNAL' }), 'UnsupportedOperationException')
    await expectFault(kms.createKey({ MultiRegion: true }), 'UnsupportedOperationException')
    const ok = await kms.createKey({
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      Policy: '{"ignored":true}',
      Description: 'd',
    })
    expect(ok.KeyMetadata.Description).toBe('d')
  })

  it('KAPI-34 CreateKey with tag key aws:x is TagException "Tags beginning with aws: are reserved"; duplicate keys too', async () => {
    const { kms } = await harness()
    await expectFault(
      kms.createKey({ Tags: [{ TagKey: 'aws:x', TagValue: 'v' }] }),
      'TagException',
      'Tags beginning with aws: are reserved',
    )
    await expectFault(
      kms.createKey({
        Tags: [
          { TagKey: 'a', TagValue: '1' },
          { TagKey: 'a', TagValue: '2' },
        ],
      }),
      'TagException',
      'Duplicate tag keys',
    )
    await expectFault(
      kms.createKey({ Tags: [{ TagValue: '1' }] }),
      'ValidationException',
      /Value null at 'tags.1.member.tagKey'/,
    )
    await expect(kms.createKey({ Tags: [{ TagKey: 'team', TagValue: 'x' }] })).resolves.toBeDefined()
  })

  it('KAPI-02 DescribeKey by key id, key ARN, alias name and alias ARN describes the same key', async () => {
    const { kms } = await harness()
    const { KeyMetadata: m } = await kms.createKey({})
    await kms.createAlias({ AliasName: 'alias/app', TargetKeyId: m.KeyId })
    for (const ref of [m.KeyId, m.Arn, 'alias/app', aliasArnOf('alias/app'), m.KeyId.toUpperCase()]) {
      expect((await kms.describeKey({ KeyId: ref })).KeyMetadata.KeyId).toBe(m.KeyId)
    }
  })

  it("KAPI-03 DescribeKey fake-key-id is NotFoundException Invalid keyId 'fake-key-id'", async () => {
    const { kms } = await harness()
    await expectFault(kms.describeKey({ KeyId: 'fake-key-id' }), 'NotFoundException', "Invalid keyId 'fake-key-id'")
  })

  it("KAPI-04 DescribeKey of an unknown UUID (bare or ARN) is NotFoundException Key '<ARN>' does not exist", async () => {
    const { kms } = await harness()
    await expectFault(
      kms.describeKey({ KeyId: UNKNOWN_UUID }),
      'NotFoundException',
      `Key '${arn(UNKNOWN_UUID)}' does not exist`,
    )
    await expectFault(
      kms.describeKey({ KeyId: arn(UNKNOWN_UUID) }),
      'NotFoundException',
      `Key '${arn(UNKNOWN_UUID)}' does not exist`,
    )
  })

  it('KAPI-05 DescribeKey with an ARN of another region is NotFoundException Invalid arn <region>', async () => {
    const { kms } = await harness()
    const { KeyMetadata: m } = await kms.createKey({})
    await expectFault(
      kms.describeKey({ KeyId: m.Arn.replace(REGION, 'eu-west-1') }),
      'NotFoundException',
      'Invalid arn eu-west-1',
    )
  })

  it('unknown alias is NotFoundException "Alias <alias ARN> is not found." (contract-defined)', async () => {
    const { kms } = await harness()
    await expectFault(
      kms.describeKey({ KeyId: 'alias/nope' }),
      'NotFoundException',
      `Alias ${aliasArnOf('alias/nope')} is not found.`,
    )
  })

  it('an ARN of another account, or a caller of another account, is AccessDeniedException (contract-defined)', async () => {
    const { kms } = await harness()
    const { KeyMetadata: m } = await kms.createKey({})
    const foreign = m.Arn.replace(ACCOUNT, '111111111111')
    const caller = { accountId: ACCOUNT, principalArn: `arn:aws:iam::${ACCOUNT}:root` }
    await expectFault(
      kms.describeKey({ KeyId: foreign }, caller),
      'AccessDeniedException',
      `User: arn:aws:iam::${ACCOUNT}:root is not authorized to perform: kms:DescribeKey on resource: ${foreign} because no resource-based policy allows the kms:DescribeKey action`,
    )
    const other = { accountId: '111111111111', principalArn: 'arn:aws:iam::111111111111:root' }
    await expectFault(
      kms.encrypt({ KeyId: m.KeyId, Plaintext: Buffer.from('x') }, other),
      'AccessDeniedException',
      /kms:Encrypt on resource: arn:aws:kms/,
    )
  })

  it('KAPI-06 ListKeys Limit 1 over 3 keys pages with Truncated and NextMarker through all keys in creation order', async () => {
    const { kms } = await harness()
    const ids = []
    for (let i = 0; i < 3; i++) ids.push((await kms.createKey({})).KeyMetadata.KeyId)
    const seen: string[] = []
    let marker: string | undefined
    for (let page = 0; page < 3; page++) {
      const out = await kms.listKeys({ Limit: 1, Marker: marker })
      expect(out.Keys).toHaveLength(1)
      expect(out.Keys[0].KeyArn).toBe(arn(out.Keys[0].KeyId))
      seen.push(out.Keys[0].KeyId)
      expect(out.Truncated).toBe(page < 2)
      marker = out.NextMarker
    }
    expect(marker).toBeUndefined()
    expect(seen).toEqual(ids)
    expect((await kms.listKeys({})).Keys.map((k) => k.KeyId)).toEqual(ids)
  })

  it('ListKeys with a marker the store did not issue is InvalidMarkerException; Limit out of range is ValidationException', async () => {
    const { kms } = await harness()
    await expectFault(kms.listKeys({ Marker: 'bogus' }), 'InvalidMarkerException')
    await expectFault(
      kms.listKeys({ Limit: 0 }),
      'ValidationException',
      /Value '0' at 'limit'.*greater than or equal to 1/,
    )
    await expectFault(kms.listKeys({ Limit: 1001 }), 'ValidationException', /less than or equal to 1000/)
  })

  it('KAPI-33 DescribeKey alias/aws/s3 in a fresh store creates and describes the AWS-managed key, once', async () => {
    const { kms } = await harness()
    expect((await kms.listAliases()).Aliases).toEqual([])
    const { KeyMetadata: m } = await kms.describeKey({ KeyId: 'alias/aws/s3' })
    expect(m.KeyManager).toBe('AWS')
    expect(m.Description).toBe(AWS_S3_KEY_DESCRIPTION)
    expect(m.KeyState).toBe('Enabled')
    const again = await kms.generateDataKey({ KeyId: aliasArnOf('alias/aws/s3'), KeySpec: 'AES_256' })
    expect(again.KeyId).toBe(m.Arn)
    const aliases = (await kms.listAliases()).Aliases
    expect(aliases.map((a) => [a.AliasName, a.TargetKeyId])).toEqual([['alias/aws/s3', m.KeyId]])
    expect((await kms.listKeys()).Keys).toHaveLength(1)
  })

  it('AWS-managed keys refuse management operations (AccessDeniedException) and may not be alias targets', async () => {
    const { kms } = await harness()
    const { KeyMetadata: m } = await kms.describeKey({ KeyId: 'alias/aws/s3' })
    await expectFault(kms.disableKey({ KeyId: m.KeyId }), 'AccessDeniedException', /kms:DisableKey/)
    await expectFault(kms.scheduleKeyDeletion({ KeyId: m.KeyId }), 'AccessDeniedException')
    await expectFault(kms.createAlias({ AliasName: 'alias/x', TargetKeyId: m.KeyId }), 'AccessDeniedException')
    expect((await kms.getKeyRotationStatus({ KeyId: m.KeyId })).KeyRotationEnabled).toBe(true)
  })
})

describe('EmbeddedKms aliases (KAPI-07..09)', () => {
  it('KAPI-07 CreateAlias then ListAliases lists it with AliasArn and TargetKeyId, sorted by name; filter by KeyId', async () => {
    const { kms } = await harness()
    const a = (await kms.createKey({})).KeyMetadata
    const b = (await kms.createKey({})).KeyMetadata
    expect(await kms.createAlias({ AliasName: 'alias/zeta', TargetKeyId: a.KeyId })).toEqual({})
    await kms.createAlias({ AliasName: 'alias/alpha', TargetKeyId: b.Arn })
    const all = (await kms.listAliases()).Aliases
    expect(all.map((x) => x.AliasName)).toEqual(['alias/alpha', 'alias/zeta'])
    expect(all[1]).toMatchObject({ AliasArn: aliasArnOf('alias/zeta'), TargetKeyId: a.KeyId })
    expect((await kms.listAliases({ KeyId: a.Arn })).Aliases.map((x) => x.AliasName)).toEqual(['alias/zeta'])
    await expectFault(kms.listAliases({ KeyId: 'alias/zeta' }), 'NotFoundException', "Invalid keyId 'alias/zeta'")
  })

  it('ListAliases pages with Limit and markers', async () => {
    const { kms } = await harness()
    const k = (await kms.createKey({})).KeyMetadata.KeyId
    for (const n of ['c', 'a', 'b']) await kms.createAlias({ AliasName: `alias/${n}`, TargetKeyId: k })
    const p1 = await kms.listAliases({ Limit: 2 })
    expect(p1.Aliases.map((x) => x.AliasName)).toEqual(['alias/a', 'alias/b'])
    expect(p1.Truncated).toBe(true)
    const p2 = await kms.listAliases({ Limit: 2, Marker: p1.NextMarker })
    expect(p2).toMatchObject({ Truncated: false })
    expect(p2.Aliases.map((x) => x.AliasName)).toEqual(['alias/c'])
    await expectFault(kms.listAliases({ Marker: 'x' }), 'InvalidMarkerException')
    await expectFault(kms.listAliases({ Limit: 101 }), 'ValidationException', /less than or equal to 100/)
  })

  it('KAPI-08 CreateAlias my-alias is ValidationException with the alias/ prefix message', async () => {
    const { kms } = await harness()
    const k = (await kms.createKey({})).KeyMetadata.KeyId
    await expectFault(
      kms.createAlias({ AliasName: 'my-alias', TargetKeyId: k }),
      'ValidationException',
      'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html',
    )
    await expectFault(
      kms.createAlias({ AliasName: 'alias/aws/mine', TargetKeyId: k }),
      'InvalidAliasNameException',
      'Alias names starting with alias/aws/ are reserved for AWS managed keys.',
    )
    await expectFault(
      kms.createAlias({ AliasName: 'alias/bad name', TargetKeyId: k }),
      'ValidationException',
      /regular expression pattern/,
    )
    await expectFault(kms.createAlias({ TargetKeyId: k }), 'ValidationException', /Value null at 'aliasName'/)
    await expectFault(
      kms.createAlias({ AliasName: 'alias/x', TargetKeyId: 'alias/y' }),
      'NotFoundException',
      "Invalid keyId 'alias/y'",
    )
    await expectFault(
      kms.createAlias({ AliasName: 'alias/x', TargetKeyId: UNKNOWN_UUID }),
      'NotFoundException',
      `Key '${arn(UNKNOWN_UUID)}' does not exist`,
    )
  })

  it('KAPI-09 CreateAlias twice is AlreadyExistsException with the alias ARN', async () => {
    const { kms } = await harness()
    const k = (await kms.createKey({})).KeyMetadata.KeyId
    await kms.createAlias({ AliasName: 'alias/twice', TargetKeyId: k })
    await expectFault(
      kms.createAlias({ AliasName: 'alias/twice', TargetKeyId: k }),
      'AlreadyExistsException',
      `An alias with the name ${aliasArnOf('alias/twice')} already exists`,
    )
  })

  it('DeleteAlias removes the alias; deleting it again is NotFoundException', async () => {
    const { kms } = await harness()
    const k = (await kms.createKey({})).KeyMetadata.KeyId
    await kms.createAlias({ AliasName: 'alias/gone', TargetKeyId: k })
    expect(await kms.deleteAlias({ AliasName: 'alias/gone' })).toEqual({})
    await expectFault(
      kms.describeKey({ KeyId: 'alias/gone' }),
      'NotFoundException',
      `Alias ${aliasArnOf('alias/gone')} is not found.`,
    )
    await expectFault(kms.deleteAlias({ AliasName: 'alias/gone' }), 'NotFoundException')
  })

  it('ensureKeys creates declared keys with their aliases once, and keeps them across a reopen', async () => {
    const h = await harness()
    const first = await h.kms.ensureKeys([{ alias: 'alias/test-a', description: 'A' }, { alias: 'alias/test-b' }])
    expect(first.map((k) => k.created)).toEqual([true, true])
    expect((await h.kms.describeKey({ KeyId: 'alias/test-a' })).KeyMetadata.Description).toBe('A')
    await h.reopen()
    const second = await h.kms.ensureKeys([{ alias: 'alias/test-a' }, { alias: 'alias/test-b' }])
    expect(second).toEqual(first.map((k) => ({ ...k, created: false })))
    await expectFault(h.kms.ensureKeys([{ alias: 'no-prefix' }]), 'ValidationException')
  })
})

describe('EmbeddedKms key states (KAPI-21..26)', () => {
  it('KAPI-21 DisableKey, Encrypt is DisabledException "<ARN> is disabled.", EnableKey, Encrypt succeeds', async () => {
    const { kms } = await harness()
    const m = (await kms.createKey({})).KeyMetadata
    expect(await kms.disableKey({ KeyId: m.KeyId })).toEqual({})
    expect((await kms.describeKey({ KeyId: m.KeyId })).KeyMetadata).toMatchObject({
      KeyState: 'Disabled',
      Enabled: false,
    })
    await expectFault(
      kms.encrypt({ KeyId: m.KeyId, Plaintext: Buffer.from('x') }),
      'DisabledException',
      `${m.Arn} is disabled.`,
    )
    await expectFault(
      kms.generateDataKey({ KeyId: m.KeyId, KeySpec: 'AES_256' }),
      'DisabledException',
      `${m.Arn} is disabled.`,
    )
    expect(await kms.disableKey({ KeyId: m.KeyId })).toEqual({})
    await kms.enableKey({ KeyId: m.Arn })
    await expect(kms.encrypt({ KeyId: m.KeyId, Plaintext: Buffer.from('x') })).resolves.toMatchObject({ KeyId: m.Arn })
    await expectFault(kms.disableKey({ KeyId: 'alias/x' }), 'NotFoundException', "Invalid keyId 'alias/x'")
  })

  it('KAPI-22 ScheduleKeyDeletion (default) answers PendingDeletion, window 30, DeletionDate; Encrypt is KMSInvalidStateException', async () => {
    const { kms, clock } = await harness()
    const m = (await kms.createKey({})).KeyMetadata
    const out = await kms.scheduleKeyDeletion({ KeyId: m.KeyId })
    expect(out).toEqual({
      KeyId: m.Arn,
      KeyState: 'PendingDeletion',
      PendingWindowInDays: 30,
      DeletionDate: new Date(clock.now + 30 * DAY),
    })
    const described = (await kms.describeKey({ KeyId: m.KeyId })).KeyMetadata
    expect(described).toMatchObject({
      KeyState: 'PendingDeletion',
      Enabled: false,
      PendingDeletionWindowInDays: 30,
      DeletionDate: out.DeletionDate,
    })
    await expectFault(
      kms.encrypt({ KeyId: m.KeyId, Plaintext: Buffer.from('x') }),
      'KMSInvalidStateException',
      `${m.Arn} is pending deletion.`,
    )
    await expectFault(kms.enableKey({ KeyId: m.KeyId }), 'KMSInvalidStateException', `${m.Arn} is pending deletion.`)
    await expectFault(
      kms.scheduleKeyDeletion({ KeyId: m.KeyId }),
      'KMSInvalidStateException',
      `${m.Arn} is pending deletion.`,
    )
    await expectFault(kms.getKeyRotationStatus({ KeyId: m.KeyId }), 'KMSInvalidStateException')
    expect((await kms.listKeys()).Keys.map((k) => k.KeyId)).toEqual([m.KeyId])
  })

  it('KAPI-23 ScheduleKeyDeletion PendingWindowInDays 6 or 31 is ValidationException', async () => {
    const { kms } = await harness()
    const m = (await kms.createKey({})).KeyMetadata
    await expectFault(
      kms.scheduleKeyDeletion({ KeyId: m.KeyId, PendingWindowInDays: 6 }),
      'ValidationException',
      'PendingWindowInDays should be between 7 and 30, but it is 6',
    )
    await expectFault(
      kms.scheduleKeyDeletion({ KeyId: m.KeyId, PendingWindowInDays: 31 }),
      'ValidationException',
      'PendingWindowInDays should be between 7 and 30, but it is 31',
    )
    expect((await kms.scheduleKeyDeletion({ KeyId: m.KeyId, PendingWindowInDays: 7 })).PendingWindowInDays).toBe(7)
  })

  it('KAPI-24 CancelKeyDeletion leaves the key Disabled; on a key not pending deletion it is KMSInvalidStateException', async () => {
    const { kms } = await harness()
    const m = (await kms.createKey({})).KeyMetadata
    await expectFault(
      kms.cancelKeyDeletion({ KeyId: m.KeyId }),
      'KMSInvalidStateException',
      `${m.Arn} is not pending deletion.`,
    )
    await kms.scheduleKeyDeletion({ KeyId: m.KeyId })
    expect(await kms.cancelKeyDeletion({ KeyId: m.KeyId })).toEqual({ KeyId: m.Arn })
    const after = (await kms.describeKey({ KeyId: m.KeyId })).KeyMetadata
    expect(after.KeyState).toBe('Disabled')
    expect(after.DeletionDate).toBeUndefined()
  })

  it('a key past its DeletionDate is gone: NotFoundException "Key ... does not exist", its aliases removed', async () => {
    const { kms, clock } = await harness()
    const m = (await kms.createKey({})).KeyMetadata
    await kms.createAlias({ AliasName: 'alias/doomed', TargetKeyId: m.KeyId })
    await kms.scheduleKeyDeletion({ KeyId: m.KeyId, PendingWindowInDays: 7 })
    clock.now += 7 * DAY + 1
    await expectFault(kms.describeKey({ KeyId: m.KeyId }), 'NotFoundException', `Key '${m.Arn}' does not exist`)
    expect((await kms.listKeys()).Keys).toEqual([])
    expect((await kms.listAliases()).Aliases).toEqual([])
  })

  it('KAPI-25 EnableKeyRotation then GetKeyRotationStatus: enabled, 365 days, NextRotationDate; DisableKeyRotation', async () => {
    const { kms, clock } = await harness()
    const m = (await kms.createKey({})).KeyMetadata
    expect(await kms.getKeyRotationStatus({ KeyId: m.KeyId })).toEqual({ KeyRotationEnabled: false, KeyId: m.KeyId })
    expect(await kms.enableKeyRotation({ KeyId: m.KeyId })).toEqual({})
    expect(await kms.getKeyRotationStatus({ KeyId: m.Arn })).toEqual({
      KeyRotationEnabled: true,
      KeyId: m.KeyId,
      RotationPeriodInDays: 365,
      NextRotationDate: new Date(clock.now + 365 * DAY),
    })
    await kms.enableKeyRotation({ KeyId: m.KeyId, RotationPeriodInDays: 90 })
    expect((await kms.getKeyRotationStatus({ KeyId: m.KeyId })).RotationPeriodInDays).toBe(90)
    await expectFault(
      kms.enableKeyRotation({ KeyId: m.KeyId, RotationPeriodInDays: 89 }),
      'ValidationException',
      /greater than or equal to 90/,
    )
    await expectFault(
      kms.enableKeyRotation({ KeyId: m.KeyId, RotationPeriodInDays: 2561 }),
      'ValidationException',
      /less than or equal to 2560/,
    )
    await kms.disableKeyRotation({ KeyId: m.KeyId })
    expect((await kms.getKeyRotationStatus({ KeyId: m.KeyId })).KeyRotationEnabled).toBe(false)
  })

  it('KAPI-26 EnableKeyRotation on a disabled key is DisabledException', async () => {
    const { kms } = await harness()
    const m = (await kms.createKey({})).KeyMetadata
    await kms.disableKey({ KeyId: m.KeyId })
    await expectFault(kms.enableKeyRotation({ KeyId: m.KeyId }), 'DisabledException', `${m.Arn} is disabled.`)
    await expectFault(kms.disableKeyRotation({ KeyId: m.KeyId }), 'DisabledException')
  })

  it('state changes survive a reopen of the store', async () => {
    const h = await harness()
    const m = (await h.kms.createKey({ Description: 'kept' })).KeyMetadata
    await h.kms.disableKey({ KeyId: m.KeyId })
    await h.kms.createAlias({ AliasName: 'alias/kept', TargetKeyId: m.KeyId })
    await h.reopen()
    expect((await h.kms.describeKey({ KeyId: 'alias/kept' })).KeyMetadata).toMatchObject({
      KeyId: m.KeyId,
      KeyState: 'Disabled',
      Description: 'kept',
    })
    const next = (await h.kms.createKey({})).KeyMetadata
    expect((await h.kms.listKeys()).Keys.map((k) => k.KeyId)).toEqual([m.KeyId, next.KeyId])
  })

  it('a failed store write changes nothing in memory', async () => {
    const h = await harness()
    const m = (await h.kms.createKey({})).KeyMetadata
    h.store.failNext = new Error('disk full')
    await expect(h.kms.disableKey({ KeyId: m.KeyId })).rejects.toThrow('disk full')
    expect((await h.kms.describeKey({ KeyId: m.KeyId })).KeyMetadata.KeyState).toBe('Enabled')
  })
})
