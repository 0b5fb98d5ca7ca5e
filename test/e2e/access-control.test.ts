/**
 * @module E2E: access control as AWS ships it, with @aws-sdk/client-s3 and unsigned requests:
 * Object Ownership (new buckets BucketOwnerEnforced: ACLs refused with AccessControlListNotSupported),
 * ACLs under ObjectWriter (canned ACLs, grant headers to a second account, evaluated with the bucket
 * policy), Block Public Access (new buckets all four on) and GetBucketPolicyStatus.
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketOwnershipControlsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyStatusCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canonicalId } from '../../server/s3/acl.js'
import { expectSdkError } from '../support/expect-s3.js'
import { ACCT_A, ACCT_B } from '../support/iam.js'
import { parseXml, send, signedSend, type RawResponse } from '../support/raw-s3.js'
import { makeClient, startTestServer, type TestServer } from '../support/server.js'

const ALICE = { accessKeyId: 'ACLALICE1', secretAccessKey: 'acl-alice-secret' }
const BOB = { accessKeyId: 'ACLBOB1', secretAccessKey: 'acl-bob-secret' }
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers'
const NOT_SUPPORTED = { status: 400, code: 'AccessControlListNotSupported', message: 'The bucket does not allow ACLs' }
const DENIED = { status: 403, code: 'AccessDenied' }
const ALL_OFF = {
  BlockPublicAcls: false,
  IgnorePublicAcls: false,
  BlockPublicPolicy: false,
  RestrictPublicBuckets: false,
}
const codeOf = (res: RawResponse) => [res.status, parseXml(res.text).Error?.Code]
const text = async (res: { Body?: { transformToString(): Promise<string> } }) => res.Body!.transformToString()

describe('access control: Object Ownership, ACLs, Block Public Access, policy status', () => {
  let srv: TestServer
  let dir: string
  let alice: S3Client
  let bob: S3Client
  let n = 0
  const as = (who: typeof ALICE) => ({ credentials: who, maxAttempts: 1 })
  const anonGet = (bucket: string, key: string) => send(srv.port, { method: 'GET', path: `/${bucket}/${key}` })
  /** A bucket of alice's with ACLs on (ObjectWriter) and, unless kept, no Block Public Access. */
  const aclBucket = async (opts: { keepBlock?: boolean } = {}) => {
    const b = `acl-${++n}`
    await alice.send(new CreateBucketCommand({ Bucket: b, ObjectOwnership: 'ObjectWriter' }))
    if (!opts.keepBlock) await alice.send(new DeletePublicAccessBlockCommand({ Bucket: b }))
    return b
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'strongroom-acl-'))
    const file = path.join(dir, 'credentials.json')
    await writeFile(
      file,
      JSON.stringify({
        accounts: [
          { name: 'alice', accountId: ACCT_A, keys: [ALICE] },
          { name: 'bob', accountId: ACCT_B, keys: [BOB] },
        ],
      }),
    )
    srv = await startTestServer({ args: ['--credentials-file', file] })
    alice = makeClient(srv.endpoint, as(ALICE))
    bob = makeClient(srv.endpoint, as(BOB))
  })
  afterAll(async () => {
    await srv?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  describe('a new bucket: BucketOwnerEnforced and all of Block Public Access, as AWS creates buckets', () => {
    const b = 'acl-default'
    beforeAll(async () => {
      await alice.send(new CreateBucketCommand({ Bucket: b }))
      await alice.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'data' }))
    })

    it('GetBucketOwnershipControls says BucketOwnerEnforced; GetPublicAccessBlock has all four on', async () => {
      const oc = await alice.send(new GetBucketOwnershipControlsCommand({ Bucket: b }))
      expect(oc.OwnershipControls?.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }])
      const pab = await alice.send(new GetPublicAccessBlockCommand({ Bucket: b }))
      expect(pab.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      })
    })

    it('PutObject, CopyObject and CreateMultipartUpload with public-read answer AccessControlListNotSupported and write nothing', async () => {
      await expectSdkError(
        alice.send(new PutObjectCommand({ Bucket: b, Key: 'pub', Body: 'x', ACL: 'public-read' })),
        NOT_SUPPORTED,
      )
      await expectSdkError(alice.send(new HeadObjectCommand({ Bucket: b, Key: 'pub' })), {
        status: 404,
        code: 'NotFound',
      })
      await expectSdkError(
        alice.send(new CopyObjectCommand({ Bucket: b, Key: 'pub', CopySource: `${b}/k`, ACL: 'public-read' })),
        NOT_SUPPORTED,
      )
      await expectSdkError(
        alice.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'pub', ACL: 'public-read' })),
        NOT_SUPPORTED,
      )
      await expectSdkError(
        alice.send(new PutObjectCommand({ Bucket: b, Key: 'pub', Body: 'x', GrantRead: `id=${canonicalId(ACCT_B)}` })),
        NOT_SUPPORTED,
      )
    })

    it('no ACL, private and bucket-owner-full-control are accepted', async () => {
      for (const ACL of [undefined, 'private', 'bucket-owner-full-control'] as const) {
        await alice.send(new PutObjectCommand({ Bucket: b, Key: `ok-${ACL}`, Body: 'x', ACL }))
      }
    })

    it('PutBucketAcl and PutObjectAcl answer AccessControlListNotSupported; reading ACLs shows the owner FULL_CONTROL', async () => {
      await expectSdkError(alice.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' })), NOT_SUPPORTED)
      await expectSdkError(
        alice.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', ACL: 'public-read' })),
        NOT_SUPPORTED,
      )
      const owner = { ID: canonicalId(ACCT_A) }
      const want = {
        Owner: owner,
        Grants: [{ Grantee: { Type: 'CanonicalUser', ID: owner.ID }, Permission: 'FULL_CONTROL' }],
      }
      expect(await alice.send(new GetBucketAclCommand({ Bucket: b }))).toMatchObject(want)
      expect(await alice.send(new GetObjectAclCommand({ Bucket: b, Key: 'k' }))).toMatchObject(want)
    })

    it('GetBucketAcl XML: AccessControlPolicy, Owner/ID, Grant/Grantee with xsi:type, Permission', async () => {
      const res = await signedSend(
        srv.port,
        { method: 'GET', path: `/${b}`, query: { acl: '' } },
        { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey },
      )
      expect(res.status).toBe(200)
      expect(res.text).toContain('<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">')
      expect(res.text).toContain(
        '<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">',
      )
      const doc = parseXml(res.text).AccessControlPolicy
      expect(doc.Owner.ID).toBe(canonicalId(ACCT_A))
      expect(doc.AccessControlList.Grant).toMatchObject({
        Grantee: { ID: canonicalId(ACCT_A) },
        Permission: 'FULL_CONTROL',
      })
    })

    it('CreateBucket with a public ACL and no ownership header answers InvalidBucketAclWithObjectOwnership', async () => {
      await expectSdkError(alice.send(new CreateBucketCommand({ Bucket: 'acl-refused', ACL: 'public-read' })), {
        status: 400,
        code: 'InvalidBucketAclWithObjectOwnership',
      })
      await expectSdkError(alice.send(new GetBucketAclCommand({ Bucket: 'acl-refused' })), {
        status: 404,
        code: 'NoSuchBucket',
      })
    })

    it('BlockPublicPolicy refuses a public policy with 403; a policy naming an account is accepted', async () => {
      const pub = {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` }],
      }
      await expectSdkError(alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(pub) })), DENIED)
      const named = { ...pub, Statement: [{ ...pub.Statement[0], Principal: { AWS: `arn:aws:iam::${ACCT_B}:root` } }] }
      await alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(named) }))
      expect((await bob.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))).$metadata.httpStatusCode).toBe(200)
    })
  })

  describe('ACLs under ObjectWriter', () => {
    it('a public-read object is readable by an unsigned GET; a private one is not; PutObjectAcl private revokes it', async () => {
      const b = await aclBucket()
      await alice.send(new PutObjectCommand({ Bucket: b, Key: 'pub', Body: 'public bytes', ACL: 'public-read' }))
      await alice.send(new PutObjectCommand({ Bucket: b, Key: 'priv', Body: 'private bytes' }))
      const got = await anonGet(b, 'pub')
      expect([got.status, got.text]).toEqual([200, 'public bytes'])
      expect(codeOf(await anonGet(b, 'priv'))).toEqual([403, 'AccessDenied'])
      expect(codeOf(await send(srv.port, { method: 'GET', path: `/${b}` }))).toEqual([403, 'AccessDenied'])
      const acl = await alice.send(new GetObjectAclCommand({ Bucket: b, Key: 'pub' }))
      expect(acl.Grants).toContainEqual({ Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' })
      await alice.send(new PutObjectAclCommand({ Bucket: b, Key: 'pub', ACL: 'private' }))
      expect(codeOf(await anonGet(b, 'pub'))).toEqual([403, 'AccessDenied'])
      // The ACL change kept the object as it was.
      expect(await text(await alice.send(new GetObjectCommand({ Bucket: b, Key: 'pub' })))).toBe('public bytes')
    })

    it('a multipart upload started with public-read completes into a public object; CopyObject takes the request ACL, not the source one', async () => {
      const b = await aclBucket()
      const up = await alice.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ACL: 'public-read' }))
      const part = await alice.send(
        new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: 'one part' }),
      )
      await alice.send(
        new CompleteMultipartUploadCommand({
          Bucket: b,
          Key: 'mp',
          UploadId: up.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      )
      const got = await anonGet(b, 'mp')
      expect([got.status, got.text]).toEqual([200, 'one part'])
      await alice.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/mp` }))
      expect(codeOf(await anonGet(b, 'copy'))).toEqual([403, 'AccessDenied'])
    })

    it('a public-read bucket ACL lets anyone list the bucket, not read its private objects', async () => {
      const b = await aclBucket()
      await alice.send(new PutObjectCommand({ Bucket: b, Key: 'priv', Body: 'x' }))
      await alice.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' }))
      const list = await send(srv.port, { method: 'GET', path: `/${b}`, query: { 'list-type': '2' } })
      expect(list.status).toBe(200)
      expect(list.text).toContain('<Key>priv</Key>')
      expect(codeOf(await anonGet(b, 'priv'))).toEqual([403, 'AccessDenied'])
    })

    it('grant headers to a second account: READ on one object, WRITE on the bucket; the writer owns what it writes', async () => {
      const b = await aclBucket()
      const bobId = canonicalId(ACCT_B)
      await alice.send(new PutObjectCommand({ Bucket: b, Key: 'shared', Body: 'for bob', GrantRead: `id="${bobId}"` }))
      await alice.send(new PutObjectCommand({ Bucket: b, Key: 'mine', Body: 'alice only' }))
      expect(await text(await bob.send(new GetObjectCommand({ Bucket: b, Key: 'shared' })))).toBe('for bob')
      await expectSdkError(bob.send(new GetObjectCommand({ Bucket: b, Key: 'mine' })), DENIED)
      // The object's READ grant also lets bob copy it into a bucket of his own; the other object stays closed.
      const bobs = `bob-${b}`
      await bob.send(new CreateBucketCommand({ Bucket: bobs }))
      await bob.send(new CopyObjectCommand({ Bucket: bobs, Key: 'copy', CopySource: `${b}/shared` }))
      expect(await text(await bob.send(new GetObjectCommand({ Bucket: bobs, Key: 'copy' })))).toBe('for bob')
      await expectSdkError(
        bob.send(new CopyObjectCommand({ Bucket: bobs, Key: 'copy2', CopySource: `${b}/mine` })),
        DENIED,
      )
      await expectSdkError(bob.send(new PutObjectCommand({ Bucket: b, Key: 'drop', Body: 'x' })), DENIED)
      await expectSdkError(bob.send(new ListObjectsV2Command({ Bucket: b })), DENIED)

      await alice.send(
        new PutBucketAclCommand({
          Bucket: b,
          AccessControlPolicy: {
            Owner: { ID: canonicalId(ACCT_A) },
            Grants: [
              { Grantee: { Type: 'CanonicalUser', ID: canonicalId(ACCT_A) }, Permission: 'FULL_CONTROL' },
              { Grantee: { Type: 'CanonicalUser', ID: bobId }, Permission: 'WRITE' },
            ],
          },
        }),
      )
      const bucketAcl = await alice.send(new GetBucketAclCommand({ Bucket: b }))
      expect(bucketAcl.Grants).toContainEqual({ Grantee: { Type: 'CanonicalUser', ID: bobId }, Permission: 'WRITE' })
      await bob.send(new PutObjectCommand({ Bucket: b, Key: 'drop', Body: 'from bob' }))
      const dropAcl = await bob.send(new GetObjectAclCommand({ Bucket: b, Key: 'drop' }))
      expect(dropAcl.Owner?.ID).toBe(bobId)
      expect(await text(await bob.send(new GetObjectCommand({ Bucket: b, Key: 'drop' })))).toBe('from bob')
      await expectSdkError(bob.send(new GetBucketAclCommand({ Bucket: b })), DENIED)
    })

    it('s3:x-amz-acl in a policy: another account may write only with bucket-owner-full-control, and then the bucket owner owns it', async () => {
      const b = `acl-${++n}`
      await alice.send(new CreateBucketCommand({ Bucket: b, ObjectOwnership: 'BucketOwnerPreferred' }))
      const policy = {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: ACCT_B },
            Action: 's3:PutObject',
            Resource: `arn:aws:s3:::${b}/*`,
            Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
          },
        ],
      }
      await alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(policy) }))
      await expectSdkError(bob.send(new PutObjectCommand({ Bucket: b, Key: 'up', Body: 'x' })), DENIED)
      await bob.send(new PutObjectCommand({ Bucket: b, Key: 'up', Body: 'x', ACL: 'bucket-owner-full-control' }))
      expect((await alice.send(new GetObjectAclCommand({ Bucket: b, Key: 'up' }))).Owner?.ID).toBe(canonicalId(ACCT_A))
    })

    it('an explicit Deny in the bucket policy wins over an ACL grant', async () => {
      const b = await aclBucket()
      await alice.send(
        new PutObjectCommand({ Bucket: b, Key: 'shared', Body: 'x', GrantRead: `id=${canonicalId(ACCT_B)}` }),
      )
      await bob.send(new GetObjectCommand({ Bucket: b, Key: 'shared' }))
      const deny = {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Deny', Principal: { AWS: ACCT_B }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` },
        ],
      }
      await alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(deny) }))
      await expectSdkError(bob.send(new GetObjectCommand({ Bucket: b, Key: 'shared' })), DENIED)
    })

    it('BlockPublicAcls refuses public ACLs with 403; IgnorePublicAcls makes existing ones count for nothing', async () => {
      const blocked = await aclBucket({ keepBlock: true })
      await expectSdkError(
        alice.send(new PutObjectCommand({ Bucket: blocked, Key: 'p', Body: 'x', ACL: 'public-read' })),
        DENIED,
      )
      await expectSdkError(alice.send(new PutBucketAclCommand({ Bucket: blocked, ACL: 'public-read' })), DENIED)
      await alice.send(new PutObjectCommand({ Bucket: blocked, Key: 'p', Body: 'x', ACL: 'private' }))

      const b = await aclBucket()
      await alice.send(new PutObjectCommand({ Bucket: b, Key: 'pub', Body: 'x', ACL: 'public-read' }))
      expect((await anonGet(b, 'pub')).status).toBe(200)
      await alice.send(
        new PutPublicAccessBlockCommand({
          Bucket: b,
          PublicAccessBlockConfiguration: { ...ALL_OFF, IgnorePublicAcls: true },
        }),
      )
      expect(codeOf(await anonGet(b, 'pub'))).toEqual([403, 'AccessDenied'])
      await alice.send(new DeletePublicAccessBlockCommand({ Bucket: b }))
      expect((await anonGet(b, 'pub')).status).toBe(200)
      await expectSdkError(alice.send(new GetPublicAccessBlockCommand({ Bucket: b })), {
        status: 404,
        code: 'NoSuchPublicAccessBlockConfiguration',
      })
    })

    it('switching to BucketOwnerEnforced while the bucket ACL grants another account answers InvalidBucketAclWithObjectOwnership', async () => {
      const b = await aclBucket()
      await alice.send(new PutBucketAclCommand({ Bucket: b, GrantRead: `id=${canonicalId(ACCT_B)}` }))
      const enforce = new PutBucketOwnershipControlsCommand({
        Bucket: b,
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      })
      await expectSdkError(alice.send(enforce), { status: 400, code: 'InvalidBucketAclWithObjectOwnership' })
      await alice.send(new PutBucketAclCommand({ Bucket: b, ACL: 'private' }))
      await alice.send(enforce)
      await expectSdkError(alice.send(new PutBucketAclCommand({ Bucket: b, ACL: 'private' })), NOT_SUPPORTED)
      await alice.send(new DeleteBucketOwnershipControlsCommand({ Bucket: b }))
      await expectSdkError(alice.send(new GetBucketOwnershipControlsCommand({ Bucket: b })), {
        status: 404,
        code: 'OwnershipControlsNotFoundError',
      })
    })
  })

  describe('bucket policies and Block Public Access', () => {
    const publicRead = (b: string) => ({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` }],
    })

    it('RestrictPublicBuckets: a public policy serves only the owner account while it is on', async () => {
      const b = await aclBucket()
      await alice.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }))
      await alice.send(
        new PutPublicAccessBlockCommand({
          Bucket: b,
          PublicAccessBlockConfiguration: { ...ALL_OFF, RestrictPublicBuckets: true },
        }),
      )
      await alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(publicRead(b)) }))
      expect(codeOf(await anonGet(b, 'k'))).toEqual([403, 'AccessDenied'])
      await expectSdkError(bob.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), DENIED)
      await alice.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))
      await alice.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: ALL_OFF }))
      expect((await anonGet(b, 'k')).status).toBe(200)
      await bob.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))
    })

    it('GetBucketPolicyStatus is computed from what the policy grants', async () => {
      const b = await aclBucket()
      const st = (extra: object) => ({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, ...extra },
        ],
      })
      const rows: Array<[object, boolean]> = [
        [st({}), true],
        [st({ Principal: undefined, NotPrincipal: { AWS: ACCT_B } }), true],
        [st({ Condition: { StringEquals: { 'aws:SourceAccount': ACCT_B } } }), false],
        [st({ Condition: { StringNotEquals: { 'aws:SourceAccount': ACCT_B } } }), true],
        [st({ Condition: { IpAddress: { 'aws:SourceIp': '192.0.2.0/24' } } }), false],
        [st({ Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } } }), true],
        [st({ Principal: { AWS: ACCT_B } }), false],
      ]
      for (const [policy, want] of rows) {
        await alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(policy) }))
        const got = await alice.send(new GetBucketPolicyStatusCommand({ Bucket: b }))
        expect(got.PolicyStatus?.IsPublic, JSON.stringify(policy)).toBe(want)
      }
    })

    it('a wildcard inside a principal ARN answers 400 MalformedPolicy "Invalid principal in policy"', async () => {
      const b = await aclBucket()
      const policy = {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::*:root' },
            Action: 's3:GetObject',
            Resource: `arn:aws:s3:::${b}/*`,
          },
        ],
      }
      await expectSdkError(alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(policy) })), {
        status: 400,
        code: 'MalformedPolicy',
        message: 'Invalid principal in policy',
      })
      await expectSdkError(bob.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), DENIED)
    })
  })
})
