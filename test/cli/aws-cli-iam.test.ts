/**
 * @module End-to-end with the real aws CLI (v1) and boto3: `sts get-caller-identity`,
 * `sts assume-role`, then the temporary credentials (AWS_SESSION_TOKEN) for S3 and KMS — a role
 * with s3:GetObject but no kms:Decrypt is refused `s3 cp` of an SSE-KMS object (HEAD still
 * answers), `kms put-key-policy`, a grant created with `kms create-grant` makes the same copy
 * work and `kms retire-grant` undoes it; boto3 assumes the role, reads and writes, and fetches a
 * presigned URL carrying the session token. Missing tools fail the suite (it never skips).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCT_A, allow, doc, roleArn, trust, userArn } from '../support/iam.js'
import { startTestServer, type TestServer } from '../support/server.js'
import { awsCliEnv, runTool, toolFails } from '../support/aws-cli.js'

const ADMIN = { accessKeyId: 'CLIADMIN', secretAccessKey: 'cli-admin-secret' }
const APP = { accessKeyId: 'CLIAPP', secretAccessKey: 'cli-app-secret' }
const BUCKET = 'cli-iam'

const run = async (tool: string, args: string[], env: NodeJS.ProcessEnv, input?: string) =>
  (await runTool(tool, args, { env, input })).stdout
const fails = (tool: string, args: string[], env: NodeJS.ProcessEnv) => toolFails(tool, args, { env })

const BOTO3 = String.raw`
import json, os, urllib.request, boto3
from botocore.config import Config
ep = os.environ['AWS_ENDPOINT_URL']
sts = boto3.client('sts', endpoint_url=ep)
me = sts.get_caller_identity()
out = sts.assume_role(RoleArn=os.environ['ROLE_ARN'], RoleSessionName='boto3')
c = out['Credentials']
s3 = boto3.client('s3', endpoint_url=ep, aws_access_key_id=c['AccessKeyId'], aws_secret_access_key=c['SecretAccessKey'], aws_session_token=c['SessionToken'], config=Config(signature_version='s3v4'))
s3.put_object(Bucket=os.environ['BUCKET'], Key='boto3.txt', Body=b'from boto3', ServerSideEncryption='aws:kms', SSEKMSKeyId=os.environ['KEY_ARN'])
body = s3.get_object(Bucket=os.environ['BUCKET'], Key='boto3.txt')['Body'].read().decode()
url = s3.generate_presigned_url('get_object', Params={'Bucket': os.environ['BUCKET'], 'Key': 'boto3.txt'}, ExpiresIn=300)
presigned = urllib.request.urlopen(url).read().decode()
who = boto3.client('sts', endpoint_url=ep, aws_access_key_id=c['AccessKeyId'], aws_secret_access_key=c['SecretAccessKey'], aws_session_token=c['SessionToken']).get_caller_identity()
print(json.dumps({'me': me['Arn'], 'assumed': out['AssumedRoleUser']['Arn'], 'who': who['Arn'], 'body': body, 'presigned': presigned, 'token_in_url': 'X-Amz-Security-Token' in url}))
`

describe('aws CLI v1 and boto3: STS, temporary credentials, key policies and grants', () => {
  let server: TestServer
  let work: string
  let keyArn: string
  const envOf = (who: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) => ({
    ...awsCliEnv(server.endpoint),
    AWS_ACCESS_KEY_ID: who.accessKeyId,
    AWS_SECRET_ACCESS_KEY: who.secretAccessKey,
    ...(who.sessionToken ? { AWS_SESSION_TOKEN: who.sessionToken } : {}),
  })
  const aws = (who: Parameters<typeof envOf>[0], ...args: string[]) => run('aws', args, envOf(who))
  const assume = async (role: string) => {
    const out = JSON.parse(
      await aws(APP, 'sts', 'assume-role', '--role-arn', roleArn(role), '--role-session-name', 'cli'),
    ) as { Credentials: Record<string, string> }
    return {
      accessKeyId: out.Credentials.AccessKeyId,
      secretAccessKey: out.Credentials.SecretAccessKey,
      sessionToken: out.Credentials.SessionToken,
    }
  }

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'strongroom-cli-iam-'))
    const file = path.join(work, 'credentials.json')
    const rw = allow(
      ['s3:GetObject', 's3:PutObject', 's3:ListBucket'],
      [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
    )
    await writeFile(
      file,
      JSON.stringify({
        accounts: [
          {
            name: 'cli',
            accountId: ACCT_A,
            keys: [ADMIN],
            users: [{ name: 'app', policies: { assume: doc(allow('sts:AssumeRole')) }, keys: [APP] }],
            roles: [
              {
                name: 'reader',
                trustPolicy: trust(userArn('app')),
                policies: {
                  read: doc(
                    allow(['s3:GetObject', 's3:ListBucket'], [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`]),
                  ),
                },
              },
              {
                name: 'writer',
                trustPolicy: trust(userArn('app')),
                policies: { rw: doc(rw, allow(['kms:GenerateDataKey', 'kms:Decrypt'])) },
              },
            ],
          },
        ],
      }),
    )
    server = await startTestServer({ args: ['--credentials-file', file] })
    await aws(ADMIN, 's3', 'mb', `s3://${BUCKET}`)
    keyArn = (JSON.parse(await aws(ADMIN, 'kms', 'create-key')) as { KeyMetadata: { Arn: string } }).KeyMetadata.Arn
    await writeFile(path.join(work, 'secret.txt'), 'cli secret')
    await aws(
      ADMIN,
      's3',
      'cp',
      path.join(work, 'secret.txt'),
      `s3://${BUCKET}/secret.txt`,
      '--sse',
      'aws:kms',
      '--sse-kms-key-id',
      keyArn,
    )
  })

  afterAll(async () => {
    await server?.close()
    await rm(work, { recursive: true, force: true })
  })

  it('sts get-caller-identity and assume-role; the session is the assumed role everywhere', async () => {
    expect(JSON.parse(await aws(APP, 'sts', 'get-caller-identity')).Arn).toBe(userArn('app'))
    const role = await assume('reader')
    expect(role.accessKeyId).toMatch(/^ASIA/)
    expect(JSON.parse(await aws(role, 'sts', 'get-caller-identity')).Arn).toBe(
      `arn:aws:sts::${ACCT_A}:assumed-role/reader/cli`,
    )
    const denied = await fails(
      'aws',
      ['sts', 'assume-role', '--role-arn', roleArn('nope'), '--role-session-name', 'cli'],
      envOf(APP),
    )
    expect(denied).toContain(
      `User: ${userArn('app')} is not authorized to perform: sts:AssumeRole on resource: ${roleArn('nope')}`,
    )
  })

  it('without kms:Decrypt `s3 cp` of an SSE-KMS object is AccessDenied while head-object answers; a grant makes it work; revoked, it stops', async () => {
    const role = await assume('reader')
    const err = await fails('aws', ['s3', 'cp', `s3://${BUCKET}/secret.txt`, '-'], envOf(role))
    expect(err).toMatch(/403|AccessDenied|Forbidden/)
    const head = JSON.parse(await aws(role, 's3api', 'head-object', '--bucket', BUCKET, '--key', 'secret.txt'))
    expect(head.ServerSideEncryption).toBe('aws:kms')
    const getErr = await fails(
      'aws',
      ['s3api', 'get-object', '--bucket', BUCKET, '--key', 'secret.txt', path.join(work, 'out.txt')],
      envOf(role),
    )
    expect(getErr).toContain(
      `is not authorized to perform: kms:Decrypt on resource: ${keyArn} because no identity-based policy allows the kms:Decrypt action`,
    )
    const grant = JSON.parse(
      await aws(
        ADMIN,
        'kms',
        'create-grant',
        '--key-id',
        keyArn,
        '--grantee-principal',
        roleArn('reader'),
        '--operations',
        'Decrypt',
      ),
    )
    expect(await aws(role, 's3', 'cp', `s3://${BUCKET}/secret.txt`, '-')).toBe('cli secret')
    const grants = JSON.parse(await aws(ADMIN, 'kms', 'list-grants', '--key-id', keyArn))
    expect(grants.Grants.map((g: { GrantId: string }) => g.GrantId)).toContain(grant.GrantId)
    await aws(ADMIN, 'kms', 'revoke-grant', '--key-id', keyArn, '--grant-id', grant.GrantId)
    await fails('aws', ['s3', 'cp', `s3://${BUCKET}/secret.txt`, '-'], envOf(role))
  })

  it('kms put-key-policy / get-key-policy / list-key-policies; an explicit deny in the key policy refuses the writer', async () => {
    const policy = doc(
      {
        Sid: 'Root',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCT_A}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
      {
        Sid: 'NoWriter',
        Effect: 'Deny',
        Principal: { AWS: roleArn('writer') },
        Action: 'kms:GenerateDataKey',
        Resource: '*',
      },
    )
    await writeFile(path.join(work, 'kp.json'), JSON.stringify(policy))
    await aws(
      ADMIN,
      'kms',
      'put-key-policy',
      '--key-id',
      keyArn,
      '--policy-name',
      'default',
      '--policy',
      `file://${path.join(work, 'kp.json')}`,
    )
    expect(
      JSON.parse(
        JSON.parse(await aws(ADMIN, 'kms', 'get-key-policy', '--key-id', keyArn, '--policy-name', 'default')).Policy,
      ),
    ).toEqual(policy)
    expect(JSON.parse(await aws(ADMIN, 'kms', 'list-key-policies', '--key-id', keyArn)).PolicyNames).toEqual([
      'default',
    ])
    const writer = await assume('writer')
    const err = await fails(
      'aws',
      [
        's3api',
        'put-object',
        '--bucket',
        BUCKET,
        '--key',
        'w.txt',
        '--body',
        path.join(work, 'kp.json'),
        '--server-side-encryption',
        'aws:kms',
        '--ssekms-key-id',
        keyArn,
      ],
      envOf(writer),
    )
    expect(err).toContain('kms:GenerateDataKey')
    expect(err).toContain('with an explicit deny in a resource-based policy')
    // Reading is still allowed (the deny names GenerateDataKey only).
    expect(await aws(writer, 's3', 'cp', `s3://${BUCKET}/secret.txt`, '-')).toBe('cli secret')
    await writeFile(
      path.join(work, 'kp.json'),
      JSON.stringify(
        doc({
          Sid: 'Root',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCT_A}:root` },
          Action: 'kms:*',
          Resource: '*',
        }),
      ),
    )
    await aws(
      ADMIN,
      'kms',
      'put-key-policy',
      '--key-id',
      keyArn,
      '--policy-name',
      'default',
      '--policy',
      `file://${path.join(work, 'kp.json')}`,
    )
  })

  it('boto3: assume_role, SSE-KMS put and get with the session, and a presigned URL with the session token', async () => {
    const env = { ...envOf(APP), ROLE_ARN: roleArn('writer'), BUCKET, KEY_ARN: keyArn }
    const out = JSON.parse(await run('python3', ['-c', BOTO3], env))
    expect(out).toEqual({
      me: userArn('app'),
      assumed: `arn:aws:sts::${ACCT_A}:assumed-role/writer/boto3`,
      who: `arn:aws:sts::${ACCT_A}:assumed-role/writer/boto3`,
      body: 'from boto3',
      presigned: 'from boto3',
      token_in_url: true,
    })
  })
})
