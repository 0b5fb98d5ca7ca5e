/**
 * @module The soak's model of what the store must hold: one register per object key and per
 * bucket configuration (policy, encryption), each the history of the writes sent to it, with the
 * client-side times they were sent and answered. A read is correct when it returns the value of a
 * write that was not superseded: a write W is superseded for a read R when some acknowledged write
 * V started after W was answered and was itself answered before R was sent. So when two writes to
 * a key overlap, either result is acceptable, and a write whose answer was lost (a connection cut
 * by the server's restart, a 5xx) may or may not have taken effect.
 */

/** The value a register holds: a content id, a configuration's normalized form, or ABSENT. */
export type Value = string
export const ABSENT = '<absent>'

export type WriteState = 'in-flight' | 'acked' | 'unknown'

export interface Write {
  value: Value
  /** performance.now() when the request was sent. */
  start: number
  /** When it was answered (Infinity while in flight). */
  end: number
  state: WriteState
}

export class Register {
  /** The initial state is an acknowledged ABSENT from the beginning of time. */
  private readonly writes: Write[] = [{ value: ABSENT, start: -Infinity, end: -Infinity, state: 'acked' }]

  /** Every value ever sent to this register, in order (never pruned: to name what a bad read found). */
  private readonly sent: Value[] = []

  constructor(readonly name: string) {}

  /** Records a write about to be sent. */
  begin(value: Value, now = performance.now()): Write {
    const w: Write = { value, start: now, end: Infinity, state: 'in-flight' }
    this.writes.push(w)
    this.sent.push(value)
    return w
  }

  history(): readonly Value[] {
    return this.sent
  }

  /** A 2xx answer: the write is durable and visible. */
  ack(w: Write, now = performance.now()): void {
    w.state = 'acked'
    w.end = now
  }

  /** No answer (or a 5xx): it may or may not have taken effect, at the latest by now. */
  unknown(w: Write, now = performance.now()): void {
    w.state = 'unknown'
    w.end = now
  }

  /** A definitive refusal (4xx): it had no effect. */
  refused(w: Write): void {
    const i = this.writes.indexOf(w)
    if (i >= 0) this.writes.splice(i, 1)
  }

  /** True when some acknowledged write exists (the key must then be readable, unless deleted). */
  get everAcked(): boolean {
    return this.writes.some((w) => w.state === 'acked' && w.start !== -Infinity)
  }

  /**
   * The values a read sent at `readStart` and answered at `readEnd` may return (the default, after
   * everything is answered: the values a final check may find).
   */
  candidates(readStart = Infinity, readEnd = Infinity): Set<Value> {
    const out = new Set<Value>()
    for (const w of this.writes) {
      if (w.start >= readEnd) continue
      const superseded = this.writes.some((v) => v !== w && v.state === 'acked' && v.start > w.end && v.end < readStart)
      if (!superseded) out.add(w.value)
    }
    return out
  }

  /** The most recent acknowledged value (what the final check names as expected). */
  lastAcked(): Value {
    let best = this.writes[0]
    for (const w of this.writes) if (w.state === 'acked' && w.end > best.end) best = w
    return best.value
  }

  /** Drops writes no read can return any more (keeps the history short on hot keys). */
  prune(oldestReadStart: number): void {
    if (this.writes.length < 64) return
    const keep = this.writes.filter(
      (w) => !this.writes.some((v) => v !== w && v.state === 'acked' && v.start > w.end && v.end < oldestReadStart),
    )
    this.writes.splice(0, this.writes.length, ...keep)
  }
}

/** Every register of the run, by name (`object:<bucket>/<key>`, `policy:<bucket>`, `encryption:<bucket>`). */
export class Model {
  private readonly registers = new Map<string, Register>()
  /** Sent-times of reads in flight, so pruning never drops what one of them may still return. */
  private readonly reads = new Set<{ start: number }>()

  register(name: string): Register {
    let r = this.registers.get(name)
    if (!r) {
      r = new Register(name)
      this.registers.set(name, r)
    }
    return r
  }

  all(): Register[] {
    return [...this.registers.values()]
  }

  /** Marks a read in flight; call the returned function when it is answered. */
  beginRead(now = performance.now()): { start: number; done: () => void } {
    const token = { start: now }
    this.reads.add(token)
    return { start: now, done: () => this.reads.delete(token) }
  }

  prune(r: Register): void {
    let oldest = performance.now()
    for (const t of this.reads) oldest = Math.min(oldest, t.start)
    r.prune(oldest)
  }
}
