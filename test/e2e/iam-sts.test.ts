/**
 * @module E2E (JS SDK): IAM users and roles from the credentials file, STS on the S3 listener,
 * temporary credentials everywhere (header and presigned, expiring), and SSE-KMS's two-service
 * permission boundary — the four permission mistakes of the KMS Developer Guide's S3 section,
 * each as AWS answers it: a role with s3:GetObject but no kms:Decrypt (GET 403, HEAD 200), a key
 * policy allowing only kms:ViaService, an aws:s3:arn encryption-context condition broken by
 * S3 Bucket Keys, a cross-account reader with the bucket policy but not the key policy; the
 * AWS-managed key's refusals; grants created, used, retired.
 */
import {
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DisableKeyCommand,
  EncryptCommand,
  GetKeyPolicyCommand,
  KMSClient,
  ListGrantsCommand,
  PutKeyPolicyCommand,
  RetireGrantCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms'
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  CreateBucketCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { AssumeRoleCommand, STSClient } from '@aws-sdk/nested-clients/sts'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { expectSdkError } from '../support/expect-s3.js'
import { ACCT_A, ACCT_B, allow, credsOf, doc, roleArn, stsCall, trust, userArn } from '../support/iam.js'
import { TEST_REGION, makeClient, startTestServer, type TestServer } from '../support/server.js'

const ADMIN = { accessKeyId: 'AADMIN', secretAccessKey: 'admin-secret' }
const APP = { accessKeyId: 'AAPPUSER', secretAccessKey: 'app-secret' }
const BOB = { accessKeyId: 'BCROSS', secretAccessKey: 'bob-secret' }
const BUCKET = 'iam-data'
const S3_READ = allow(['s3:GetObject', 's3:ListBucket'], [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`])
const S3_RW = allow(
  ['s3:GetObject', 's3:PutObject', 's3:ListBucket'],
  [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
)

const accounts = {
  accounts: [
    {
      name: 'alice',
      accountId: ACCT_A,
      keys: [ADMIN],
      users: [
        {
          name: 'app',
          policies: { assume: doc(allow('sts:AssumeRole', `arn:aws:iam::${ACCT_A}:role/*`)) },
          keys: [APP],
        },
      ],
      roles: [
        { name: 'reader', trustPolicy: trust(userArn('app')), policies: { read: doc(S3_READ) } },
        {
          name: 'decrypter',
          trustPolicy: trust(userArn('app')),
          policies: { rw: doc(S3_RW, allow(['kms:Decrypt', 'kms:GenerateDataKey', 'kms:Encrypt'])) },
          maxSessionDuration: 7200,
        },
        {
          name: 'arn-bound',
          trustPolicy: trust(userArn('app')),
          policies: {
            rw: doc(
              S3_RW,
              allow(['kms:Decrypt', 'kms:GenerateDataKey'], '*', {
                Condition: { StringLike: { 'kms:EncryptionContext:aws:s3:arn': `arn:aws:s3:::${BUCKET}/*` } },
              }),
            ),
          },
        },
        { name: 'kms-admin', trustPolicy: trust(userArn('app')), policies: { all: doc(allow(['kms:*', 's3:*'])) } },
      ],
    },
    {
      name: 'bob',
      accountId: ACCT_B,
      users: [
        {
          name: 'cross',
          policies: { read: doc(allow('s3:GetObject', `arn:aws:s3:::${BUCKET}/*`), allow('kms:Decrypt')) },
          keys: [BOB],
        },
      ],
    },
  ],
}

const bytesOf = async (res: { Body?: { transformToByteArray(): Promise<Uint8Array> } }) =>
  Buffer.from(await res.Body!.transformToByteArray())

describe('IAM, STS and the SSE-KMS permission boundary (JS SDK)', () => {
  let server: TestServer
  let dir: string
  let admin: S3Client
  let adminKms: KMSClient
  let keyArn: string
  const clients: Array<{ destroy(): void }> = []
  const s3As = (credentials: object) => {
    const c = makeClient(server.endpoint, { credentials: credentials as never })
    clients.push(c)
    return c
  }
  const kmsAs = (credentials: object) => {
    const c = new KMSClient({
      endpoint: server.endpoint,
      region: TEST_REGION,
      maxAttempts: 1,
      credentials: credentials as never,
    })
    clients.push(c)
    return c
  }
  /** Temporary credentials of `role` for the app user, through the JS SDK's STS client. */
  const assume = async (role: string, extra: { Policy?: string; DurationSeconds?: number } = {}) => {
    const sts = new STSClient({ endpoint: server.endpoint, region: TEST_REGION, credentials: APP, maxAttempts: 1 })
    clients.push(sts)
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn(role), RoleSessionName: 'ts', ...extra }))
    return {
      accessKeyId: out.Credentials!.AccessKeyId!,
      secretAccessKey: out.Credentials!.SecretAccessKey!,
      sessionToken: out.Credentials!.SessionToken!,
      arn: out.AssumedRoleUser!.Arn!,
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'strongroom-iam-'))
    const file = path.join(dir, 'credentials.json')
    await writeFile(file, JSON.stringify(accounts))
    server = await startTestServer({ args: ['--credentials-file', file, '--audit-log', path.join(dir, 'audit.log')] })
    admin = s3As(ADMIN)
    adminKms = kmsAs(ADMIN)
    await admin.send(new CreateBucketCommand({ Bucket: BUCKET }))
    keyArn = (await adminKms.send(new CreateKeyCommand({ Description: 'app key' }))).KeyMetadata!.Arn!
    await admin.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'secret.txt',
        Body: 'kms data',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: keyArn,
      }),
    )
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'plain.txt', Body: 'sse-s3 data' }))
  })

  afterAll(async () => {
    for (const c of clients) c.destroy()
    await server?.close()
    await rm(dir, { recursive: true, force: true })
  })

  describe('STS', () => {
    it('GetCallerIdentity names the user; AssumeRole returns credentials acting as the assumed-role session', async () => {
      const me = await stsCall(server.endpoint, APP, { Action: 'GetCallerIdentity' })
      expect(me.status).toBe(200)
      const r = me.body.GetCallerIdentityResponse.GetCallerIdentityResult
      expect(r.Arn).toBe(userArn('app'))
      expect(r.Account).toBe(ACCT_A)
      expect(r.UserId).toMatch(/^AIDA[A-Z2-7]{17}$/)
      const role = await assume('reader')
      expect(role.arn).toBe(`arn:aws:sts::${ACCT_A}:assumed-role/reader/ts`)
      expect(role.accessKeyId).toMatch(/^ASIA/)
      const who = await stsCall(server.endpoint, role, { Action: 'GetCallerIdentity' })
      expect(who.body.GetCallerIdentityResponse.GetCallerIdentityResult.Arn).toBe(role.arn)
      expect(who.body.GetCallerIdentityResponse.GetCallerIdentityResult.UserId).toMatch(/^AROA[A-Z2-7]{17}:ts$/)
    })

    it('the trust policy decides; DurationSeconds limits; root cannot assume roles; session credentials cannot GetSessionToken', async () => {
      const bob = await stsCall(server.endpoint, BOB, {
        Action: 'AssumeRole',
        RoleArn: roleArn('reader'),
        RoleSessionName: 'xx',
      })
      expect(bob.status).toBe(403)
      expect(bob.body.ErrorResponse.Error.Code).toBe('AccessDenied')
      expect(bob.body.ErrorResponse.Error.Message).toBe(
        `User: ${userArn('cross', ACCT_B)} is not authorized to perform: sts:AssumeRole on resource: ${roleArn('reader')}`,
      )
      const tooLong = await stsCall(server.endpoint, APP, {
        Action: 'AssumeRole',
        RoleArn: roleArn('reader'),
        RoleSessionName: 'xx',
        DurationSeconds: '7200',
      })
      expect([tooLong.status, tooLong.body.ErrorResponse.Error.Code]).toEqual([400, 'ValidationError'])
      expect(tooLong.body.ErrorResponse.Error.Message).toBe(
        'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      )
      expect(
        (
          await stsCall(server.endpoint, APP, {
            Action: 'AssumeRole',
            RoleArn: roleArn('decrypter'),
            RoleSessionName: 'xx',
            DurationSeconds: '7200',
          })
        ).status,
      ).toBe(200)
      const short = await stsCall(server.endpoint, APP, {
        Action: 'AssumeRole',
        RoleArn: roleArn('reader'),
        RoleSessionName: 'xx',
        DurationSeconds: '899',
      })
      expect(short.body.ErrorResponse.Error.Message).toContain('Member must have value greater than or equal to 900')
      const root = await stsCall(
        server.endpoint,
        { accessKeyId: 'test', secretAccessKey: 'test' },
        { Action: 'AssumeRole', RoleArn: roleArn('reader'), RoleSessionName: 'xx' },
      )
      expect(root.body.ErrorResponse.Error.Message).toBe('Roles may not be assumed by root accounts.')
      const role = await assume('reader')
      const chained = await stsCall(server.endpoint, role, { Action: 'GetSessionToken' })
      expect([chained.status, chained.body.ErrorResponse.Error.Message]).toEqual([
        403,
        'Cannot call GetSessionToken with session credentials',
      ])
      const token = await stsCall(server.endpoint, APP, { Action: 'GetSessionToken', DurationSeconds: '900' })
      const t = credsOf(token, 'GetSessionToken')
      expect(
        (await stsCall(server.endpoint, t, { Action: 'GetCallerIdentity' })).body.GetCallerIdentityResponse
          .GetCallerIdentityResult.Arn,
      ).toBe(userArn('app'))
      const unknown = await stsCall(server.endpoint, APP, { Action: 'GetFederationToken' })
      expect([unknown.status, unknown.body.ErrorResponse.Error.Code]).toEqual([400, 'InvalidAction'])
      const tags = await stsCall(server.endpoint, APP, {
        Action: 'AssumeRole',
        RoleArn: roleArn('reader'),
        RoleSessionName: 'xx',
        'Tags.member.1.Key': 'k',
        'Tags.member.1.Value': 'v',
      })
      expect([tags.status, tags.body.ErrorResponse.Error.Code]).toEqual([501, 'NotImplemented'])
    })

    it('a session policy narrows the role: what it does not allow is refused with "no session policy allows"', async () => {
      const narrowed = await assume('decrypter', {
        Policy: JSON.stringify(doc(allow('s3:GetObject', `arn:aws:s3:::${BUCKET}/plain.txt`))),
      })
      const s3 = s3As(narrowed)
      expect(
        (await bytesOf(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'plain.txt' })))).toString(),
      ).toBe('sse-s3 data')
      await expectSdkError(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'p.txt', Body: 'x' })), {
        status: 403,
        code: 'AccessDenied',
        message: `User: ${narrowed.arn} is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::${BUCKET}/p.txt" because no session policy allows the s3:PutObject action`,
      })
    })

    it('temporary credentials work in presigned URLs; a wrong token is InvalidToken; expired sessions answer ExpiredToken (S3, KMS, STS)', async () => {
      const role = await assume('decrypter')
      const s3 = s3As(role)
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'secret.txt' }), {
        expiresIn: 300,
      })
      expect(url).toContain('X-Amz-Security-Token=')
      const got = await request(url)
      expect(got.statusCode).toBe(200)
      expect(await got.body.text()).toBe('kms data')
      const forged = s3As({ ...role, sessionToken: `${role.sessionToken.slice(0, -4)}AAAA` })
      await expectSdkError(forged.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'plain.txt' })), {
        status: 403,
        code: 'InvalidToken',
      })
      const noToken = s3As({ accessKeyId: role.accessKeyId, secretAccessKey: role.secretAccessKey })
      await expectSdkError(noToken.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'plain.txt' })), {
        status: 403,
        code: 'InvalidAccessKeyId',
      })
      // Two hours later (the clock moves for the client and the server alike): the session has expired.
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 2 * 3600_000 })
      try {
        await expectSdkError(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'plain.txt' })), {
          status: 400,
          code: 'ExpiredToken',
          message: 'The provided token has expired.',
        })
        const kmsErr = await kmsAs(role)
          .send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('x') }))
          .catch((e: Error) => e)
        expect((kmsErr as Error).name).toBe('ExpiredTokenException')
        const sts = await stsCall(server.endpoint, role, { Action: 'GetCallerIdentity' })
        expect(sts.body.ErrorResponse.Error.Code).toBe('ExpiredToken')
        expect((await request(url)).statusCode).not.toBe(200)
      } finally {
        vi.useRealTimers()
      }
    })

    it("an IAM user without s3:ListAllMyBuckets is refused ListBuckets with AWS's detail", async () => {
      await expectSdkError(s3As(APP).send(new ListBucketsCommand({})), {
        status: 403,
        code: 'AccessDenied',
        message: `User: ${userArn('app')} is not authorized to perform: s3:ListAllMyBuckets on resource: "*" because no identity-based policy allows the s3:ListAllMyBuckets action`,
      })
    })
  })

  describe('the four SSE-KMS permission mistakes', () => {
    it('1. a role with s3:GetObject but no kms:Decrypt: GET is 403 AccessDenied naming kms:Decrypt, HEAD answers 200; PUT without kms:GenerateDataKey is 403', async () => {
      const role = await assume('reader')
      const s3 = s3As(role)
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'secret.txt' })), {
        status: 403,
        code: 'AccessDenied',
        message: `User: ${role.arn} is not authorized to perform: kms:Decrypt on resource: ${keyArn} because no identity-based policy allows the kms:Decrypt action`,
      })
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'secret.txt' }))
      expect([head.ServerSideEncryption, head.SSEKMSKeyId]).toEqual(['aws:kms', keyArn])
      expect(
        (await bytesOf(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'plain.txt' })))).toString(),
      ).toBe('sse-s3 data')
      const writer = s3As(await assume('decrypter', { Policy: JSON.stringify(doc(allow('s3:PutObject', '*'))) }))
      const err = await expectSdkError(
        writer.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: 'w.txt',
            Body: 'x',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: keyArn,
          }),
        ),
        { status: 403, code: 'AccessDenied' },
      )
      expect(err.message).toContain('is not authorized to perform: kms:GenerateDataKey on resource:')
      // With kms:Decrypt the same GET answers 200.
      const ok = s3As(await assume('decrypter'))
      expect(
        (await bytesOf(await ok.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'secret.txt' })))).toString(),
      ).toBe('kms data')
    })

    it('2. a key policy allowing use only with kms:ViaService = s3.<region>.amazonaws.com: through S3 it works, directly KMS refuses', async () => {
      const viaKey = (await adminKms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!
      await adminKms.send(
        new PutKeyPolicyCommand({
          KeyId: viaKey,
          PolicyName: 'default',
          Policy: JSON.stringify(
            doc(
              {
                Sid: 'Admin',
                Effect: 'Allow',
                Principal: { AWS: `arn:aws:iam::${ACCT_A}:root` },
                Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:Put*', 'kms:Create*'],
                Resource: '*',
              },
              {
                Sid: 'UseThroughS3',
                Effect: 'Allow',
                Principal: { AWS: roleArn('decrypter') },
                Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
                Resource: '*',
                Condition: { StringEquals: { 'kms:ViaService': `s3.${TEST_REGION}.amazonaws.com` } },
              },
            ),
          ),
        }),
      )
      const role = await assume('decrypter')
      const s3 = s3As(role)
      await s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: 'via.txt',
          Body: 'via s3',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: viaKey,
        }),
      )
      expect((await bytesOf(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'via.txt' })))).toString()).toBe(
        'via s3',
      )
      const direct = await kmsAs(role)
        .send(new EncryptCommand({ KeyId: viaKey, Plaintext: Buffer.from('x') }))
        .catch((e: Error) => e)
      expect((direct as Error).name).toBe('AccessDeniedException')
      expect((direct as Error).message).toBe(
        `User: ${role.arn} is not authorized to perform: kms:Encrypt on resource: ${viaKey} because no resource-based policy allows the kms:Encrypt action`,
      )
    })

    it('3. an encryption-context condition on aws:s3:arn stops working once S3 Bucket Keys make the context the bucket ARN', async () => {
      const s3 = s3As(await assume('arn-bound'))
      await s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: 'ctx.txt',
          Body: 'per object',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyArn,
        }),
      )
      expect((await bytesOf(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ctx.txt' })))).toString()).toBe(
        'per object',
      )
      const bucket = 'iam-bucket-keys'
      await admin.send(new CreateBucketCommand({ Bucket: bucket }))
      await admin.send(
        new PutBucketEncryptionCommand({
          Bucket: bucket,
          ServerSideEncryptionConfiguration: {
            Rules: [
              {
                ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
                BucketKeyEnabled: true,
              },
            ],
          },
        }),
      )
      await admin.send(
        new PutBucketPolicyCommand({
          Bucket: bucket,
          Policy: JSON.stringify(
            doc({
              Effect: 'Allow',
              Principal: { AWS: roleArn('arn-bound') },
              Action: ['s3:PutObject', 's3:GetObject'],
              Resource: `arn:aws:s3:::${bucket}/*`,
            }),
          ),
        }),
      )
      const err = await expectSdkError(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k.txt', Body: 'x' })), {
        status: 403,
        code: 'AccessDenied',
      })
      expect(err.message).toContain('kms:GenerateDataKey')
      // The admin's object in that bucket (context: the bucket ARN) cannot be read by the role either.
      await admin.send(new PutObjectCommand({ Bucket: bucket, Key: 'a.txt', Body: 'bucket key' }))
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a.txt' })), {
        status: 403,
        code: 'AccessDenied',
      })
    })

    it('4. a cross-account reader with the bucket policy but not the key policy: 403 on kms:Decrypt until the key policy allows its account', async () => {
      await admin.send(
        new PutBucketPolicyCommand({
          Bucket: BUCKET,
          Policy: JSON.stringify(
            doc({
              Sid: 'BobReads',
              Effect: 'Allow',
              Principal: { AWS: userArn('cross', ACCT_B) },
              Action: 's3:GetObject',
              Resource: `arn:aws:s3:::${BUCKET}/*`,
            }),
          ),
        }),
      )
      const bob = s3As(BOB)
      expect(
        (await bytesOf(await bob.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'plain.txt' })))).toString(),
      ).toBe('sse-s3 data')
      const err = await expectSdkError(bob.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'secret.txt' })), {
        status: 403,
        code: 'AccessDenied',
      })
      expect(err.message).toBe(
        `User: ${userArn('cross', ACCT_B)} is not authorized to perform: kms:Decrypt on resource: ${keyArn} because no resource-based policy allows the kms:Decrypt action`,
      )
      const current = JSON.parse(
        (await adminKms.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' }))).Policy!,
      )
      current.Statement.push({
        Sid: 'BobDecrypts',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCT_B}:root` },
        Action: 'kms:Decrypt',
        Resource: '*',
      })
      await adminKms.send(
        new PutKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default', Policy: JSON.stringify(current) }),
      )
      expect(
        (await bytesOf(await bob.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'secret.txt' })))).toString(),
      ).toBe('kms data')
      const audit = (await readFile(path.join(dir, 'audit.log'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
      // The audit log names what decided each denial: the key policy for bob's Decrypt, the session policy for the PUT.
      expect(
        audit.some(
          (e) => e.action === 'kms:Decrypt' && e.outcome === 'AccessDeniedException' && e.policyType === 'key',
        ),
      ).toBe(true)
      expect(
        audit.some(
          (e) =>
            e.action === 'deny' &&
            e.iamAction === 's3:PutObject' &&
            e.policyType === 'session' &&
            e.resource === `arn:aws:s3:::${BUCKET}/p.txt`,
        ),
      ).toBe(true)
      expect(audit.some((e) => e.action === 'PutKeyPolicy' || e.operation === 'PutKeyPolicy')).toBe(true)
    })
  })

  describe('KMS key policies and grants', () => {
    it("the default key policy is AWS's; a policy that would lock the caller out is refused", async () => {
      const k = (await adminKms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!
      const p = JSON.parse((await adminKms.send(new GetKeyPolicyCommand({ KeyId: k, PolicyName: 'default' }))).Policy!)
      expect(p).toEqual({
        Version: '2012-10-17',
        Id: 'key-default-1',
        Statement: [
          {
            Sid: 'Enable IAM User Permissions',
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${ACCT_A}:root` },
            Action: 'kms:*',
            Resource: '*',
          },
        ],
      })
      const lockout = await adminKms
        .send(
          new PutKeyPolicyCommand({
            KeyId: k,
            PolicyName: 'default',
            Policy: JSON.stringify(
              doc({ Effect: 'Allow', Principal: { AWS: roleArn('reader') }, Action: 'kms:Decrypt', Resource: '*' }),
            ),
          }),
        )
        .catch((e: Error) => e)
      expect([(lockout as Error).name, (lockout as Error).message]).toEqual([
        'MalformedPolicyDocumentException',
        'The new key policy will not allow you to update the key policy in the future.',
      ])
      const bad = await adminKms
        .send(
          new PutKeyPolicyCommand({
            KeyId: k,
            PolicyName: 'default',
            Policy: '{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Principal":"*","Resource":"*"}]}',
          }),
        )
        .catch((e: Error) => e)
      expect((bad as Error).name).toBe('MalformedPolicyDocumentException')
    })

    it('the AWS-managed alias/aws/s3 key: usable through S3 by the account, refused directly, its policy fixed, never disabled or deleted', async () => {
      const role = await assume('kms-admin')
      const s3 = s3As(role)
      const put = await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'managed.txt', Body: 'managed', ServerSideEncryption: 'aws:kms' }),
      )
      expect(
        (await bytesOf(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'managed.txt' })))).toString(),
      ).toBe('managed')
      const managed = put.SSEKMSKeyId!
      const kms = kmsAs(role)
      const policy = JSON.parse(
        (await kms.send(new GetKeyPolicyCommand({ KeyId: managed, PolicyName: 'default' }))).Policy!,
      )
      expect(policy.Id).toBe('auto-s3-2')
      for (const call of [
        kms.send(new EncryptCommand({ KeyId: 'alias/aws/s3', Plaintext: Buffer.from('x') })),
        kms.send(new PutKeyPolicyCommand({ KeyId: managed, PolicyName: 'default', Policy: JSON.stringify(policy) })),
        kms.send(new DisableKeyCommand({ KeyId: managed })),
        kms.send(new ScheduleKeyDeletionCommand({ KeyId: managed, PendingWindowInDays: 7 })),
        kms.send(
          new CreateGrantCommand({ KeyId: managed, GranteePrincipal: roleArn('reader'), Operations: ['Decrypt'] }),
        ),
      ]) {
        expect(((await call.catch((e: Error) => e)) as Error).name).toBe('AccessDeniedException')
      }
    })

    it('a grant lets a role without kms:Decrypt read the object, with a grant constraint; retired, it no longer does', async () => {
      const role = await assume('reader')
      const s3 = s3As(role)
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'secret.txt' })), {
        status: 403,
        code: 'AccessDenied',
      })
      const wrongContext = await adminKms.send(
        new CreateGrantCommand({
          KeyId: keyArn,
          GranteePrincipal: roleArn('reader'),
          Operations: ['Decrypt'],
          Constraints: { EncryptionContextEquals: { 'aws:s3:arn': `arn:aws:s3:::${BUCKET}/other` } },
        }),
      )
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'secret.txt' })), {
        status: 403,
        code: 'AccessDenied',
      })
      const grant = await adminKms.send(
        new CreateGrantCommand({
          KeyId: keyArn,
          GranteePrincipal: roleArn('reader'),
          RetiringPrincipal: roleArn('reader'),
          Operations: ['Decrypt'],
          Constraints: { EncryptionContextSubset: { 'aws:s3:arn': `arn:aws:s3:::${BUCKET}/secret.txt` } },
          Name: 'read-secret',
        }),
      )
      expect(grant.GrantToken).toBeTruthy()
      expect(
        (await bytesOf(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'secret.txt' })))).toString(),
      ).toBe('kms data')
      const listed = await adminKms.send(new ListGrantsCommand({ KeyId: keyArn }))
      expect(listed.Grants!.map((g) => g.GrantId).sort()).toEqual([grant.GrantId, wrongContext.GrantId].sort())
      expect(listed.Grants!.find((g) => g.GrantId === grant.GrantId)).toMatchObject({
        Name: 'read-secret',
        Operations: ['Decrypt'],
        IssuingAccount: `arn:aws:iam::${ACCT_A}:root`,
      })
      await kmsAs(role).send(new RetireGrantCommand({ GrantToken: grant.GrantToken }))
      await expectSdkError(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'secret.txt' })), {
        status: 403,
        code: 'AccessDenied',
      })
      const invalid = await adminKms
        .send(new DecryptCommand({ CiphertextBlob: Buffer.from('x'), GrantTokens: ['nope'] }))
        .catch((e: Error) => e)
      expect((invalid as Error).name).toBe('InvalidGrantTokenException')
    })
  })
})
