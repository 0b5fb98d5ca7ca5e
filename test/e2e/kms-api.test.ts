/**
 * @module E2E: the embedded KMS on the store's listener (docs/s3-sse-rules.md §6, §8.17 KAPI-*), driven by
 * @aws-sdk/client-kms, by raw signed requests for the protocol faults, by our HTTP client, and by
 * the aws CLI (`aws kms … --endpoint-url`).
 */
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
  ReEncryptCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signRequest } from '../../lib/sigv4.js'
import { HttpKmsClient } from '../../kms/http-client.js'
import type { KmsError } from '../../kms/types.js'
import { TEST_REGION, startTestServer, type TestServer } from '../support/server.js'
import { awsCliEnv } from '../support/aws-cli.js'

const run = promisify(execFile)
const ACCOUNT = '000000000000'
const UNKNOWN_UUID = '134f2428-cec1-4b25-a1ae-9048164dba47'
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function kmsClient(endpoint: string, creds = { accessKeyId: 'test', secretAccessKey: 'test' }): KMSClient {
  return new KMSClient({ endpoint, region: TEST_REGION, credentials: creds, maxAttempts: 1 })
}

/** The SDK error a call fails with: name (= __type), message, HTTP status. */
async function sdkError(promise: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await promise
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } }
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode }
  }
  throw new Error('expected the KMS call to fail')
}

interface RawAnswer {
  status: number
  headers: Headers
  text: string
  json: Record<string, unknown> | undefined
}

/** A raw POST / to the store with the given target and body, signed (or not) as told. */
async function raw(
  endpoint: string,
  opts: { target?: string; body?: string; sign?: { service?: string; secret?: string; accessKeyId?: string } | false },
): Promise<RawAnswer> {
  const url = new URL(endpoint)
  const body = opts.body ?? '{}'
  let headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1' }
  if (opts.target !== undefined) headers['x-amz-target'] = opts.target
  if (opts.sign !== false) {
    const s = opts.sign ?? {}
    headers = signRequest({
      method: 'POST',
      url,
      headers,
      body,
      region: TEST_REGION,
      service: s.service ?? 'kms',
      credentials: { accessKeyId: s.accessKeyId ?? 'test', secretAccessKey: s.secret ?? 'test' },
      now: new Date(),
    })
    delete headers.host
  }
  const res = await fetch(url, { method: 'POST', headers, body })
  const text = await res.text()
  let json: Record<string, unknown> | undefined
  try {
    json = JSON.parse(text) as Record<string, unknown>
  } catch {
    json = undefined
  }
  return { status: res.status, headers: res.headers, text, json }
}

