import { describe, expect, it } from 'vitest'
import { actualRequestCorsHeaders, matchRule, requestedHeaders, wildcardMatches } from '../../../server/s3/cors.js'
import type { CorsRule } from '../../../storage/types.js'

const rule = (r: Partial<CorsRule>): CorsRule => ({
  allowedOrigins: ['*'],
  allowedMethods: ['GET'],
  allowedHeaders: [],
  exposeHeaders: [],
  ...r,
})

describe('CORS rule matching', () => {
  it('one * matches any run of characters, the empty one too; patterns are anchored at both ends', () => {
    expect(wildcardMatches('*suffix', 'foo.suffix')).toBe(true)
    expect(wildcardMatches('*suffix', 'foo.suffix.get')).toBe(false)
    expect(wildcardMatches('start*end', 'startend')).toBe(true)
    expect(wildcardMatches('start*end', 'start12end')).toBe(true)
    expect(wildcardMatches('start*end', '0start12end')).toBe(false)
    expect(wildcardMatches('prefix*', 'prefix')).toBe(true)
    expect(wildcardMatches('prefix*', 'bla.prefix')).toBe(false)
    // The pattern's two halves may not overlap in the value.
    expect(wildcardMatches('ab*ba', 'aba')).toBe(false)
    expect(wildcardMatches('http://*.example.com', 'http://a.example.com')).toBe(true)
    expect(wildcardMatches('http://*.example.com', 'https://a.example.com')).toBe(false)
  })

  it('origins match case-sensitively, header names without regard to case', () => {
    expect(wildcardMatches('https://App.example', 'https://app.example')).toBe(false)
    expect(wildcardMatches('X-Amz-*', 'x-amz-meta-a', true)).toBe(true)
  })

  it('splits Access-Control-Request-Headers into trimmed lowercase names', () => {
    expect(requestedHeaders(' Content-Type,X-Amz-Date , ,authorization')).toEqual([
      'content-type',
      'x-amz-date',
      'authorization',
    ])
    expect(requestedHeaders(undefined)).toEqual([])
  })

  it('the first rule allowing origin, method and every requested header wins', () => {
    const rules = [
      rule({ allowedOrigins: ['https://a'], allowedMethods: ['PUT'], allowedHeaders: ['content-type'] }),
      rule({ allowedOrigins: ['https://a', '*'], allowedMethods: ['PUT', 'GET'], allowedHeaders: ['*'] }),
    ]
    expect(matchRule(rules, { origin: 'https://a', method: 'PUT', headers: ['content-type'] })).toEqual({
      rule: rules[0],
      anyOrigin: false,
    })
    expect(matchRule(rules, { origin: 'https://a', method: 'PUT', headers: ['content-type', 'x-amz-acl'] })).toEqual({
      rule: rules[1],
      anyOrigin: false,
    })
    expect(matchRule(rules, { origin: 'https://b', method: 'GET', headers: [] })).toEqual({
      rule: rules[1],
      anyOrigin: true,
    })
    expect(matchRule(rules, { origin: 'https://b', method: 'DELETE', headers: [] })).toBeUndefined()
  })

  it('an actual request gets headers only with an Origin and a matching rule', () => {
    const rules = [rule({ allowedOrigins: ['https://a'], exposeHeaders: ['ETag'], maxAgeSeconds: 5 })]
    expect(actualRequestCorsHeaders(undefined, 'GET', { origin: 'https://a' })).toEqual({})
    expect(actualRequestCorsHeaders(rules, 'GET', {})).toEqual({})
    expect(actualRequestCorsHeaders(rules, 'PUT', { origin: 'https://a' })).toEqual({})
    expect(actualRequestCorsHeaders(rules, 'GET', { origin: 'https://a' })).toEqual({
      'Access-Control-Allow-Origin': 'https://a',
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Allow-Methods': 'GET',
      'Access-Control-Expose-Headers': 'ETag',
      'Access-Control-Max-Age': '5',
      Vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    })
  })
})
