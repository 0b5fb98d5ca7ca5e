/**
 * @module `Expect: 100-continue` answered as S3 answers it: the interim 100 Continue goes out only
 * when a handler that has authenticated and authorized the request starts reading its body, so a
 * refused request gets its final answer before the client sends any of the body (RFC 9110 §10.1.1;
 * Node sends 100 Continue itself unless the server has a 'checkContinue' listener, which the
 * listeners install). A request answered while its body is still withheld closes its connection:
 * the client may yet send that body, which must not be read as the next request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

/** Requests that wait for 100 Continue, with the response to send it on. */
const waiting = new WeakMap<IncomingMessage, ServerResponse>()

/** The 'checkContinue' listener's first step: the request waits until its body is asked for. */
export function holdContinue(req: IncomingMessage, res: ServerResponse): void {
  waiting.set(req, res)
}

/** Tells a waiting client to send its body (no-op for any other request); call before reading the body. */
export function releaseBody(req: unknown): void {
  const res = waiting.get(req as IncomingMessage)
  if (!res) return
  waiting.delete(req as IncomingMessage)
  if (!res.headersSent) res.writeContinue()
}

/** Before a final answer: a client still waiting for 100 Continue gets `Connection: close`. */
export function closeIfBodyWithheld(req: IncomingMessage, res: ServerResponse): void {
  if (!waiting.has(req)) return
  waiting.delete(req)
  if (res.headersSent) return
  res.shouldKeepAlive = false
  res.setHeader('Connection', 'close')
}
