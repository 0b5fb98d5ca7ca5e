/**
 * @module Key identifiers of the embedded KMS (docs/s3-sse-rules.md §6.2): key ids, key ARNs, alias names and
 * alias ARNs, parsed into one reference type.
 */

/** A parsed key reference; `arn` is set when it came as an ARN (region/account checks apply). */
export type KeyRef =
  | { kind: 'key'; id: string; arn?: { region: string; account: string; text: string } }
  | { kind: 'alias'; name: string; arn?: { region: string; account: string; text: string } }

const KEY_ID_RE = /^(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i
const ALIAS_NAME_RE = /^alias\/[a-zA-Z0-9:/_-]+$/
const ARN_RE = /^arn:aws[a-z-]*:kms:([^:]*):([^:]*):(key|alias)\/(.+)$/

/** Alias names: 1–256 characters of `[a-zA-Z0-9:/_-]` (docs/s3-sse-rules.md §6.2). */
export const ALIAS_NAME_PATTERN = '^[a-zA-Z0-9:/_-]+$'
export const MAX_ALIAS_NAME = 256

export function isAliasName(name: string): boolean {
  return name.length <= MAX_ALIAS_NAME && ALIAS_NAME_RE.test(name)
}

/** Parses a key id, key ARN, alias name or alias ARN; undefined if it is none of them (NotFound "Invalid keyId"). */
export function parseKeyRef(value: string): KeyRef | undefined {
  const arn = ARN_RE.exec(value)
  if (arn) {
    const [, region, account, type, rest] = arn
    const where = { region, account, text: value }
    if (type === 'key') return KEY_ID_RE.test(rest) ? { kind: 'key', id: rest.toLowerCase(), arn: where } : undefined
    const name = `alias/${rest}`
    return isAliasName(name) ? { kind: 'alias', name, arn: where } : undefined
  }
  if (KEY_ID_RE.test(value)) return { kind: 'key', id: value.toLowerCase() }
  if (isAliasName(value)) return { kind: 'alias', name: value }
  return undefined
}

export function keyArn(region: string, account: string, id: string): string {
  return `arn:aws:kms:${region}:${account}:key/${id}`
}

export function aliasArn(region: string, account: string, name: string): string {
  return `arn:aws:kms:${region}:${account}:${name}`
}
