/** @module Versioned record encoding: stored fixtures of every version decode, migrations run in order. */
import { describe, expect, it } from 'vitest'
import {
  RecordVersionError,
  bucketCodec,
  defineCodec,
  objectCodec,
  partCodec,
  uploadCodec,
} from '../../../storage/codec.js'
import { legacyVersionId } from '../../../storage/versions.js'

/** An object record as v1 wrote it. Never edit: it stands for data already on disks. */
const OBJECT_V1 =
  '{"v":1,"bucket":"photos","key":"2024/é.jpg","size":11,"etag":"5eb63bbbe01eeed093cb22bb8f5acdc3",' +
  '"lastModified":1717171717000,"ownerAccountId":"111122223333","encryption":{"format":"SR1","mode":"SSE-S3",' +
  '"binding":{"mode":"SSE-S3","bucket":"photos","key":"2024/é.jpg","generation":"Zm9v"},' +
  '"sealed":{"sealIV":"AAAA","nonce":"AAAA","ciphertext":"AAAA"},"rootKeyVersion":1},' +
  '"parts":[{"partNumber":1,"blobId":"0123456789abcdef0123456789abcdef","size":11,"etag":"5eb63bbbe01eeed093cb22bb8f5acdc3",' +
  '"salt":"c2FsdA==","lastModified":1717171717000}],"contentType":"image/jpeg","headers":{},"userMeta":{"a":"b"},"storageClass":"STANDARD"}'

const PART_V1 =
  '{"v":1,"partNumber":2,"blobId":"0123456789abcdef0123456789abcdef","size":5,"etag":"e","salt":"s","lastModified":1,"uploadId":"u1"}'

describe('codec', () => {
  it('decodes a stored v1 object record as the null version of its key (v2)', () => {
    const rec = objectCodec.decode(OBJECT_V1)
    expect(rec).toMatchObject({
      v: 2,
      bucket: 'photos',
      key: '2024/é.jpg',
      size: 11,
      userMeta: { a: 'b' },
      nullVersion: true,
    })
    expect(rec.deleteMarker).toBeUndefined()
    if (rec.deleteMarker) return
    expect(rec.parts[0].blobId).toBe('0123456789abcdef0123456789abcdef')
    // The id is derived from the record (the same on every decode) and sorts by its time.
    expect(rec.versionId).toBe(legacyVersionId(1717171717000, ''))
    expect(objectCodec.decode(OBJECT_V1).versionId).toBe(rec.versionId)
    expect(objectCodec.decode(objectCodec.encode(rec))).toEqual(rec)
  })

  it('decodes a stored v1 upload record with a version id derived from its upload id', () => {
    const UPLOAD_V1 =
      '{"v":1,"uploadId":"u1","bucket":"b","key":"k","initiated":1717171717000,"ownerAccountId":"1","encryption":{},' +
      '"contentType":"x","headers":{},"userMeta":{},"storageClass":"STANDARD"}'
    const a = uploadCodec.decode(UPLOAD_V1)
    const b = uploadCodec.decode(UPLOAD_V1.replace('"u1"', '"u2"'))
    expect(a).toMatchObject({ v: 2, uploadId: 'u1' })
    expect(a.versionId).toMatch(/^[0-9a-f]{32}$/)
    expect(a.versionId).not.toBe(b.versionId)
    expect(uploadCodec.decode(UPLOAD_V1).versionId).toBe(a.versionId)
  })

  it('part records carry v on disk but not in the record type', () => {
    const part = partCodec.decode(PART_V1)
    expect(part).not.toHaveProperty('v')
    expect(part).toMatchObject({ partNumber: 2, uploadId: 'u1' })
    expect(JSON.parse(partCodec.encode(part))).toEqual(JSON.parse(PART_V1))
  })

  it('refuses records from a newer build and records without a version', () => {
    expect(() => objectCodec.decode(OBJECT_V1.replace('"v":1', '"v":3'))).toThrow(RecordVersionError)
    expect(() => bucketCodec.decode('{"name":"x"}')).toThrow(RecordVersionError)
    expect(() => bucketCodec.decode('[1]')).toThrow(RecordVersionError)
    expect(() => bucketCodec.encode({ v: 2 } as never)).toThrow(RecordVersionError)
  })

  it('runs one migration per old version, in order, up to the current version', () => {
    interface V3 {
      v: 3
      name: string
      tags: string[]
      size: number
    }
    const codec = defineCodec<V3>({
      kind: 'demo',
      version: 3,
      migrations: {
        1: (old) => ({ ...old, tags: [] }), // v2 added tags
        2: (old) => ({ ...old, size: Number(old.sizeText ?? 0), sizeText: undefined }), // v3 made size a number
      },
    })
    expect(codec.decode('{"v":1,"name":"a","sizeText":"7"}')).toEqual({ v: 3, name: 'a', tags: [], size: 7 })
    expect(codec.decode('{"v":2,"name":"a","tags":["x"],"sizeText":"1"}')).toEqual({
      v: 3,
      name: 'a',
      tags: ['x'],
      size: 1,
    })
    expect(codec.decode('{"v":3,"name":"a","tags":[],"size":2}')).toEqual({ v: 3, name: 'a', tags: [], size: 2 })
  })

  it('refuses to define a codec with a gap in its migrations', () => {
    expect(() => defineCodec({ kind: 'gap', version: 3, migrations: { 1: (o) => o } })).toThrow(/no migration from v2/)
  })
})
