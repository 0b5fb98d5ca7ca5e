/** @module PutBucketLifecycleConfiguration validation: a table of documents and the answer AWS gives each. */
import { describe, expect, it } from 'vitest'
import { S3Error } from '../../../server/s3/errors.js'
import { parseLifecycleConfiguration } from '../../../server/s3/ops/lifecycle.js'
import { parseXmlBody } from '../../../server/s3/xml.js'

const doc = (rules: string) =>
  `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules}</LifecycleConfiguration>`
const rule = (inner: string) => `<Rule>${inner}</Rule>`
const parse = (xml: string, transitionDefault?: string) =>
  parseLifecycleConfiguration(parseXmlBody(xml, 'LifecycleConfiguration'), transitionDefault)

function answer(xml: string, transitionDefault?: string): { code: string; message: string; fields: unknown } | 'ok' {
  try {
    parse(xml, transitionDefault)
    return 'ok'
  } catch (err) {
    if (!(err instanceof S3Error)) throw err
    return { code: err.code, message: err.message, fields: err.fields }
  }
}

const EXPIRE = '<Expiration><Days>1</Days></Expiration>'
const ENABLED = '<Status>Enabled</Status>'

/** [what, body, expected code (or 'ok'), part of the message]. */
const TABLE: Array<[string, string, string, string?]> = [
  ['one rule, empty filter', doc(rule(`<ID>a</ID><Filter></Filter>${ENABLED}${EXPIRE}`)), 'ok'],
  ['legacy top-level Prefix', doc(rule(`<ID>a</ID><Prefix>logs/</Prefix>${ENABLED}${EXPIRE}`)), 'ok'],
  ['no rules', doc(''), 'MalformedXML'],
  ['neither Filter nor Prefix', doc(rule(`<ID>a</ID>${ENABLED}${EXPIRE}`)), 'MalformedXML'],
  [
    'both Filter and Prefix',
    doc(rule(`<ID>a</ID><Prefix>x</Prefix><Filter></Filter>${ENABLED}${EXPIRE}`)),
    'MalformedXML',
  ],
  [
    'Filter with two conditions outside And',
    doc(rule(`<Filter><Prefix>x</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter>${ENABLED}${EXPIRE}`)),
    'MalformedXML',
  ],
  [
    'Status other than Enabled/Disabled',
    doc(rule(`<Filter></Filter><Status>enabled</Status>${EXPIRE}`)),
    'MalformedXML',
  ],
  [
    'ID of 256 characters',
    doc(rule(`<ID>${'i'.repeat(256)}</ID><Filter></Filter>${ENABLED}${EXPIRE}`)),
    'InvalidArgument',
    'ID length should not exceed allowed limit of 255',
  ],
  ['ID of 255 characters', doc(rule(`<ID>${'i'.repeat(255)}</ID><Filter></Filter>${ENABLED}${EXPIRE}`)), 'ok'],
  [
    'two rules with one ID',
    doc(rule(`<ID>a</ID><Filter></Filter>${ENABLED}${EXPIRE}`).repeat(2)),
    'InvalidArgument',
    'Rule ID must be unique',
  ],
  [
    'no action',
    doc(rule(`<ID>a</ID><Filter></Filter>${ENABLED}`)),
    'InvalidRequest',
    'At least one action needs to be specified in a rule',
  ],
  [
    'Days 0',
    doc(rule(`<Filter></Filter>${ENABLED}<Expiration><Days>0</Days></Expiration>`)),
    'InvalidArgument',
    "'Days' for Expiration action must be a positive integer",
  ],
  [
    'Days not a number',
    doc(rule(`<Filter></Filter>${ENABLED}<Expiration><Days>x</Days></Expiration>`)),
    'MalformedXML',
  ],
  [
    'Days and Date',
    doc(rule(`<Filter></Filter>${ENABLED}<Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>`)),
    'MalformedXML',
  ],
  [
    'Date at midnight UTC',
    doc(rule(`<Filter></Filter>${ENABLED}<Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration>`)),
    'ok',
  ],
  [
    'Date not at midnight',
    doc(rule(`<Filter></Filter>${ENABLED}<Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration>`)),
    'InvalidArgument',
    "'Date' must be at midnight GMT",
  ],
  [
    'Date at local midnight elsewhere',
    doc(rule(`<Filter></Filter>${ENABLED}<Expiration><Date>2030-01-01T00:00:00+02:00</Date></Expiration>`)),
    'InvalidArgument',
    "'Date' must be at midnight GMT",
  ],
  [
    'ExpiredObjectDeleteMarker with Days',
    doc(
      rule(
        `<Filter></Filter>${ENABLED}<Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`,
      ),
    ),
    'InvalidArgument',
    'ExpiredObjectDeleteMarker cannot be specified with Days or Date',
  ],
  [
    'ExpiredObjectDeleteMarker alone',
    doc(
      rule(
        `<Filter></Filter>${ENABLED}<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`,
      ),
    ),
    'ok',
  ],
  ['empty Expiration', doc(rule(`<Filter></Filter>${ENABLED}<Expiration></Expiration>`)), 'MalformedXML'],
  [
    'NoncurrentDays 0',
    doc(
      rule(
        `<Filter></Filter>${ENABLED}<NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays></NoncurrentVersionExpiration>`,
      ),
    ),
    'InvalidArgument',
    "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
  ],
  [
    'NewerNoncurrentVersions 101',
    doc(
      rule(
        `<Filter></Filter>${ENABLED}<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>101</NewerNoncurrentVersions></NoncurrentVersionExpiration>`,
      ),
    ),
    'InvalidArgument',
    'NewerNoncurrentVersions',
  ],
  [
    'NewerNoncurrentVersions 100',
    doc(
      rule(
        `<Filter></Filter>${ENABLED}<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>100</NewerNoncurrentVersions></NoncurrentVersionExpiration>`,
      ),
    ),
    'ok',
  ],
  [
    'DaysAfterInitiation 0',
    doc(
      rule(
        `<Filter></Filter>${ENABLED}<AbortIncompleteMultipartUpload><DaysAfterInitiation>0</DaysAfterInitiation></AbortIncompleteMultipartUpload>`,
      ),
    ),
    'InvalidArgument',
    "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
  ],
  [
    'AbortIncompleteMultipartUpload with a size filter',
    doc(
      rule(
        `<Filter><ObjectSizeGreaterThan>5</ObjectSizeGreaterThan></Filter>${ENABLED}<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>`,
      ),
    ),
    'InvalidRequest',
  ],
  ['Tag filter', doc(rule(`<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>${ENABLED}${EXPIRE}`)), 'ok'],
  [
    'two Tags outside And',
    doc(
      rule(
        `<Filter><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag></Filter>${ENABLED}${EXPIRE}`,
      ),
    ),
    'MalformedXML',
  ],
  [
    'Tags inside And',
    doc(
      rule(
        `<Filter><And><Prefix>p</Prefix><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag></And></Filter>${ENABLED}${EXPIRE}`,
      ),
    ),
    'ok',
  ],
  [
    'a repeated Tag key inside And',
    doc(
      rule(
        `<Filter><And><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key><Value>2</Value></Tag></And></Filter>${ENABLED}${EXPIRE}`,
      ),
    ),
    'InvalidRequest',
    'Duplicate Tag Keys',
  ],
  [
    'a Tag key with aws: prefix',
    doc(rule(`<Filter><Tag><Key>aws:x</Key><Value>v</Value></Tag></Filter>${ENABLED}${EXPIRE}`)),
    'InvalidTag',
  ],
  [
    'AbortIncompleteMultipartUpload with a Tag filter',
    doc(
      rule(
        `<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>${ENABLED}<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>`,
      ),
    ),
    'InvalidRequest',
    'Tags',
  ],
  [
    'And with prefix and sizes',
    doc(
      rule(
        `<Filter><And><Prefix>p</Prefix><ObjectSizeGreaterThan>1</ObjectSizeGreaterThan><ObjectSizeLessThan>9</ObjectSizeLessThan></And></Filter>${ENABLED}${EXPIRE}`,
      ),
    ),
    'ok',
  ],
  [
    'And with sizes the wrong way round',
    doc(
      rule(
        `<Filter><And><ObjectSizeGreaterThan>9</ObjectSizeGreaterThan><ObjectSizeLessThan>1</ObjectSizeLessThan></And></Filter>${ENABLED}${EXPIRE}`,
      ),
    ),
    'InvalidRequest',
  ],
  [
    'Transition to GLACIER (a class this store does not have)',
    doc(
      rule(`<Filter></Filter>${ENABLED}<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>`),
    ),
    'NotImplemented',
    'Transition to GLACIER',
  ],
  [
    'NoncurrentVersionTransition to STANDARD_IA',
    doc(
      rule(
        `<Filter></Filter>${ENABLED}<NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>STANDARD_IA</StorageClass></NoncurrentVersionTransition>`,
      ),
    ),
    'NotImplemented',
    'NoncurrentVersionTransition',
  ],
  [
    'Transition to STANDARD (not a transition storage class)',
    doc(
      rule(`<Filter></Filter>${ENABLED}<Transition><Days>30</Days><StorageClass>STANDARD</StorageClass></Transition>`),
    ),
    'MalformedXML',
  ],
  ['an unknown element in a rule', doc(rule(`<Filter></Filter>${ENABLED}${EXPIRE}<Bogus>1</Bogus>`)), 'MalformedXML'],
  [
    '1,000 rules',
    doc(Array.from({ length: 1000 }, (_, i) => rule(`<ID>r${i}</ID><Filter></Filter>${ENABLED}${EXPIRE}`)).join('')),
    'ok',
  ],
  [
    '1,001 rules',
    doc(Array.from({ length: 1001 }, (_, i) => rule(`<ID>r${i}</ID><Filter></Filter>${ENABLED}${EXPIRE}`)).join('')),
    'InvalidRequest',
  ],
]

