/** @module The plain values authentication works on: the request as received, its dependencies, its result. */
import type { IamIdentity } from '../../iam/identity.js'

/** A request as the HTTP edge received it, already parsed but not canonicalized. */
export interface AuthRequest {
  method: string
  /** The DECODED path as received, e.g. `/bucket/a b+c`; the canonical URI re-encodes it once. */
  path: string
  /** Decoded name/value pairs in received order; valueless parameters have value `""`. */
  query: Array<[string, string]>
  /** Lowercase names; repeated headers joined with `,`. */
  headers: Record<string, string>
  now: Date
  /** The path as sent, still percent-encoded (SigV2 signs it so); default: `path` encoded once. */
  rawPath?: string
  /** The bucket a virtual-hosted Host names (SigV2 signs `/<bucket>` before the path). */
  vhostBucket?: string
}

/** A credential as the store knows it. The secret never leaves the auth code. */
export interface Credential {
  secretAccessKey: string
  accountId: string
  principalArn: string
  /** IAM users and sessions: who the key acts as, with its policies. */
  identity?: IamIdentity
}

/** Temporary credentials (STS): the token must come with the key, and they expire. */
export interface SessionCredential extends Credential {
  sessionToken: string
  /** Epoch ms. */
  expiresAt: number
}

export interface AuthDeps {
  lookup(accessKeyId: string): Credential | undefined
  /** Temporary credentials by access key id (absent: every session token is refused). */
  sessions?: { find(accessKeyId: string): SessionCredential | undefined }
  /** The region the request must be signed for (the bucket's, or the endpoint's). */
  region: string
  maxSkewSeconds: number
  /** Refuse Signature V2 with AWS's 400 InvalidRequest, as regions that accept only SigV4 do. */
  sigv4Only?: boolean
  /** Signing service name; default `s3`. */
  service?: 's3' | 'kms' | 'sts'
}

/** How the body is framed and what protects it (docs/s3-sse-rules.md §2.5). */
export type PayloadMode =
  | { kind: 'sha256'; hex: string }
  | { kind: 'unsigned' }
  | { kind: 'streaming-signed'; trailer: boolean }
  | { kind: 'streaming-unsigned-trailer' }

/** A verified request: who signed it and what the body verifier needs to continue. */
export interface AuthContext {
  accessKeyId: string
  accountId: string
  principalArn: string
  /** Who the key acts as, when the credential says (IAM users, sessions). */
  identity?: IamIdentity
  /** The request was signed with temporary credentials. */
  sessionToken?: boolean
  mode: 'header' | 'presigned'
  /** 2 for Signature V2 (then amzDate, scope, signingKey and signedHeaders are empty); absent for SigV4. */
  signatureVersion?: 2
  payload: PayloadMode
  /** The request time as signed (`YYYYMMDDTHHMMSSZ`). */
  amzDate: string
  /** `<date>/<region>/<service>/aws4_request`. */
  scope: string
  /** The derived signing key (secret-equivalent for one day/region/service: never log it). */
  signingKey: Buffer
  /** The request signature: the "previous signature" of the first aws-chunked chunk. */
  seedSignature: string
  signedHeaders: string[]
}
