/**
 * @module POST Object (browser form uploads, AWS S3 API reference "PostObject"): the form is read
 * as a stream, its signature and policy checked, and its file fed into PutObject's write path with
 * the form fields as the request headers — so encryption, checksums, bucket policies (s3:PutObject
 * and its condition keys), default encryption, blocked encryption types and versioning apply as
 * for PutObject.
 */
import { refuseKmsOverSigV2 } from '../auth/sigv2.js'
import { authenticateForm } from '../auth/post-form.js'
import { sessionsOf } from '../../iam/sessions.js'
import { s3Principal } from '../../iam/request.js'
import type { S3Request, S3Result, Services } from '../context.js'
import { S3Error } from '../errors.js'
import { formBoundary, readPostForm } from '../form-data.js'
import { checkPolicy, parsePolicy, type LengthRange } from '../post-policy.js'
import { refuseUnimplementedHeaders } from '../unsupported-headers.js'
import { canBeBucketName } from '../route.js'
import { xmlDocument } from '../xml.js'
import { AMZ_TAGGING } from '../headers.js'
import { parseTaggingXml, taggingHeaderValue } from '../tags.js'
import { MAX_PUT_SIZE, putObject } from './object-put.js'

/** Form fields that are not object headers (authentication, policy, response control). */
const NOT_HEADERS = new Set([
  'key',
  'policy',
  'file',
  'awsaccesskeyid',
  'signature',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-algorithm',
  'x-amz-date',
  'x-amz-security-token',
  'success_action_status',
  'success_action_redirect',
  'redirect',
  'acl',
  'tagging',
  'bucket',
])
/** The standard headers a form may set on the object. */
const OBJECT_HEADERS = new Set([
  'content-type',
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'expires',
  'content-md5',
])

/**
 * The form's fields as PutObject request headers (x-amz-*, Content-Type, Cache-Control, …). The
 * file part's own Content-Type is not used: as on AWS, only the Content-Type field sets it.
 */
function headersOf(fields: ReadonlyMap<string, string>): Record<string, string> {
  const h: Record<string, string> = {}
  for (const [name, value] of fields) {
    if (NOT_HEADERS.has(name) || name.startsWith('x-ignore-')) continue
    if (OBJECT_HEADERS.has(name) || name.startsWith('x-amz-')) h[name] = value
  }
  const acl = fields.get('acl')
  if (acl !== undefined) h['x-amz-acl'] = acl
  return h
}

/**
 * The file's bytes, refused while streaming past the policy's (or PutObject's) maximum and at the end below its
 * minimum.
 */
async function* limited(stream: AsyncIterable<Buffer>, range: LengthRange | undefined): AsyncGenerator<Buffer> {
  const max = Math.min(range?.max ?? MAX_PUT_SIZE, MAX_PUT_SIZE)
  let size = 0
  for await (const chunk of stream) {
    size += chunk.length
    if (size > max)
      throw new S3Error('EntityTooLarge', {
        fields: [
          ['ProposedSize', size],
          ['MaxSizeAllowed', max],
        ],
      })
    yield chunk
  }
  if (range && size < range.min)
    throw new S3Error('EntityTooSmall', {
      fields: [
        ['ProposedSize', size],
        ['MinSizeAllowed', range.min],
      ],
    })
}

function successStatus(fields: ReadonlyMap<string, string>): 200 | 201 | 204 {
  const v = fields.get('success_action_status')
  return v === '200' ? 200 : v === '201' ? 201 : 204
}

/** `https://host/bucket/key` as AWS's PostResponse Location (path-style here), each segment encoded. */
function locationOf(req: S3Request, bucket: string, key: string): string {
  const scheme = (req.incoming.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'
  return `${scheme}://${req.host}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`
}

export async function postObject(svc: Services, req: S3Request, bucketName: string): Promise<S3Result> {
  const form = await readPostForm(req.incoming, formBoundary(req.headers['content-type']))
  const fields = new Map<string, string>()
  for (const [name, value] of form.fields) if (!fields.has(name.toLowerCase())) fields.set(name.toLowerCase(), value)
  const rawKey = fields.get('key')
  if (rawKey === undefined || rawKey === '') {
    throw new S3Error('InvalidArgument', {
      message:
        "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
      fields: [
        ['ArgumentName', 'key'],
        ['ArgumentValue', ''],
      ],
    })
  }
  // A form signed in the request headers or query is no browser form: its own fields sign it.
  if (req.auth)
    throw new S3Error('InvalidArgument', {
      message: 'POST Object is authenticated by its form fields, not the Authorization header or query.',
      fields: [['ArgumentName', 'Authorization']],
    })
  const rec = canBeBucketName(bucketName) ? await svc.meta.getBucket(bucketName) : undefined
  const now = new Date()
  const lookup = (akid: string) => svc.config.credentials.find((c) => c.accessKeyId === akid)
  const auth = authenticateForm(
    fields,
    {
      lookup,
      sessions: sessionsOf(svc.config),
      region: rec?.region ?? svc.config.region,
      maxSkewSeconds: svc.config.maxClockSkewSeconds,
      sigv4Only: svc.config.sigv4Only,
    },
    now,
  )
  const policyText = fields.get('policy')
  const range = policyText !== undefined ? checkPolicy(parsePolicy(policyText), fields, bucketName, now) : undefined
  const key = rawKey.split('${filename}').join(form.file.filename)
  const headers = headersOf(fields)
  // The `tagging` field is a Tagging document; PutObject takes the same tags as its x-amz-tagging header.
  const tagging = fields.get('tagging')
  if (tagging !== undefined) headers[AMZ_TAGGING] = taggingHeaderValue(parseTaggingXml(tagging, 'object'))
  refuseKmsOverSigV2(auth, headers)
  refuseUnimplementedHeaders('PutObject', headers)
  const put: S3Request = {
    ...req,
    op: { kind: 'PutObject', bucket: bucketName, key },
    headers,
    auth,
    principal: auth ? s3Principal(auth, req.incoming, svc.config.region) : req.principal,
    bodySource: limited(form.file.stream, range),
  }
  const written = await putObject(svc, put, bucketName, key)
  await form.finish()
  const etag = written.headers?.ETag ?? ''
  const redirect = fields.get('success_action_redirect') ?? fields.get('redirect')
  if (redirect !== undefined && /^https?:\/\//i.test(redirect)) {
    const url = new URL(redirect)
    url.searchParams.set('bucket', bucketName)
    url.searchParams.set('key', key)
    url.searchParams.set('etag', etag)
    return { status: 303, headers: { ...written.headers, Location: url.toString() } }
  }
  const status = successStatus(fields)
  const location = locationOf(req, bucketName, key)
  if (status === 201) {
    const xml = xmlDocument(
      'PostResponse',
      { Location: location, Bucket: bucketName, Key: key, ETag: etag },
      { namespace: false },
    )
    return { status, headers: { ...written.headers, Location: location }, xml }
  }
  return { status, headers: { ...written.headers, Location: location } }
}
