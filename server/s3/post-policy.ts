/**
 * @module The POST Object policy (AWS S3 API reference, "Creating a POST policy"): a base64 JSON
 * document with `expiration` and `conditions` (exact matches, `eq`, `starts-with`,
 * `content-length-range`). Every form field but the signature, file, policy and `x-ignore-*` ones
 * must be named by a condition.
 */
import { S3Error } from './errors.js'

type Condition =
  | { op: 'eq' | 'starts-with'; field: string; value: string; text: string }
  | { op: 'content-length-range'; min: number; max: number }

export interface PostPolicy {
  expiration: Date
  conditions: Condition[]
}

/** The file's size limits a policy sets (content-length-range). */
export interface LengthRange {
  min: number
  max: number
}

const invalid = (message: string) => new S3Error('InvalidPolicyDocument', { message: `Invalid Policy: ${message}` })
const denied = (message: string) => new S3Error('AccessDenied', { message: `Invalid according to Policy: ${message}` })

/** Fields no condition needs to name. */
function exempt(name: string): boolean {
  return (
    ['x-amz-signature', 'signature', 'awsaccesskeyid', 'file', 'policy'].includes(name) || name.startsWith('x-ignore-')
  )
}

function fieldOf(ref: unknown, raw: unknown[]): string {
  if (typeof ref !== 'string' || !ref.startsWith('$')) throw invalid(`Invalid Condition: ${JSON.stringify(raw)}`)
  return ref.slice(1).toLowerCase()
}

function parseCondition(c: unknown): Condition[] {
  if (c !== null && typeof c === 'object' && !Array.isArray(c)) {
    const entries = Object.entries(c as Record<string, unknown>)
    if (entries.length !== 1 || typeof entries[0][1] !== 'string')
      throw invalid(`Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.`)
    const [name, value] = entries[0] as [string, string]
    return [{ op: 'eq', field: name.toLowerCase(), value, text: `["eq", "$${name}", ${JSON.stringify(value)}]` }]
  }
  if (!Array.isArray(c) || c.length !== 3) throw invalid(`Invalid Condition: ${JSON.stringify(c)}`)
  const op = typeof c[0] === 'string' ? c[0].toLowerCase() : ''
  if (op === 'content-length-range') {
    const [min, max] = [Number(c[1]), Number(c[2])]
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 0 || max < min)
      throw invalid(`Invalid content-length-range: ${JSON.stringify(c)}`)
    return [{ op, min, max }]
  }
  if (op !== 'eq' && op !== 'starts-with') throw invalid(`Invalid Condition: unknown operation ${JSON.stringify(c[0])}`)
  if (typeof c[2] !== 'string') throw invalid(`Invalid Condition: ${JSON.stringify(c)}`)
  return [
    {
      op,
      field: fieldOf(c[1], c),
      value: c[2],
      text: `[${JSON.stringify(c[0])}, ${JSON.stringify(c[1])}, ${JSON.stringify(c[2])}]`,
    },
  ]
}

/** Decodes the `policy` field; 400 InvalidPolicyDocument for anything that is not a policy. */
export function parsePolicy(base64: string): PostPolicy {
  if (!/^[A-Za-z0-9+/=\s]*$/.test(base64)) throw invalid('Invalid base64 encoding.')
  let doc: unknown
  try {
    doc = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'))
  } catch {
    throw invalid('Invalid JSON.')
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw invalid('Invalid JSON.')
  const { expiration, conditions } = doc as { expiration?: unknown; conditions?: unknown }
  if (expiration === undefined) throw invalid('Policy missing expiration.')
  const t = typeof expiration === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(expiration) ? Date.parse(expiration) : NaN
  if (Number.isNaN(t)) throw invalid(`Invalid 'expiration' value: '${String(expiration)}'`)
  if (conditions === undefined) throw invalid('Policy missing conditions.')
  if (!Array.isArray(conditions)) throw invalid('Invalid conditions: must be an array.')
  return { expiration: new Date(t), conditions: conditions.flatMap(parseCondition) }
}

/**
 * Checks the form against the policy: not expired, every condition met (the `bucket` condition
 * against the bucket addressed), no field without a condition. Returns the file's size range.
 */
export function checkPolicy(
  policy: PostPolicy,
  fields: ReadonlyMap<string, string>,
  bucket: string,
  now: Date,
): LengthRange | undefined {
  if (now.getTime() >= policy.expiration.getTime()) throw denied('Policy expired.')
  let range: LengthRange | undefined
  const named = new Set<string>()
  for (const c of policy.conditions) {
    if (c.op === 'content-length-range') {
      range = { min: c.min, max: c.max }
      continue
    }
    named.add(c.field)
    const actual = c.field === 'bucket' ? bucket : fields.get(c.field)
    const ok = actual !== undefined && (c.op === 'eq' ? actual === c.value : actual.startsWith(c.value))
    if (!ok) throw denied(`Policy Condition failed: ${c.text}`)
  }
  const extra = [...fields.keys()].filter((name) => !exempt(name) && !named.has(name))
  if (extra.length > 0) throw denied(`Extra input fields: ${extra.join(', ')}`)
  return range
}
