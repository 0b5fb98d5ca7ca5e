/**
 * @module Unit: tag validation (AWS limits and characters), the x-amz-tagging header and Tagging XML with character
 * references.
 */
import { describe, expect, it } from 'vitest'
import { S3Error } from '../../../server/s3/errors.js'
import { parseTaggingHeader, parseTaggingXml, taggingXml, validateTags } from '../../../server/s3/tags.js'

function code(fn: () => unknown): string {
  try {
    fn()
  } catch (e) {
    if (e instanceof S3Error) return `${e.code}: ${e.message}`
    throw e
  }
  return 'ok'
}

const doc = (tags: string) => `<Tagging><TagSet>${tags}</TagSet></Tagging>`

describe('validateTags', () => {
  const cases: Array<[string, Array<[string, string]>, 'object' | 'bucket', string]> = [
    ['plain pair', [['project', 'blue']], 'object', 'ok'],
    ['all allowed punctuation and a space', [['a+-=._:/@ b', 'v+-=._:/@ w']], 'object', 'ok'],
    ['unicode letters and digits', [['Straße', 'числа 123']], 'object', 'ok'],
    ['empty value', [['k', '']], 'object', 'ok'],
    ['key of 128 units', [['k'.repeat(128), 'v']], 'object', 'ok'],
    ['key of 129 units', [['k'.repeat(129), 'v']], 'object', 'InvalidTag: The TagKey you have provided is invalid'],
    ['empty key', [['', 'v']], 'object', 'InvalidTag: The TagKey you have provided is invalid'],
    ['value of 256 units', [['k', 'v'.repeat(256)]], 'object', 'ok'],
    ['value of 257 units', [['k', 'v'.repeat(257)]], 'object', 'InvalidTag: The TagValue you have provided is invalid'],
    ['key with a forbidden character', [['a*b', 'v']], 'object', 'InvalidTag: The TagKey you have provided is invalid'],
    [
      'value with a forbidden character',
      [['k', 'x<y']],
      'object',
      'InvalidTag: The TagValue you have provided is invalid',
    ],
    ['aws: prefix', [['aws:cloudformation', 'v']], 'object', 'InvalidTag: Your TagKey cannot be prefixed with aws:'],
    ['AWS: prefix in capitals', [['AWS:x', 'v']], 'object', 'InvalidTag: Your TagKey cannot be prefixed with aws:'],
    [
      'duplicate key',
      [
        ['k', '1'],
        ['k', '2'],
      ],
      'object',
      'InvalidTag: Cannot provide multiple Tags with the same key',
    ],
    ['10 object tags', Array.from({ length: 10 }, (_, i) => [`k${i}`, 'v'] as [string, string]), 'object', 'ok'],
    [
      '11 object tags',
      Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'] as [string, string]),
      'object',
      'BadRequest: Object tags cannot be greater than 10',
    ],
    ['50 bucket tags', Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'] as [string, string]), 'bucket', 'ok'],
    [
      '51 bucket tags',
      Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'] as [string, string]),
      'bucket',
      'InvalidTag: Bucket tag count cannot be greater than 50',
    ],
  ]
  for (const [name, pairs, target, want] of cases)
    it(`${name}: ${want}`, () => expect(code(() => validateTags(pairs, target))).toBe(want))

  it('a key named __proto__ is an ordinary tag', () => {
    const tags = validateTags([['__proto__', 'x']], 'object')
    expect(Object.keys(tags)).toEqual(['__proto__'])
    expect(Object.getPrototypeOf(tags)).toBe(Object.prototype)
  })
})

describe('parseTaggingHeader', () => {
  it('decodes URL query encoding: %20 and + are spaces, %2B is a plus, a key without = has the empty value', () => {
    expect(parseTaggingHeader('a=1&b%20c=d+e&f=%2B&g')).toEqual({ a: '1', 'b c': 'd e', f: '+', g: '' })
  })
  it('percent-encoded UTF-8 becomes the characters', () => {
    expect(parseTaggingHeader('k=%C3%A9t%C3%A9')).toEqual({ k: 'été' })
  })
  it('an empty header is no tags', () => expect(parseTaggingHeader('')).toEqual({}))
  it('duplicates and too many tags are refused as for the XML form', () => {
    expect(code(() => parseTaggingHeader('a=1&a=2'))).toBe('InvalidTag: Cannot provide multiple Tags with the same key')
    expect(code(() => parseTaggingHeader(Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&')))).toMatch(
      /^BadRequest/,
    )
  })
  it('a broken percent escape is InvalidArgument', () =>
    expect(code(() => parseTaggingHeader('k=%zz'))).toMatch(/^InvalidArgument/))
})

describe('parseTaggingXml', () => {
  it('reads Key/Value pairs in order', () => {
    expect(
      parseTaggingXml(doc('<Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value></Value></Tag>'), 'object'),
    ).toEqual({ a: '1', b: '' })
  })
  it('decodes numeric and named character references', () => {
    const tags = parseTaggingXml(doc('<Tag><Key>&#97;&#x62;</Key><Value>x&#43;&#x40;y</Value></Tag>'), 'object')
    expect(tags).toEqual({ ab: 'x+@y' })
  })
  it('a decoded reference is judged like any character (&, < are not allowed in a tag)', () => {
    expect(code(() => parseTaggingXml(doc('<Tag><Key>k</Key><Value>a&amp;b</Value></Tag>'), 'object'))).toBe(
      'InvalidTag: The TagValue you have provided is invalid',
    )
    expect(code(() => parseTaggingXml(doc('<Tag><Key>k&#60;</Key><Value>v</Value></Tag>'), 'object'))).toBe(
      'InvalidTag: The TagKey you have provided is invalid',
    )
    expect(code(() => parseTaggingXml(doc('<Tag><Key>k&lt;</Key><Value>v</Value></Tag>'), 'object'))).toBe(
      'InvalidTag: The TagKey you have provided is invalid',
    )
  })
  it('an empty TagSet is no tags', () => expect(parseTaggingXml('<Tagging><TagSet/></Tagging>', 'object')).toEqual({}))
  it('a Tag without Value, a missing TagSet, another root or a bad reference is MalformedXML', () => {
    expect(code(() => parseTaggingXml(doc('<Tag><Key>k</Key></Tag>'), 'object'))).toMatch(/^MalformedXML/)
    expect(code(() => parseTaggingXml('<Tagging></Tagging>', 'object'))).toMatch(/^MalformedXML/)
    expect(code(() => parseTaggingXml('<Other><TagSet/></Other>', 'object'))).toMatch(/^MalformedXML/)
    expect(code(() => parseTaggingXml(doc('<Tag><Key>&bogus;</Key><Value>v</Value></Tag>'), 'object'))).toMatch(
      /^MalformedXML/,
    )
  })
  it('duplicate keys are InvalidTag', () => {
    expect(
      code(() =>
        parseTaggingXml(
          doc('<Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag>'),
          'object',
        ),
      ),
    ).toBe('InvalidTag: Cannot provide multiple Tags with the same key')
  })
  it('taggingXml writes what parseTaggingXml reads', () => {
    const tags = { 'a b': 'x+y@z:/=', c: '' }
    expect(parseTaggingXml(taggingXml(tags), 'bucket')).toEqual(tags)
  })
})
