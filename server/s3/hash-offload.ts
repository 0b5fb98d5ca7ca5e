/**
 * @module Hashing of large request bodies on a worker thread (hash-worker.js), with flow control,
 * so that MD5 (the SSE-S3 ETag) and the checksum run beside the main thread's encryption.
 */
import { Worker } from 'node:worker_threads'
import type { ChecksumAlgorithm } from './checksums.js'

/** Bodies smaller than this are hashed inline: a round trip to the worker costs more than it saves. */
export const OFFLOAD_THRESHOLD = 1024 * 1024

/** Bytes a job may have in flight to the worker before `update` waits (bounds memory per request). */
const MAX_IN_FLIGHT = 4 * 1024 * 1024

/** Data goes to the worker in batches of this size: one message per socket piece costs more than it saves. */
const BATCH = 1024 * 1024

/** node:crypto hashes, or an S3 checksum algorithm computed by checksums.ts. */
export type OffloadAlgorithm = 'md5' | 'sha256' | 'sha1' | `checksum:${ChecksumAlgorithm}`

interface JobState {
  inFlight: number
  failed?: boolean
  wake?: () => void
  done?: (digests: Buffer[]) => void
}

let worker: Worker | undefined
let nextId = 1
const jobs = new Map<number, JobState>()

function getWorker(): Worker {
  if (worker) return worker
  const w = new Worker(new URL('./hash-worker.js', import.meta.url))
  w.unref()
  w.on('message', (msg: { type: string; id: number; bytes?: number; digests?: ArrayBuffer[] }) => {
    const job = jobs.get(msg.id)
    if (!job) return
    if (msg.type === 'ack') {
      job.inFlight -= msg.bytes ?? 0
      if (job.wake && job.inFlight <= MAX_IN_FLIGHT / 2) {
        const wake = job.wake
        job.wake = undefined
        wake()
      }
    } else if (msg.type === 'digests') {
      jobs.delete(msg.id)
      job.done?.((msg.digests ?? []).map((d) => Buffer.from(d)))
    }
  })
  w.on('error', () => {
    // A dead worker fails every pending job (and releases writers waiting on flow control);
    // the next job starts a new worker.
    for (const job of jobs.values()) {
      job.failed = true
      job.wake?.()
      job.done?.([])
    }
    jobs.clear()
    worker = undefined
  })
  worker = w
  return w
}

/** An incremental multi-hash computed on the worker thread. */
export interface OffloadedHash {
  /** Sends a copy of `data`; returns a promise only when the caller must wait for the worker. */
  update(data: Uint8Array): Promise<void> | undefined
  /** The digests, in the order of the algorithms asked for. */
  digest(): Promise<Buffer[]>
  /** Abandons the job (the body failed). */
  cancel(): void
}

export function offloadedHash(algorithms: readonly OffloadAlgorithm[]): OffloadedHash {
  const w = getWorker()
  const id = nextId++
  const job: JobState = { inFlight: 0 }
  jobs.set(id, job)
  w.postMessage({ type: 'start', id, algorithms })
  let finished = false
  let batch: Uint8Array | undefined
  let fill = 0
  const flush = () => {
    if (!batch || fill === 0) return
    const buffer = fill === batch.byteLength ? batch.buffer : batch.buffer.slice(0, fill)
    job.inFlight += fill
    w.postMessage({ type: 'data', id, buffer }, [buffer as ArrayBuffer])
    batch = undefined
    fill = 0
  }
  return {
    update(data) {
      let offset = 0
      while (offset < data.byteLength) {
        batch ??= new Uint8Array(new ArrayBuffer(BATCH))
        const take = Math.min(BATCH - fill, data.byteLength - offset)
        batch.set(data.subarray(offset, offset + take), fill)
        fill += take
        offset += take
        if (fill === BATCH) flush()
      }
      if (job.inFlight <= MAX_IN_FLIGHT || job.failed) return undefined
      return new Promise<void>((resolve) => {
        job.wake = resolve
      })
    },
    digest() {
      finished = true
      flush()
      return new Promise<Buffer[]>((resolve, reject) => {
        if (job.failed) return reject(new Error('hash worker failed'))
        job.done = (d) => (d.length === algorithms.length ? resolve(d) : reject(new Error('hash worker failed')))
        w.postMessage({ type: 'end', id })
      })
    },
    cancel() {
      if (finished) return
      finished = true
      jobs.delete(id)
      w.postMessage({ type: 'drop', id })
    },
  }
}
