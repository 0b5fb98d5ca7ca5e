/**
 * @module E2E: our HTTP KMS client against an external KMS — moto_server's KMS on a free loopback
 * port. A machine without moto_server FAILS this suite (it never skips): the issue requires it.
 */
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DisableKeyCommand,
  KMSClient,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HttpKmsClient } from '../../kms/http-client.js'
import type { KmsError } from '../../kms/types.js'
import { startMoto, type Moto } from '../support/kms.js'

const REGION = 'us-east-1'
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' }
const UNKNOWN_UUID = '134f2428-cec1-4b25-a1ae-9048164dba47'

describe('HttpKmsClient against moto_server (external KMS)', () => {
  let moto: Moto | undefined
  let sdk: KMSClient
  let client: HttpKmsClient
  let keyId: string
  let keyArn: string

  let startError: Error | undefined

  /** Every test fails (not skips) with the start error when moto_server is missing or broken. */
  function needMoto(): void {
    if (startError) throw startError
  }

  beforeAll(async () => {
    try {
      moto = await startMoto()
    } catch (err) {
      startError = err as Error
      return
    }
    sdk = new KMSClient({ endpoint: moto.endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 })
    client = new HttpKmsClient({
      endpoint: moto.endpoint,
      region: REGION,
      credentials: CREDENTIALS,
      maxAttempts: 2,
      backoffBaseMs: 10,
    })
    const created = await sdk.send(new CreateKeyCommand({ Description: 'strongroom moto test' }))
    keyId = created.KeyMetadata!.KeyId!
    keyArn = created.KeyMetadata!.Arn!
    await sdk.send(new CreateAliasCommand({ AliasName: 'alias/strongroom-moto', TargetKeyId: keyId }))
  })

  afterAll(async () => {
    await client?.close()
    sdk?.destroy()
    if (moto) await moto.stop()
  })

  it('GenerateDataKey with a context answers a 32-byte key and the key ARN; Decrypt with the same context returns it', async () => {
    needMoto()
    const context = { 'aws:s3:arn': 'arn:aws:s3:::bucket/object' }
    const dk = await client.generateDataKey({ keyId, context })
    expect(dk.plaintext).toHaveLength(32)
    expect(dk.keyArn).toBe(keyArn)
    const back = await new HttpKmsClient({
      endpoint: moto!.endpoint,
      region: REGION,
      credentials: CREDENTIALS,
      cache: false,
    }).decrypt({
      ciphertextBlob: dk.ciphertextBlob,
      context,
    })
    expect(back.plaintext.equals(dk.plaintext)).toBe(true)
    expect(back.keyArn).toBe(keyArn)
  })

  it('the key can be named by alias, and DescribeKey maps the metadata', async () => {
    needMoto()
    const dk = await client.generateDataKey({ keyId: 'alias/strongroom-moto' })
    expect(dk.keyArn).toBe(keyArn)
    expect(await client.describeKey('alias/strongroom-moto')).toMatchObject({
      keyId,
      keyArn,
      state: 'Enabled',
      enabled: true,
      keyManager: 'CUSTOMER',
    })
  })

  it('Decrypt with the wrong context is invalid-ciphertext (InvalidCiphertextException)', async () => {
    needMoto()
    const dk = await client.generateDataKey({ keyId, context: { a: 'b' } })
    const err = (await client
      .decrypt({ ciphertextBlob: dk.ciphertextBlob, context: { a: 'c' } })
      .catch((e) => e)) as KmsError
    expect(err).toMatchObject({
      name: 'KmsError',
      reason: 'invalid-ciphertext',
      exception: 'InvalidCiphertextException',
      status: 400,
    })
  })

  it('an unknown key is not-found with the KMS message (NotFoundException)', async () => {
    needMoto()
    const err = (await client.generateDataKey({ keyId: UNKNOWN_UUID }).catch((e) => e)) as KmsError
    expect(err).toMatchObject({ reason: 'not-found', exception: 'NotFoundException' })
    expect(err.kmsMessage).toMatch(new RegExp(`Key 'arn:aws:kms:${REGION}:\\d{12}:key/${UNKNOWN_UUID}' does not exist`))
    expect(err.s3Code).toBe('KMS.NotFoundException')
    const alias = (await client.generateDataKey({ keyId: 'alias/none' }).catch((e) => e)) as KmsError
    expect(alias).toMatchObject({ reason: 'not-found', exception: 'NotFoundException' })
  })

  it('a disabled key: DescribeKey reports Disabled; any refusal moto makes maps to reason disabled', async () => {
    needMoto()
    const created = await sdk.send(new CreateKeyCommand({}))
    const id = created.KeyMetadata!.KeyId!
    await sdk.send(new DisableKeyCommand({ KeyId: id }))
    expect(await client.describeKey(id)).toMatchObject({ state: 'Disabled', enabled: false })
    // moto 5.x does not enforce key state (it never raises DisabledException for GenerateDataKey):
    // when it accepts, there is no error to map; the DisabledException → 'disabled' mapping is
    // asserted against the embedded KMS (kms-api.test.ts) and undici's MockAgent (unit tests).
    const outcome = await client.generateDataKey({ keyId: id }).then(
      () => 'accepted by moto',
      (e: KmsError) => e,
    )
    if (outcome !== 'accepted by moto')
      expect(outcome).toMatchObject({ reason: 'disabled', exception: 'DisabledException' })
  })

  it('a key scheduled for deletion is reported PendingDeletion by DescribeKey', async () => {
    needMoto()
    const created = await sdk.send(new CreateKeyCommand({}))
    const id = created.KeyMetadata!.KeyId!
    await sdk.send(new ScheduleKeyDeletionCommand({ KeyId: id, PendingWindowInDays: 7 }))
    expect((await client.describeKey(id)).state).toBe('PendingDeletion')
  })
})