describe('embedded KMS over HTTP', () => {
  let srv: TestServer
  let kms: KMSClient

  beforeAll(async () => {
    srv = await startTestServer()
    kms = kmsClient(srv.endpoint)
  })
  afterAll(async () => {
    kms?.destroy()
    await srv?.close()
  })

  const arn = (id: string) => `arn:aws:kms:${TEST_REGION}:${ACCOUNT}:key/${id}`
  const newKey = async () => (await kms.send(new CreateKeyCommand({}))).KeyMetadata!

  describe('@aws-sdk/client-kms', () => {
    it('KAPI-01 CreateKey {} answers KeyMetadata with Enabled, KeyState Enabled, KeyManager CUSTOMER', async () => {
      const m = await newKey()
      expect(m.KeyId).toMatch(UUID_RE)
      expect(m).toMatchObject({
        AWSAccountId: ACCOUNT,
        Arn: arn(m.KeyId!),
        Enabled: true,
        KeyState: 'Enabled',
        KeyManager: 'CUSTOMER',
        KeyUsage: 'ENCRYPT_DECRYPT',
        Origin: 'AWS_KMS',
        KeySpec: 'SYMMETRIC_DEFAULT',
        CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
        EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
        MultiRegion: false,
      })
      expect(m.CreationDate).toBeInstanceOf(Date)
      expect(Math.abs(m.CreationDate!.getTime() - Date.now())).toBeLessThan(60_000)
    })

    it('KAPI-02 DescribeKey by key id, key ARN, alias name and alias ARN describes the same key', async () => {
      const m = await newKey()
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/kapi-02', TargetKeyId: m.KeyId }))
      for (const ref of [m.KeyId!, m.Arn!, 'alias/kapi-02', `arn:aws:kms:${TEST_REGION}:${ACCOUNT}:alias/kapi-02`]) {
        expect((await kms.send(new DescribeKeyCommand({ KeyId: ref }))).KeyMetadata!.KeyId).toBe(m.KeyId)
      }
    })

    it("KAPI-03 DescribeKey fake-key-id is 400 NotFoundException Invalid keyId 'fake-key-id'", async () => {
      expect(await sdkError(kms.send(new DescribeKeyCommand({ KeyId: 'fake-key-id' })))).toEqual({
        name: 'NotFoundException',
        message: "Invalid keyId 'fake-key-id'",
        status: 400,
      })
    })

    it("KAPI-04 DescribeKey of an unknown UUID is NotFoundException Key '<ARN>' does not exist", async () => {
      expect(await sdkError(kms.send(new DescribeKeyCommand({ KeyId: UNKNOWN_UUID })))).toMatchObject({
        name: 'NotFoundException',
        message: `Key '${arn(UNKNOWN_UUID)}' does not exist`,
      })
    })

    it('KAPI-05 DescribeKey with an ARN of another region is NotFoundException Invalid arn <region>', async () => {
      const m = await newKey()
      expect(
        await sdkError(kms.send(new DescribeKeyCommand({ KeyId: m.Arn!.replace(TEST_REGION, 'ap-south-1') }))),
      ).toMatchObject({
        name: 'NotFoundException',
        message: 'Invalid arn ap-south-1',
      })
    })

    it('KAPI-06 ListKeys Limit 1 pages with Truncated and NextMarker through every key', async () => {
      const created = [await newKey(), await newKey(), await newKey()].map((m) => m.KeyId)
      const seen: string[] = []
      let marker: string | undefined
      do {
        const page = await kms.send(new ListKeysCommand({ Limit: 1, Marker: marker }))
        expect(page.Keys).toHaveLength(1)
        seen.push(page.Keys![0].KeyId!)
        expect(page.Truncated).toBe(page.NextMarker !== undefined)
        marker = page.NextMarker
      } while (marker)
      expect(seen).toEqual(expect.arrayContaining(created))
      expect(seen.slice(-3)).toEqual(created)
    })

    it('KAPI-07 CreateAlias then ListAliases lists it with AliasArn and TargetKeyId', async () => {
      const m = await newKey()
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/kapi-07', TargetKeyId: m.Arn }))
      const listed = (await kms.send(new ListAliasesCommand({ KeyId: m.KeyId }))).Aliases!
      expect(listed).toHaveLength(1)
      expect(listed[0]).toMatchObject({
        AliasName: 'alias/kapi-07',
        AliasArn: `arn:aws:kms:${TEST_REGION}:${ACCOUNT}:alias/kapi-07`,
        TargetKeyId: m.KeyId,
      })
      expect(listed[0].CreationDate).toBeInstanceOf(Date)
      await kms.send(new DeleteAliasCommand({ AliasName: 'alias/kapi-07' }))
      expect((await kms.send(new ListAliasesCommand({ KeyId: m.KeyId }))).Aliases).toEqual([])
    })

    it('KAPI-08 CreateAlias my-alias is ValidationException with the alias/ prefix message', async () => {
      const m = await newKey()
      expect(await sdkError(kms.send(new CreateAliasCommand({ AliasName: 'my-alias', TargetKeyId: m.KeyId })))).toEqual(
        {
          name: 'ValidationException',
          message:
            'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html',
          status: 400,
        },
      )
    })

    it('KAPI-09 CreateAlias twice is AlreadyExistsException naming the alias ARN', async () => {
      const m = await newKey()
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/kapi-09', TargetKeyId: m.KeyId }))
      expect(
        await sdkError(kms.send(new CreateAliasCommand({ AliasName: 'alias/kapi-09', TargetKeyId: m.KeyId }))),
      ).toMatchObject({
        name: 'AlreadyExistsException',
        message: `An alias with the name arn:aws:kms:${TEST_REGION}:${ACCOUNT}:alias/kapi-09 already exists`,
      })
    })

    it('KAPI-10 and KAPI-11 Encrypt answers blob, key ARN, SYMMETRIC_DEFAULT; Decrypt without KeyId returns the plaintext', async () => {
      const m = await newKey()
      const plaintext = randomBytes(100)
      const enc = await kms.send(
        new EncryptCommand({ KeyId: m.KeyId, Plaintext: plaintext, EncryptionContext: { department: 'finance' } }),
      )
      expect(enc.KeyId).toBe(m.Arn)
      expect(enc.EncryptionAlgorithm).toBe('SYMMETRIC_DEFAULT')
      expect(enc.CiphertextBlob!.length).toBeGreaterThan(100)
      const dec = await kms.send(
        new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { department: 'finance' } }),
      )
      expect(Buffer.from(dec.Plaintext!).equals(plaintext)).toBe(true)
      expect(dec.KeyId).toBe(m.Arn)
      expect(dec.EncryptionAlgorithm).toBe('SYMMETRIC_DEFAULT')
    })

    it('KAPI-12 Decrypt with a missing or different context is InvalidCiphertextException', async () => {
      const m = await newKey()
      const enc = await kms.send(
        new EncryptCommand({ KeyId: m.KeyId, Plaintext: Buffer.from('x'), EncryptionContext: { a: 'b' } }),
      )
      for (const ctx of [undefined, { a: 'c' }, { a: 'b', extra: '1' }] as Array<Record<string, string> | undefined>) {
        const err = await sdkError(
          kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx })),
        )
        expect(err).toMatchObject({ name: 'InvalidCiphertextException', status: 400 })
      }
    })

    it('KAPI-13 Decrypt of random bytes is InvalidCiphertextException', async () => {
      expect(await sdkError(kms.send(new DecryptCommand({ CiphertextBlob: randomBytes(64) })))).toMatchObject({
        name: 'InvalidCiphertextException',
        status: 400,
      })
    })

    it('KAPI-14 Decrypt with the KeyId of another key is IncorrectKeyException', async () => {
      const a = await newKey()
      const b = await newKey()
      const enc = await kms.send(new EncryptCommand({ KeyId: a.KeyId, Plaintext: Buffer.from('x') }))
      expect(
        await sdkError(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: b.KeyId }))),
      ).toMatchObject({
        name: 'IncorrectKeyException',
        message: 'The key ID in the request does not identify a CMK that can perform this operation.',
      })
    })

    it('KAPI-15 Encrypt of 4097 bytes is ValidationException (length less than or equal to 4096)', async () => {
      const m = await newKey()
      expect(
        await sdkError(kms.send(new EncryptCommand({ KeyId: m.KeyId, Plaintext: randomBytes(4097) }))),
      ).toMatchObject({
        name: 'ValidationException',
        message:
          "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096",
      })
    })

    it('KAPI-16 GenerateDataKey AES_256 gives 32 bytes that Decrypt returns', async () => {
      const m = await newKey()
      const dk = await kms.send(
        new GenerateDataKeyCommand({
          KeyId: m.Arn,
          KeySpec: 'AES_256',
          EncryptionContext: { 'aws:s3:arn': 'arn:aws:s3:::b/k' },
        }),
      )
      expect(dk.Plaintext).toHaveLength(32)
      expect(dk.KeyId).toBe(m.Arn)
      const back = await kms.send(
        new DecryptCommand({
          CiphertextBlob: dk.CiphertextBlob,
          EncryptionContext: { 'aws:s3:arn': 'arn:aws:s3:::b/k' },
        }),
      )
      expect(Buffer.from(back.Plaintext!).equals(Buffer.from(dk.Plaintext!))).toBe(true)
    })

    it('KAPI-17 GenerateDataKey with neither or both KeySpec and NumberOfBytes is ValidationException', async () => {
      const m = await newKey()
      const message = 'Please specify either number of bytes or key spec.'
      expect(await sdkError(kms.send(new GenerateDataKeyCommand({ KeyId: m.KeyId })))).toMatchObject({
        name: 'ValidationException',
        message,
      })
      expect(
        await sdkError(kms.send(new GenerateDataKeyCommand({ KeyId: m.KeyId, KeySpec: 'AES_256', NumberOfBytes: 32 }))),
      ).toMatchObject({
        name: 'ValidationException',
        message,
      })
    })

    it('KAPI-18 GenerateDataKeyWithoutPlaintext has no Plaintext', async () => {
      const m = await newKey()
      const out = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: m.KeyId, KeySpec: 'AES_256' }))
      expect('Plaintext' in out).toBe(false)
      expect(out.CiphertextBlob!.length).toBeGreaterThan(32)
    })

    it('KAPI-19 and KAPI-20 ReEncrypt to key B (SourceKeyId A ARN, KeyId B ARN); a wrong SourceKeyId is IncorrectKeyException', async () => {
      const a = await newKey()
      const b = await newKey()
      const enc = await kms.send(
        new EncryptCommand({ KeyId: a.KeyId, Plaintext: Buffer.from('moving'), EncryptionContext: { s: '1' } }),
      )
      const re = await kms.send(
        new ReEncryptCommand({
          CiphertextBlob: enc.CiphertextBlob,
          SourceEncryptionContext: { s: '1' },
          DestinationKeyId: b.KeyId,
          DestinationEncryptionContext: { d: '2' },
        }),
      )
      expect(re.SourceKeyId).toBe(a.Arn)
      expect(re.KeyId).toBe(b.Arn)
      const dec = await kms.send(
        new DecryptCommand({ CiphertextBlob: re.CiphertextBlob, EncryptionContext: { d: '2' } }),
      )
      expect(Buffer.from(dec.Plaintext!).toString()).toBe('moving')
      expect(dec.KeyId).toBe(b.Arn)
      expect(
        await sdkError(
          kms.send(
            new ReEncryptCommand({
              CiphertextBlob: enc.CiphertextBlob,
              SourceEncryptionContext: { s: '1' },
              SourceKeyId: b.KeyId,
              DestinationKeyId: b.KeyId,
            }),
          ),
        ),
      ).toMatchObject({
        name: 'IncorrectKeyException',
      })
    })

    it('KAPI-21 DisableKey, Encrypt is DisabledException "<ARN> is disabled.", EnableKey, Encrypt succeeds', async () => {
      const m = await newKey()
      await kms.send(new DisableKeyCommand({ KeyId: m.KeyId }))
      expect(await sdkError(kms.send(new EncryptCommand({ KeyId: m.KeyId, Plaintext: Buffer.from('x') })))).toEqual({
        name: 'DisabledException',
        message: `${m.Arn} is disabled.`,
        status: 400,
      })
      await kms.send(new EnableKeyCommand({ KeyId: m.KeyId }))
      expect((await kms.send(new EncryptCommand({ KeyId: m.KeyId, Plaintext: Buffer.from('x') }))).KeyId).toBe(m.Arn)
    })

    it('KAPI-22 ScheduleKeyDeletion (default): PendingDeletion, 30 days, DeletionDate; Encrypt is KMSInvalidStateException', async () => {
      const m = await newKey()
      const out = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: m.KeyId }))
      expect(out).toMatchObject({ KeyId: m.Arn, KeyState: 'PendingDeletion', PendingWindowInDays: 30 })
      expect(out.DeletionDate!.getTime() - Date.now()).toBeGreaterThan(29 * 86_400_000)
      expect(await sdkError(kms.send(new EncryptCommand({ KeyId: m.KeyId, Plaintext: Buffer.from('x') })))).toEqual({
        name: 'KMSInvalidStateException',
        message: `${m.Arn} is pending deletion.`,
        status: 400,
      })
    })

    it('KAPI-23 ScheduleKeyDeletion with PendingWindowInDays 6 or 31 is ValidationException', async () => {
      const m = await newKey()
      for (const days of [6, 31]) {
        expect(
          await sdkError(kms.send(new ScheduleKeyDeletionCommand({ KeyId: m.KeyId, PendingWindowInDays: days }))),
        ).toMatchObject({
          name: 'ValidationException',
          message: `PendingWindowInDays should be between 7 and 30, but it is ${days}`,
        })
      }
    })

    it('KAPI-24 CancelKeyDeletion leaves the key Disabled', async () => {
      const m = await newKey()
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: m.KeyId, PendingWindowInDays: 7 }))
      expect((await kms.send(new CancelKeyDeletionCommand({ KeyId: m.KeyId }))).KeyId).toBe(m.Arn)
      expect((await kms.send(new DescribeKeyCommand({ KeyId: m.KeyId }))).KeyMetadata!.KeyState).toBe('Disabled')
    })

    it('KAPI-25 EnableKeyRotation then GetKeyRotationStatus: enabled, 365 days, NextRotationDate', async () => {
      const m = await newKey()
      await kms.send(new EnableKeyRotationCommand({ KeyId: m.KeyId }))
      const status = await kms.send(new GetKeyRotationStatusCommand({ KeyId: m.KeyId }))
      expect(status).toMatchObject({ KeyRotationEnabled: true, KeyId: m.KeyId, RotationPeriodInDays: 365 })
      expect(status.NextRotationDate!.getTime() - Date.now()).toBeGreaterThan(364 * 86_400_000)
    })

    it('KAPI-26 EnableKeyRotation on a disabled key is DisabledException', async () => {
      const m = await newKey()
      await kms.send(new DisableKeyCommand({ KeyId: m.KeyId }))
      expect(await sdkError(kms.send(new EnableKeyRotationCommand({ KeyId: m.KeyId })))).toMatchObject({
        name: 'DisabledException',
        message: `${m.Arn} is disabled.`,
      })
    })

    it('KAPI-27 rotate key material (RotateKeyOnDemand, the admin hook), then an old ciphertext still decrypts', async () => {
      const m = await newKey()
      const old = await kms.send(
        new EncryptCommand({
          KeyId: m.KeyId,
          Plaintext: Buffer.from('before rotation'),
          EncryptionContext: { r: '1' },
        }),
      )
      expect((await kms.send(new RotateKeyOnDemandCommand({ KeyId: m.KeyId }))).KeyId).toBe(m.KeyId)
      const fresh = await kms.send(new EncryptCommand({ KeyId: m.KeyId, Plaintext: Buffer.from('after') }))
      expect(
        Buffer.from(fresh.CiphertextBlob!).subarray(0, 24).equals(Buffer.from(old.CiphertextBlob!).subarray(0, 24)),
      ).toBe(false)
      const dec = await kms.send(
        new DecryptCommand({ CiphertextBlob: old.CiphertextBlob, EncryptionContext: { r: '1' } }),
      )
      expect(Buffer.from(dec.Plaintext!).toString()).toBe('before rotation')
    })

    it('KAPI-33 DescribeKey alias/aws/s3 in a fresh store creates the AWS-managed key', async () => {
      const fresh = await startTestServer()
      const client = kmsClient(fresh.endpoint)
      try {
        expect((await client.send(new ListAliasesCommand({}))).Aliases).toEqual([])
        const m = (await client.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }))).KeyMetadata!
        expect(m).toMatchObject({
          KeyManager: 'AWS',
          KeyState: 'Enabled',
          Description: 'Default key that protects my S3 objects when no other key is defined',
        })
        expect(
          (await client.send(new ListAliasesCommand({}))).Aliases!.map((a) => [a.AliasName, a.TargetKeyId]),
        ).toEqual([['alias/aws/s3', m.KeyId]])
      } finally {
        client.destroy()
        await fresh.close()
      }
    })

    it('KAPI-34 CreateKey with tag key aws:x is TagException "Tags beginning with aws: are reserved"', async () => {
      expect(await sdkError(kms.send(new CreateKeyCommand({ Tags: [{ TagKey: 'aws:x', TagValue: 'v' }] })))).toEqual({
        name: 'TagException',
        message: 'Tags beginning with aws: are reserved',
        status: 400,
      })
    })

    it("KAPI-35 Encrypt without KeyId is ValidationException Value null at 'keyId'", async () => {
      expect(await sdkError(kms.send(new EncryptCommand({ Plaintext: Buffer.from('x') } as never)))).toMatchObject({
        name: 'ValidationException',
        message:
          "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null",
      })
    })

    it('keys and their ciphertexts survive a restart of the store (material sealed in the data dir)', async () => {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-kms-restart-'))
      try {
        let s = await startTestServer({ dataDir })
        let c = kmsClient(s.endpoint)
        const m = (await c.send(new CreateKeyCommand({ Description: 'restart' }))).KeyMetadata!
        await c.send(new CreateAliasCommand({ AliasName: 'alias/restart', TargetKeyId: m.KeyId }))
        const dk = await c.send(new GenerateDataKeyCommand({ KeyId: 'alias/restart', KeySpec: 'AES_256' }))
        c.destroy()
        await s.close()
        s = await startTestServer({ dataDir })
        c = kmsClient(s.endpoint)
        const dec = await c.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }))
        expect(Buffer.from(dec.Plaintext!).equals(Buffer.from(dk.Plaintext!))).toBe(true)
        expect(dec.KeyId).toBe(m.Arn)
        c.destroy()
        await s.close()
      } finally {
        await rm(dataDir, { recursive: true, force: true })
      }
    })
  })

  describe('protocol and authentication faults (raw requests)', () => {
    it('KAPI-28 X-Amz-Target TrentService.Nope is 400 UnknownOperationException', async () => {
      const res = await raw(srv.endpoint, { target: 'TrentService.Nope' })
      expect(res.status).toBe(400)
      expect(res.json).toEqual({ __type: 'UnknownOperationException' })
    })

    it('KAPI-29 an unknown access key is UnrecognizedClientException "The security token included in the request is invalid."', async () => {
      const client = kmsClient(srv.endpoint, { accessKeyId: 'NOPE', secretAccessKey: 'x' })
      expect(await sdkError(client.send(new ListKeysCommand({})))).toEqual({
        name: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
        status: 400,
      })
      client.destroy()
    })

    it('KAPI-30 a wrong signature is InvalidSignatureException', async () => {
      const client = kmsClient(srv.endpoint, { accessKeyId: 'test', secretAccessKey: 'wrong' })
      const err = await sdkError(client.send(new ListKeysCommand({})))
      expect(err).toMatchObject({ name: 'InvalidSignatureException', status: 400 })
      expect(err.message).toContain('The request signature we calculated does not match the signature you provided.')
      client.destroy()
    })

    it('KAPI-31 a KMS request signed for service s3 is InvalidSignatureException', async () => {
      const res = await raw(srv.endpoint, { target: 'TrentService.ListKeys', sign: { service: 's3' } })
      expect(res.status).toBe(400)
      expect(res.json).toEqual({
        __type: 'InvalidSignatureException',
        message: "Credential should be scoped to correct service: 'kms'. ",
      })
    })

    it('KAPI-32 every KMS error is JSON {"__type","message"} as application/x-amz-json-1.1 with an x-amzn-RequestId', async () => {
      const answers = [
        await raw(srv.endpoint, { target: 'TrentService.DescribeKey', body: '{"KeyId":"fake-key-id"}' }),
        await raw(srv.endpoint, { target: 'TrentService.ListKeys', sign: false }),
        await raw(srv.endpoint, { target: 'TrentService.ListKeys', body: 'not json' }),
        await raw(srv.endpoint, { target: 'TrentService.Encrypt', body: '{"Plaintext":"eA=="}' }),
      ]
      expect(answers.map((a) => [a.status, a.json?.__type])).toEqual([
        [400, 'NotFoundException'],
        [400, 'MissingAuthenticationTokenException'],
        [400, 'SerializationException'],
        [400, 'ValidationException'],
      ])
      for (const a of answers) {
        expect(a.headers.get('content-type')).toBe('application/x-amz-json-1.1')
        expect(a.headers.get('x-amzn-requestid')).toMatch(UUID_RE)
        expect(Object.keys(a.json!).sort()).toEqual(['__type', 'message'])
      }
      expect(answers[1].json!.message).toBe('Missing Authentication Token')
    })

    it('a successful answer is application/x-amz-json-1.1 with x-amzn-RequestId; an empty body counts as {}', async () => {
      const res = await raw(srv.endpoint, { target: 'TrentService.ListKeys', body: '' })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.1')
      expect(res.headers.get('x-amzn-requestid')).toMatch(UUID_RE)
      expect(res.json).toMatchObject({ Truncated: false })
    })

    it('a body over 1 MiB is refused with SerializationException', async () => {
      const res = await raw(srv.endpoint, {
        target: 'TrentService.ListKeys',
        body: JSON.stringify({ Marker: 'x'.repeat(1024 * 1024 + 10) }),
      })
      expect(res.status).toBe(400)
      expect(res.json?.__type).toBe('SerializationException')
    })

    it('a POST without a TrentService target is still S3 (not routed to the KMS)', async () => {
      const res = await raw(srv.endpoint, { target: 'DynamoDB_20120810.ListTables' })
      expect(res.headers.get('content-type')).not.toBe('application/x-amz-json-1.1')
    })
  })

  describe('our HttpKmsClient against the embedded KMS', () => {
    let client: HttpKmsClient
    beforeAll(() => {
      client = new HttpKmsClient({
        endpoint: srv.endpoint,
        region: TEST_REGION,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      })
    })
    afterAll(async () => {
      await client?.close()
    })

    it('GenerateDataKey and Decrypt with context round-trip; errors map to reasons with the KMS wording', async () => {
      const m = await newKey()
      const ctx = { 'aws:s3:arn': 'arn:aws:s3:::bucket/key' }
      const dk = await client.generateDataKey({ keyId: m.KeyId!, context: ctx })
      expect(dk.plaintext).toHaveLength(32)
      expect(dk.keyArn).toBe(m.Arn)
      expect(
        (await client.decrypt({ ciphertextBlob: dk.ciphertextBlob, context: ctx, keyId: m.Arn })).plaintext.equals(
          dk.plaintext,
        ),
      ).toBe(true)
      const wrong = (await client
        .decrypt({ ciphertextBlob: dk.ciphertextBlob, context: { other: 'x' } })
        .catch((e) => e)) as KmsError
      expect(wrong).toMatchObject({
        reason: 'invalid-ciphertext',
        exception: 'InvalidCiphertextException',
        kmsMessage: '',
      })
      const unknown = (await client.generateDataKey({ keyId: UNKNOWN_UUID }).catch((e) => e)) as KmsError
      expect(unknown).toMatchObject({
        reason: 'not-found',
        exception: 'NotFoundException',
        kmsMessage: `Key '${arn(UNKNOWN_UUID)}' does not exist`,
      })
      expect(unknown.s3Code).toBe('KMS.NotFoundException')
    })

    it('disabled key → reason disabled; pending deletion → reason pending-deletion (KMS-09, KMS-10 mapping)', async () => {
      const m = await newKey()
      await client.call('DisableKey', { KeyId: m.KeyId })
      expect(await client.generateDataKey({ keyId: m.KeyId! }).catch((e) => e)).toMatchObject({
        reason: 'disabled',
        exception: 'DisabledException',
        kmsMessage: `${m.Arn} is disabled.`,
      })
      expect((await client.describeKey(m.KeyId!)).state).toBe('Disabled')
      await client.call('ScheduleKeyDeletion', { KeyId: m.KeyId, PendingWindowInDays: 7 })
      expect(await client.generateDataKey({ keyId: m.KeyId! }).catch((e) => e)).toMatchObject({
        reason: 'pending-deletion',
        exception: 'KMSInvalidStateException',
        kmsMessage: `${m.Arn} is pending deletion.`,
      })
    })
  })

  describe('aws CLI', () => {
    let dir: string
    const cli = async (...args: string[]) => {
      const { stdout } = await run('aws', ['--endpoint-url', srv.endpoint, 'kms', ...args, '--output', 'json'], {
        env: awsCliEnv(srv.endpoint),
      })
      return JSON.parse(stdout || '{}') as Record<string, unknown>
    }

    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'strongroom-kms-cli-'))
    })
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true })
    })

    it('create-key, create-alias, describe-key, encrypt, decrypt, generate-data-key, list-aliases work against the embedded KMS', async () => {
      const created = (await cli('create-key', '--description', 'from the cli')).KeyMetadata as Record<string, string>
      expect(created.KeyState).toBe('Enabled')
      expect(await cli('create-alias', '--alias-name', 'alias/cli', '--target-key-id', created.KeyId)).toEqual({})
      expect(
        ((await cli('describe-key', '--key-id', 'alias/cli')).KeyMetadata as Record<string, string>).Description,
      ).toBe('from the cli')
      const plain = path.join(dir, 'plain.bin')
      const secret = randomBytes(48)
      await writeFile(plain, secret)
      const enc = await cli(
        'encrypt',
        '--key-id',
        'alias/cli',
        '--plaintext',
        `fileb://${plain}`,
        '--encryption-context',
        'app=cli',
      )
      expect(enc.KeyId).toBe(created.Arn)
      const blob = path.join(dir, 'blob.bin')
      await writeFile(blob, Buffer.from(enc.CiphertextBlob as string, 'base64'))
      const dec = await cli('decrypt', '--ciphertext-blob', `fileb://${blob}`, '--encryption-context', 'app=cli')
      expect(Buffer.from(dec.Plaintext as string, 'base64').equals(secret)).toBe(true)
      const dk = await cli('generate-data-key', '--key-id', created.Arn, '--key-spec', 'AES_256')
      expect(Buffer.from(dk.Plaintext as string, 'base64')).toHaveLength(32)
      await writeFile(blob, Buffer.from(dk.CiphertextBlob as string, 'base64'))
      const back = await cli('decrypt', '--ciphertext-blob', `fileb://${blob}`)
      expect(back.Plaintext).toBe(dk.Plaintext)
      const aliases = (await cli('list-aliases', '--key-id', created.KeyId)).Aliases as Array<Record<string, string>>
      expect(aliases.map((a) => a.AliasName)).toEqual(['alias/cli'])
    })

    it('the CLI reports KMS errors by name: decrypt with the wrong context fails with InvalidCiphertextException', async () => {
      const created = (await cli('create-key')).KeyMetadata as Record<string, string>
      const plain = path.join(dir, 'p2.bin')
      await writeFile(plain, 'x')
      const enc = await cli(
        'encrypt',
        '--key-id',
        created.KeyId,
        '--plaintext',
        `fileb://${plain}`,
        '--encryption-context',
        'a=b',
      )
      const blob = path.join(dir, 'b2.bin')
      await writeFile(blob, Buffer.from(enc.CiphertextBlob as string, 'base64'))
      const failed = await cli('decrypt', '--ciphertext-blob', `fileb://${blob}`, '--encryption-context', 'a=c').catch(
        (e: { stderr: string }) => e,
      )
      expect((failed as { stderr: string }).stderr).toContain('InvalidCiphertextException')
      const missing = await cli('describe-key', '--key-id', 'fake-key-id').catch((e: { stderr: string }) => e)
      expect((missing as { stderr: string }).stderr).toContain(
        "NotFoundException) when calling the DescribeKey operation: Invalid keyId 'fake-key-id'",
      )
    })
  })
})
