// @module The hash worker thread: computes node:crypto digests (MD5, SHA-256, SHA-1) of request
// bodies off the main thread, so hashing and encryption of one PUT run on two cores.
// Plain JavaScript on purpose: worker threads do not inherit the TypeScript loader.
import { createHash } from 'node:crypto'
import { parentPort } from 'node:worker_threads'

/** @type {Map<number, import('node:crypto').Hash[]>} */
const jobs = new Map()

parentPort.on('message', (msg) => {
  switch (msg.type) {
    case 'start':
      jobs.set(msg.id, msg.algorithms.map((a) => createHash(a)))
      break
    case 'data': {
      const hashes = jobs.get(msg.id)
      const bytes = new Uint8Array(msg.buffer)
      if (hashes) for (const h of hashes) h.update(bytes)
      parentPort.postMessage({ type: 'ack', id: msg.id, bytes: bytes.byteLength })
      break
    }
    case 'end': {
      const hashes = jobs.get(msg.id) ?? []
      jobs.delete(msg.id)
      const digests = hashes.map((h) => h.digest())
      parentPort.postMessage({ type: 'digests', id: msg.id, digests }, digests.map((d) => d.buffer))
      break
    }
    case 'drop':
      jobs.delete(msg.id)
      break
  }
})
