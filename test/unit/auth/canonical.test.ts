/**
 * @module Tests of the SigV4 canonicalization pieces: URI encoding, query, headers, signing key (docs/s3-sse-rules.md
 * §2.2–§2.3).
 */
import { describe, expect, it } from 'vitest'
import {
  canonicalHeaders,
  canonicalQuery,
  canonicalUri,
  signaturesEqual,
  signingKey,
  spacedHex,
  uriEncode,
} from '../../../lib/sigv4.js'
import { SECRET } from './signer.js'

describe('canonical request pieces (§2.2)', () => {
  it.each([
    ['/test.txt', '/test.txt'],
    ['/test$file.text', '/test%24file.text'],
    ['/a b+c', '/a%20b%2Bc'],
    ['/100%', '/100%25'],
    ['//x/./../y', '//x/./../y'],
    ["/!'()*~-._", '/%21%27%28%29%2A~-._'],
    ['/é😀', '/%C3%A9%F0%9F%98%80'],
    ['', '/'],
  ])('the canonical URI of %j is %j (encoded once, / kept, no dot folding)', (path, want) => {
    expect(canonicalUri(path)).toBe(want)
  })

  it('query parts encode / and every reserved byte', () => {
    expect(uriEncode('a/b c+d=e&f', false)).toBe('a%2Fb%20c%2Bd%3De%26f')
  })

  it('AUTH-24 the canonical query sorts by encoded name then value and writes valueless params as name=', () => {
    const q: Array<[string, string]> = [
      ['uploads', ''],
      ['prefix', 'b'],
      ['prefix', 'a'],
      ['Z', '1'],
      ['a b', '+'],
    ]
    expect(canonicalQuery(q)).toBe('Z=1&a%20b=%2B&prefix=a&prefix=b&uploads=')
    expect(
      canonicalQuery(
        [
          ['X-Amz-Signature', 'x'],
          ['a', '1'],
        ],
        'X-Amz-Signature',
      ),
    ).toBe('a=1')
  })

  it('canonical headers trim values and collapse inner whitespace', () => {
    expect(canonicalHeaders({ a: '  x   y\t z ', b: 'p,q' }, ['a', 'b', 'c'])).toBe('a:x y z\nb:p,q\nc:\n')
  })

  it('the signing key is derived per (date, region, service) and cached', () => {
    const k1 = signingKey(SECRET, '20130524', 'us-east-1', 's3')
    expect(signingKey(SECRET, '20130524', 'us-east-1', 's3')).toBe(k1)
    expect(signingKey(SECRET, '20130524', 'us-east-1', 'kms').equals(k1)).toBe(false)
    expect(signingKey(SECRET + 'x', '20130524', 'us-east-1', 's3').equals(k1)).toBe(false)
  })

  it('signatures compare only as 64 lowercase hex characters', () => {
    const s = 'a'.repeat(64)
    expect(signaturesEqual(s, s)).toBe(true)
    expect(signaturesEqual('A'.repeat(64), s)).toBe(false)
    expect(signaturesEqual('a'.repeat(63), s)).toBe(false)
    expect(signaturesEqual('b'.repeat(64), s)).toBe(false)
  })

  it('…Bytes elements are space-separated two-digit hex', () => {
    expect(spacedHex('AWS\n')).toBe('41 57 53 0a')
  })
})