describe('PutBucketLifecycleConfiguration validation', () => {
  for (const [what, xml, code, message] of TABLE) {
    it(`${what}: ${code}`, () => {
      const got = answer(xml)
      if (code === 'ok') {
        expect(got).toBe('ok')
        return
      }
      expect(got).not.toBe('ok')
      const e = got as { code: string; message: string }
      expect(e.code).toBe(code)
      if (message) expect(e.message).toContain(message)
    })
  }

  it('names InvalidArgument fields as AWS does (ArgumentName, ArgumentValue)', () => {
    const got = answer(
      doc(rule(`<Filter></Filter>${ENABLED}<Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration>`)),
    ) as { fields: unknown }
    expect(got.fields).toEqual([
      ['ArgumentName', 'Date'],
      ['ArgumentValue', '2030-01-01T10:00:00Z'],
    ])
  })

  it('gives a rule without ID a generated one, and keeps what it parsed', () => {
    const cfg = parse(
      doc(
        rule(
          `<Filter><Prefix>logs/</Prefix></Filter>${ENABLED}<Expiration><Days>3</Days></Expiration><NoncurrentVersionExpiration><NoncurrentDays>2</NoncurrentDays><NewerNoncurrentVersions>1</NewerNoncurrentVersions></NoncurrentVersionExpiration>`,
        ),
      ),
    )
    expect(cfg.rules[0].id).toMatch(/^\S{1,255}$/)
    expect(cfg.rules[0]).toMatchObject({
      status: 'Enabled',
      filterForm: 'prefix',
      prefix: 'logs/',
      expiration: { days: 3 },
      noncurrentExpiration: { noncurrentDays: 2, newerNoncurrentVersions: 1 },
    })
    expect(cfg.transitionDefaultMinimumObjectSize).toBe('all_storage_classes_128K')
  })

  it('keeps a Tag filter, alone or inside And, in the form it was written', () => {
    const one = parse(
      doc(rule(`<ID>t</ID><Filter><Tag><Key>k&#43;1</Key><Value>v</Value></Tag></Filter>${ENABLED}${EXPIRE}`)),
    )
    expect(one.rules[0]).toMatchObject({ filterForm: 'tag', tags: { 'k+1': 'v' } })
    const and = parse(
      doc(
        rule(
          `<ID>t</ID><Filter><And><Prefix>p/</Prefix><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value></Value></Tag></And></Filter>${ENABLED}${EXPIRE}`,
        ),
      ),
    )
    expect(and.rules[0]).toMatchObject({ filterForm: 'and', prefix: 'p/', tags: { a: '1', b: '' } })
  })

  it('refuses an unknown x-amz-transition-default-minimum-object-size', () => {
    const xml = doc(rule(`<ID>a</ID><Filter></Filter>${ENABLED}${EXPIRE}`))
    expect(answer(xml, 'varies_by_storage_class')).toBe('ok')
    expect((answer(xml, 'tiny') as { code: string }).code).toBe('InvalidArgument')
  })
})
