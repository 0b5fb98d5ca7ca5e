/**
 * @module The BlobStore contract: one suite every implementation runs. Write/read/range/delete/list,
 * id validation (no path escapes), and failed writes leaving nothing behind.
 */
import { randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NotFoundError } from '../../storage/errors.js'
import type { BlobStore } from '../../storage/types.js'
import { collect, pieces } from './fixtures.js'
import type { BlobContractOptions, BlobHarness } from './harness.js'

export type { BlobContractOptions, BlobHarness } from './harness.js'

/** Registers the whole BlobStore contract for one implementation. */
export function runBlobStoreContract(opts: BlobContractOptions): void {
  describe(`BlobStore contract: ${opts.name}`, () => {
    let h: BlobHarness
    let store: BlobStore
    beforeEach(async () => {
      h = await opts.create()
      store = h.store
    })
    afterEach(async () => {
      await h.cleanup()
    })

    it('newId makes distinct 32-hex-digit ids', () => {
      const ids = new Set(Array.from({ length: 1000 }, () => store.newId()))
      expect(ids.size).toBe(1000)
      for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/)
    })

    it('write then read returns the bytes, whatever the piece sizes', async () => {
      const data = randomBytes(1_500_000)
      const cuts = [0, 1, 7, 70_000, 70_001, 400_000, 1_000_000, data.length]
      const id = store.newId()
      const body = cuts.slice(1).map((end, i) => data.subarray(cuts[i], end))
      expect(await store.write(id, pieces(...body))).toEqual({ size: data.length })
      expect((await collect(store.read(id))).equals(data)).toBe(true)
    })

    it('an empty body makes an empty blob', async () => {
      const id = store.newId()
      expect(await store.write(id, pieces())).toEqual({ size: 0 })
      expect((await collect(store.read(id))).length).toBe(0)
    })

    it('read with a range returns [start, end), clamped to the blob', async () => {
      const data = randomBytes(600_000)
      const id = store.newId()
      await store.write(id, pieces(data))
      for (const [start, end] of [
        [0, 1],
        [5, 5],
        [100, 300_000],
        [262_143, 262_145],
        [599_999, 600_000],
        [0, 600_000],
        [500_000, 900_000],
        [700_000, 800_000],
      ]) {
        expect((await collect(store.read(id, { start, end }))).equals(data.subarray(start, end))).toBe(true)
      }
      await expect(collect(store.read(id, { start: 5, end: 4 }))).rejects.toBeInstanceOf(RangeError)
    })

    it('reading a missing blob throws NotFoundError blob', async () => {
      const id = store.newId()
      await expect(collect(store.read(id))).rejects.toMatchObject({ name: 'NotFoundError', kind: 'blob', what: id })
      await expect(collect(store.read(id))).rejects.toBeInstanceOf(NotFoundError)
    })

    it('read with the size the caller expects: IntegrityError blob-size, before any byte, when the blob is another size', async () => {
      const data = randomBytes(300_000)
      const id = store.newId()
      await store.write(id, pieces(data))
      expect((await collect(store.read(id, { start: 0, end: data.length }, { size: data.length }))).equals(data)).toBe(
        true,
      )
      expect((await collect(store.read(id, undefined, { size: data.length }))).equals(data)).toBe(true)
      for (const size of [0, data.length - 1, data.length + 1]) {
        const it = store.read(id, { start: 0, end: 10 }, { size })[Symbol.asyncIterator]()
        await expect(it.next()).rejects.toMatchObject({ name: 'IntegrityError', kind: 'blob-size', what: id })
      }
      await expect(collect(store.read(store.newId(), undefined, { size: 5 }))).rejects.toBeInstanceOf(NotFoundError)
    })

    it('size gives the bytes of a blob, undefined for a missing one', async () => {
      const id = store.newId()
      await store.write(id, pieces(randomBytes(70_001)))
      expect(await store.size(id)).toBe(70_001)
      expect(await store.size(store.newId())).toBeUndefined()
      await expect(store.size('../x')).rejects.toBeInstanceOf(TypeError)
    })

    it('delete removes a blob; deleting a missing blob is not an error', async () => {
      const id = store.newId()
      await store.write(id, pieces('x'))
      await store.delete(id)
      await expect(collect(store.read(id))).rejects.toBeInstanceOf(NotFoundError)
      await store.delete(id)
    })

    it('list yields every blob id', async () => {
      const ids = Array.from({ length: 20 }, () => store.newId())
      await Promise.all(ids.map((id) => store.write(id, pieces(id))))
      const listed: string[] = []
      for await (const id of store.list()) listed.push(id)
      expect(listed.sort()).toEqual([...ids].sort())
    })

    it('ids that are not 32 hex digits (../, /, uppercase) are refused before touching storage', async () => {
      for (const bad of [
        '../etc/passwd',
        '../' + 'a'.repeat(29),
        'aa/../../x',
        'A'.repeat(32),
        '',
        'a'.repeat(31),
        'a'.repeat(33),
      ]) {
        await expect(store.write(bad, pieces('x'))).rejects.toBeInstanceOf(TypeError)
        await expect(collect(store.read(bad))).rejects.toBeInstanceOf(TypeError)
        await expect(store.delete(bad)).rejects.toBeInstanceOf(TypeError)
      }
      if (h.files) expect(await h.files()).toEqual([])
    })

    it('a body that throws rejects with its own error and leaves no blob', async () => {
      const id = store.newId()
      const boom = new Error('client went away')
      async function* failing() {
        yield randomBytes(300_000)
        yield randomBytes(10)
        throw boom
      }
      await expect(store.write(id, failing())).rejects.toBe(boom)
      await expect(collect(store.read(id))).rejects.toBeInstanceOf(NotFoundError)
      const listed: string[] = []
      for await (const x of store.list()) listed.push(x)
      expect(listed).toEqual([])
    })

    describe('files on disk', () => {
      const reason = opts.skip?.files
      it.skipIf(reason !== undefined)(
        `a failed write leaves no file in blobs/ or tmp/${reason ? ` (skipped: ${reason})` : ''}`,
        async () => {
          async function* failing() {
            yield Buffer.alloc(1000)
            throw new Error('boom')
          }
          await expect(store.write(store.newId(), failing())).rejects.toThrow('boom')
          expect(await h.files!()).toEqual([])
        },
      )

      it.skipIf(reason !== undefined)(
        `sweepTmp removes leftovers of interrupted writes${reason ? ` (skipped: ${reason})` : ''}`,
        async () => {
          const id = store.newId()
          await store.write(id, pieces('kept'))
          await h.leaveTmpFile!(store.newId())
          await h.leaveTmpFile!('junk')
          expect(await store.sweepTmp()).toBe(2)
          expect(await h.files!()).toEqual([`blobs/${id.slice(0, 2)}/${id}`])
          expect(await store.sweepTmp()).toBe(0)
        },
      )
    })
  })
}
