/**
 * Unit: PutBucketPolicy validation (docs/s3-sse-rules.md §5.6, POL-06): AWS's MalformedPolicy messages, and
 * hostile documents (huge, deeply nested, wrong types) refused as PolicyError, never a crash.
 */
import { describe, expect, it } from 'vitest'
import { MSG, PolicyError, parsePolicy } from '../../../server/s3/policy/parse.js'
import { denyInsecureTransport, denySseC, denyUnencrypted, publicRead, requireKmsKey } from '../../support/policies.js'

const B = 'bkt'
const base = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${B}/*` }
const doc = (st: object) => JSON.stringify({ Version: '2012-10-17', Statement: [st] })

function refusal(text: string): string {
  try {
    parsePolicy(text, B)
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError)
    return (err as Error).message
  }
  throw new Error('accepted')
}

describe('policy validation', () => {
  it('accepts the four published example policies and a public-read grant', () => {
    for (const p of [denyUnencrypted(B), requireKmsKey(B), denySseC(B), denyInsecureTransport(B), publicRead(B)]) {
      expect(parsePolicy(JSON.stringify(p), B).statements.length).toBeGreaterThan(0)
    }
  })

  it('POL-06 invalid JSON: "Policies must be valid JSON and the first byte must be \'{\'"', () => {
    expect(refusal('invalid json')).toBe("Policies must be valid JSON and the first byte must be '{'")
    expect(refusal(' {"Statement":[]}')).toBe(MSG.json)
    expect(refusal('{"Statement":')).toBe(MSG.json)
    expect(refusal('')).toBe(MSG.json)
  })

  it('missing Statement, Effect, Principal, Action, Resource', () => {
    expect(refusal('{"Version":"2012-10-17"}')).toBe('Missing required field Statement')
    expect(refusal('{"Statement":[]}')).toBe('Missing required field Statement')
    expect(refusal(doc({ ...base, Effect: undefined }))).toBe('Missing required field Effect')
    expect(refusal(doc({ ...base, Principal: undefined }))).toBe('Missing required field Principal')
    expect(refusal(doc({ ...base, Action: undefined }))).toBe('Missing required field Action')
    expect(refusal(doc({ ...base, Resource: undefined }))).toBe('Missing required field Resource')
  })

  it('invalid Effect', () => expect(refusal(doc({ ...base, Effect: 'Maybe' }))).toBe('Invalid effect: Maybe'))

  it('unknown and other services\' actions: "Policy has invalid action"', () => {
    for (const a of ['s3:GetObjekt', 'iam:PassRole', 's3:Nothing*', 'GetObject', '', 42, []]) {
      expect(refusal(doc({ ...base, Action: a }))).toBe(MSG.action)
    }
  })

  it('resources outside the bucket: "Policy has invalid resource"', () => {
    for (const r of ['arn:aws:s3:::other/*', 'arn:aws:s3:::other', '*', 'arn:aws:iam::111122223333:root', 'bkt/*']) {
      expect(refusal(doc({ ...base, Resource: r }))).toBe(MSG.resource)
    }
    expect(
      parsePolicy(doc({ ...base, Resource: ['arn:aws:s3:::bk*/x', 'arn:aws:s3:::bkt'] }), B).statements,
    ).toHaveLength(1)
  })

  it('invalid principals: "Invalid principal in policy"', () => {
    for (const p of ['alice', { AWS: 'alice' }, { AWS: '12345' }, { Nobody: '*' }, {}, [], { AWS: [] }, { AWS: 7 }]) {
      expect(refusal(doc({ ...base, Principal: p }))).toBe(MSG.principal)
    }
  })

  it('unknown condition operators: "Invalid Condition type : X"', () => {
    expect(refusal(doc({ ...base, Condition: { StringSortOf: { 's3:prefix': 'a' } } }))).toBe(
      'Invalid Condition type : StringSortOf',
    )
    expect(refusal(doc({ ...base, Condition: { 'ForSomeValues:StringEquals': { 's3:prefix': 'a' } } }))).toBe(
      'Invalid Condition type : ForSomeValues:StringEquals',
    )
    expect(refusal(doc({ ...base, Condition: { NullIfExists: { 's3:prefix': 'true' } } }))).toBe(
      'Invalid Condition type : NullIfExists',
    )
  })

  it('unknown fields are refused', () => {
    expect(refusal(JSON.stringify({ Statement: [base], Extra: 1 }))).toBe('Unknown field Extra')
    expect(refusal(doc({ ...base, Whatever: 1 }))).toBe('Unknown field Whatever')
  })

  it('hostile: a document over 20 KB', () => {
    const big = doc({ ...base, Sid: 'x'.repeat(21 * 1024) })
    expect(refusal(big)).toBe('Policy exceeds the maximum allowed document size.')
  })

  it('hostile: deeply nested values and wrong types never crash', () => {
    let nested: unknown = 'x'
    for (let i = 0; i < 2000; i++) nested = [nested]
    const deep = JSON.stringify({ Statement: [{ ...base, Condition: { StringEquals: { 's3:prefix': nested } } }] })
    // Over 20 KB is refused by size before parsing; a shallower one by type.
    expect(() => parsePolicy(deep, B)).toThrow(PolicyError)
    expect(refusal(doc({ ...base, Condition: { StringEquals: { 's3:prefix': [['a']] } } }))).toBe(MSG.conditionValue)
    const hostile = [
      '[]',
      '{"Statement":null}',
      '{"Statement":"x"}',
      '{"Statement":[null]}',
      '{"Statement":[1]}',
      '{"Statement":{}}',
      'null',
      '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*","Condition":[]}]}',
      '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*","Condition":{"StringEquals":"x"}}]}',
      '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*","Condition":{"StringEquals":{"s3:prefix":{}}}}]}',
      '{"__proto__":{"Statement":1}}',
      '{"Version":"2099-01-01","Statement":[]}',
    ]
    for (const h of hostile) expect(() => parsePolicy(h, B), h).toThrow(PolicyError)
  })

  it('hostile: wildcard patterns that would backtrack exponentially finish quickly', async () => {
    const { wildcardMatch } = await import('../../../server/s3/policy/match.js')
    const started = performance.now()
    expect(wildcardMatch('*a'.repeat(200) + 'b', 'a'.repeat(5000))).toBe(false)
    expect(performance.now() - started).toBeLessThan(2000)
  })
})
