// @module The hash worker thread: computes the digests of large request bodies (MD5 for the ETag,
// the body checksum, SHA-256 of a signed payload) off the main thread, so hashing and encryption
// of one PUT run on two cores.
// Plain JavaScript on purpose: worker threads do not inherit the TypeScript loader, so it registers
// tsx itself before it loads the checksum implementations it shares with the main thread.
import { createHash } from 'node:crypto'
import { parentPort } from 'node:worker_threads'
import { tsImport } from 'tsx/esm/api'

/** @type {typeof import('./checksums.ts')} */
const { createChecksum } = await tsImport('./checksums.ts', import.meta.url)

if (!parentPort) throw new Error('hash-worker.js runs only as a worker thread (server/s3/hash-offload.ts)')
const port = parentPort

/**
 * `md5`, `sha256`, `sha1` are node:crypto hashes; `checksum:<ALG>` is an S3 checksum algorithm.
 * @param {string} name
 */
function hasherFor(name) {
  if (!name.startsWith('checksum:')) return createHash(name)
  return createChecksum(/** @type {import('./checksums.ts').ChecksumAlgorithm} */ (name.slice('checksum:'.length)))
}

/** @type {Map<number, Array<{ update(b: Uint8Array): void, digest(): Buffer }>>} */
const jobs = new Map()

port.on('message', (msg) => {
  switch (msg.type) {
    case 'start':
      jobs.set(msg.id, msg.algorithms.map(hasherFor))
      break
    case 'data': {
      const hashes = jobs.get(msg.id)
      const bytes = new Uint8Array(msg.buffer)
      if (hashes) for (const h of hashes) h.update(bytes)
      port.postMessage({ type: 'ack', id: msg.id, bytes: bytes.byteLength })
      break
    }
    case 'end': {
      const hashes = jobs.get(msg.id) ?? []
      jobs.delete(msg.id)
      const digests = hashes.map((h) => {
        const d = h.digest()
        // Copy into an ArrayBuffer of its own: digests may be views into a shared pool.
        const out = new Uint8Array(d.byteLength)
        out.set(d)
        return out.buffer
      })
      port.postMessage({ type: 'digests', id: msg.id, digests }, digests)
      break
    }
    case 'drop':
      jobs.delete(msg.id)
      break
  }
})
