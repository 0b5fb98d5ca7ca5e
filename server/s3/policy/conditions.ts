/**
 * @module Condition operators (IAM "Condition operators" reference) over a request context.
 *
 * A request context maps condition keys to their values; a key that is absent from the map is
 * absent from the request. Missing-key rules, as AWS documents them:
 * - a positive operator (StringEquals, StringLike, NumericLessThan, Bool, IpAddress, …) on a
 *   missing key is false;
 * - a negated operator (StringNotEquals, StringNotLike, NumericNotEquals, NotIpAddress,
 *   ArnNotEquals, ArnNotLike, DateNotEquals, StringNotEqualsIgnoreCase) on a missing key is true;
 * - `…IfExists` on a missing key is true (the check applies only if the key is present);
 * - `Null: true` is true exactly when the key is missing, `Null: false` when it is present;
 * - `ForAllValues:` on a missing (or empty) key is true; `ForAnyValue:` on one is false.
 * Keys this store does not know are simply never present, so the rules above apply to them
 * (AWS does the same for keys absent from a request's context).
 * Several values for one key are ORed (for negated operators: true if no value matches); several
 * keys in one operator block and several operator blocks are ANDed.
 */
import { BlockList, isIP } from 'node:net'
import type { Condition } from './parse.js'
import { wildcardMatch } from './match.js'

/** Lowercase condition key -> values (single-valued keys have one value); keys compare case-insensitively. */
export type RequestContext = Readonly<Record<string, readonly string[]>>

type Compare = (policyValue: string, requestValue: string) => boolean

const num = (s: string): number => (/^-?\d+(\.\d+)?$/.test(s.trim()) ? Number(s) : NaN)
const date = (s: string): number => (/^\d+$/.test(s) ? Number(s) * 1000 : Date.parse(s))

function ipMatches(cidr: string, ip: string): boolean {
  const bare = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip
  const family = isIP(bare)
  if (!family) return false
  const [net, bitsRaw] = cidr.split('/')
  const netFamily = isIP(net)
  if (!netFamily || netFamily !== family) return false
  const bits = bitsRaw === undefined ? (family === 4 ? 32 : 128) : Number(bitsRaw)
  if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) return false
  const list = new BlockList()
  try {
    list.addSubnet(net, bits, family === 4 ? 'ipv4' : 'ipv6')
  } catch {
    return false
  }
  return list.check(bare, family === 4 ? 'ipv4' : 'ipv6')
}

/** The positive form of each operator, and whether the named operator is its negation. */
const OPERATORS: Record<string, { compare: Compare; negated: boolean }> = {}
function define(name: string, compare: Compare, negatedName?: string): void {
  OPERATORS[name] = { compare, negated: false }
  if (negatedName) OPERATORS[negatedName] = { compare, negated: true }
}
define('StringEquals', (p, v) => p === v, 'StringNotEquals')
define('StringEqualsIgnoreCase', (p, v) => p.toLowerCase() === v.toLowerCase(), 'StringNotEqualsIgnoreCase')
define('StringLike', (p, v) => wildcardMatch(p, v), 'StringNotLike')
define('NumericEquals', (p, v) => num(v) === num(p), 'NumericNotEquals')
define('NumericLessThan', (p, v) => num(v) < num(p))
define('NumericLessThanEquals', (p, v) => num(v) <= num(p))
define('NumericGreaterThan', (p, v) => num(v) > num(p))
define('NumericGreaterThanEquals', (p, v) => num(v) >= num(p))
define('DateEquals', (p, v) => date(v) === date(p), 'DateNotEquals')
define('DateLessThan', (p, v) => date(v) < date(p))
define('DateLessThanEquals', (p, v) => date(v) <= date(p))
define('DateGreaterThan', (p, v) => date(v) > date(p))
define('DateGreaterThanEquals', (p, v) => date(v) >= date(p))
define('Bool', (p, v) => p.toLowerCase() === v.toLowerCase())
define('BinaryEquals', (p, v) => p === v)
define('IpAddress', ipMatches, 'NotIpAddress')
define('ArnEquals', (p, v) => wildcardMatch(p, v), 'ArnNotEquals')
define('ArnLike', (p, v) => wildcardMatch(p, v), 'ArnNotLike')

/** Every operator name a policy may use (before the IfExists suffix and set prefixes). */
export const CONDITION_OPERATORS: ReadonlySet<string> = new Set([...Object.keys(OPERATORS), 'Null'])

/** One request value against the policy's values: positive = any matches; negated = none does. */
function valueMatches(
  op: { compare: Compare; negated: boolean },
  policyValues: readonly string[],
  value: string,
): boolean {
  const any = policyValues.some((p) => op.compare(p, value))
  return op.negated ? !any : any
}

/**
 * Evaluates one condition (one operator, one key) against the request context. A key in
 * `inapplicable` is one the operation is not judged on (docs/s3-sse-rules.md §5.6: the SSE header keys on
 * UploadPart, UploadPartCopy and CompleteMultipartUpload): every condition on it is false, so a
 * statement using it does not apply at all — neither its negated forms nor Null match.
 */
export function conditionHolds(c: Condition, ctx: RequestContext, inapplicable?: ReadonlySet<string>): boolean {
  const name = c.key.toLowerCase()
  if (inapplicable?.has(name)) return false
  const present = ctx[name]
  if (c.op === 'Null') {
    const wantMissing = c.values.some((v) => v.toLowerCase() === 'true')
    return wantMissing === (present === undefined)
  }
  const op = OPERATORS[c.op]
  if (!op) return false // unreachable: parse.ts refuses unknown operators
  if (c.set === 'ForAllValues') {
    // Every request value must match; vacuously true when the key is missing or empty.
    return present === undefined || present.every((v) => valueMatches(op, c.values, v))
  }
  if (c.set === 'ForAnyValue') {
    if (present === undefined || present.length === 0) return c.ifExists
    return present.some((v) => valueMatches(op, c.values, v))
  }
  if (present === undefined || present.length === 0) return c.ifExists || op.negated
  return present.some((v) => valueMatches(op, c.values, v))
}
