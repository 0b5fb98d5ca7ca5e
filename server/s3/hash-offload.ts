/**
 * @module Hashing of large request bodies on a worker thread (hash-worker.js), with flow control,
 * so that MD5 (the SSE-S3 ETag) runs beside the main thread's encryption instead of before it.
 */
import { Worker } from 'node:worker_threads'

/** Bodies smaller than this are hashed inline: a round trip to the worker costs more than it saves. */
export const OFFLOAD_THRESHOLD = 1024 * 1024

/** Bytes a job may have in flight to the worker before `update` waits (bounds memory per request). */
const MAX_IN_FLIGHT = 8 * 1024 * 1024

type NodeHash = 'md5' | 'sha256' | 'sha1'

interface JobState {
  inFlight: number
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
    // A dead worker fails every pending job; the next job starts a new worker.
    for (const job of jobs.values()) job.done?.([])
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

export function offloadedHash(algorithms: readonly NodeHash[]): OffloadedHash {
  const w = getWorker()
  const id = nextId++
  const job: JobState = { inFlight: 0 }
  jobs.set(id, job)
  w.postMessage({ type: 'start', id, algorithms })
  let finished = false
  return {
    update(data) {
      const copy = new ArrayBuffer(data.byteLength)
      new Uint8Array(copy).set(data)
      job.inFlight += data.byteLength
      w.postMessage({ type: 'data', id, buffer: copy }, [copy])
      if (job.inFlight <= MAX_IN_FLIGHT) return undefined
      return new Promise<void>((resolve) => {
        job.wake = resolve
      })
    },
    digest() {
      finished = true
      return new Promise<Buffer[]>((resolve, reject) => {
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
