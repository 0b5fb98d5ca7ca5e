/**
 * @module `POST /admin/keys/rewrap` (crypto/README.md §7): the live rewrap, run by the server over its own
 * open metadata store while it serves traffic. Only the root credentials may call it (SigV4
 * header auth, signed payload). Each record is replaced by a conditional commit on the record as
 * read, so traffic always wins and a rerun continues. The answer streams text lines:
 * `progress <done> <total>` (throttled), then one JSON line `{"result": RewrapResult, …}`.
 * One live rewrap at a time (409 otherwise). The embedded KMS's key material is NOT rewrapped
 * here: its LevelDB stores stay an offline step (`strongroom keys rewrap`, server stopped).
 */
import type { Context } from 'hono'
import { stream } from 'hono/streaming'
import type { AppEnv } from '../app.js'
import { authenticate } from '../s3/auth/sigv4.js'
import { sha256Hex } from '../../lib/sigv4.js'
import type { Services } from '../s3/context.js'
import { S3Error, toS3Error } from '../s3/errors.js'
import { headerMap } from '../s3/handler.js'
import { parseTarget } from '../s3/route.js'
import { rewrap } from './rewrap.js'

export const LIVE_REWRAP_PATH = '/admin/keys/rewrap'

/** What the response says about the part of a rewrap the live path leaves to the offline command. */
export const KMS_MATERIAL_NOTE =
  "embedded-KMS key material is not rewrapped live: run 'strongroom keys rewrap' with the server stopped for it"

const MAX_BODY = 4096

/** The handler of `POST /admin/keys/rewrap`; `busy` guards the one-at-a-time rule. */
export function liveRewrapHandler(svc: Services): (c: Context<AppEnv>) => Promise<Response> {
  let running = false
  return async (c) => {
    const incoming = c.env.incoming
    const headers = headerMap(incoming)
    const target = parseTarget(incoming.url ?? '/')
    const root = svc.config.credentials[0]
    let opts: { fromVersion?: number; limit?: number }
    let principal: { accessKeyId: string; accountId: string }
    try {
      const auth = authenticate(
        { method: 'POST', path: target.path, query: target.query, headers, now: new Date() },
        {
          lookup: (akid) => svc.config.credentials.find((k) => k.accessKeyId === akid),
          region: svc.config.region,
          maxSkewSeconds: svc.config.maxClockSkewSeconds,
        },
      )
      if (
        !auth ||
        auth.mode !== 'header' ||
        auth.accessKeyId !== root.accessKeyId ||
        auth.accountId !== root.accountId
      ) {
        throw new S3Error('AccessDenied', { message: 'only the root credentials may run a live rewrap' })
      }
      principal = { accessKeyId: auth.accessKeyId, accountId: auth.accountId }
      if (Number(headers['content-length'] ?? 0) > MAX_BODY)
        return c.json({ error: 'BadRequest', message: `body over ${MAX_BODY} bytes` }, 400)
      const body = Buffer.from(await c.req.arrayBuffer())
      if (body.length > MAX_BODY) return c.json({ error: 'BadRequest', message: `body over ${MAX_BODY} bytes` }, 400)
      if (auth.payload.kind !== 'sha256' || auth.payload.hex !== sha256Hex(body)) {
        throw new S3Error('AccessDenied', {
          message: 'the admin request body must be signed (x-amz-content-sha256 of the body)',
        })
      }
      opts = parseOptions(body)
    } catch (err) {
      if (err instanceof BadOptions) return c.json({ error: 'BadRequest', message: err.message }, 400)
      const e = toS3Error(err)
      return c.json({ error: e.code, message: e.message }, e.status === 403 || e.status === 400 ? e.status : 403)
    }
    if (running)
      return c.json(
        {
          error: 'RewrapInProgress',
          message: 'a live rewrap is already running on this server; wait for it to finish',
        },
        409,
      )
    running = true
    const active = svc.keyring.active().version
    if (opts.fromVersion === active) {
      running = false
      return c.json({ error: 'BadRequest', message: `version ${active} is the active version: nothing to rewrap` }, 400)
    }
    const controller = new AbortController()
    // The client went away (Ctrl-C, crash) or the server is shutting down: stop starting records.
    const onClose = () => {
      if (!c.env.outgoing.writableFinished) controller.abort()
    }
    c.env.outgoing.once('close', onClose)
    const audit = svc.audit
    const requestId = `admin-${Date.now().toString(36)}`
    const withWho = audit && {
      audit: (e: Parameters<typeof audit.audit>[0]) => audit.audit({ ...e, requestId, principal }),
      close: audit.close,
    }
    c.header('Content-Type', 'text/plain; charset=utf-8')
    c.header('Cache-Control', 'no-store')
    return stream(c, async (out) => {
      out.onAbort(() => controller.abort())
      const started = Date.now()
      try {
        let last = 0
        let pending: Promise<unknown> = Promise.resolve()
        const res = await rewrap(svc.meta, svc.keyring, [], {
          ...opts,
          signal: controller.signal,
          audit: withWho,
          dataKeys: svc.dataKeys ? async () => svc.dataKeys! : undefined,
          onProgress: ({ done, total }) => {
            const now = Date.now()
            if (done < total && now - last < 100) return
            last = now
            pending = pending.then(() => out.write(`progress ${done} ${total}\n`))
          },
        })
        await pending
        const outcome = res.failed.length ? 'failed' : res.stopped ? 'stopped' : 'ok'
        withWho?.audit({
          operation: 'keys rewrap',
          action: 'rewrap',
          outcome,
          toVersion: res.toVersion,
          fromVersion: opts.fromVersion,
          count: res.rewrapped,
          reason: 'live',
        })
        await out.write(
          JSON.stringify({
            result: res,
            seconds: (Date.now() - started) / 1000,
            aborted: controller.signal.aborted,
            note: KMS_MATERIAL_NOTE,
          }) + '\n',
        )
      } catch (err) {
        svc.log.error('live rewrap failed', { err })
        await out
          .write(JSON.stringify({ error: 'InternalError', message: (err as Error).message }) + '\n')
          .catch(() => {})
      } finally {
        c.env.outgoing.off('close', onClose)
        running = false
      }
    })
  }
}

class BadOptions extends Error {}

/** `{"fromVersion": N, "limit": K}`, both optional; an empty body is `{}`. */
function parseOptions(body: Buffer): { fromVersion?: number; limit?: number } {
  if (body.length === 0) return {}
  let v: unknown
  try {
    v = JSON.parse(body.toString('utf8'))
  } catch {
    throw new BadOptions('the body must be JSON: {"fromVersion": N, "limit": K}')
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BadOptions('the body must be a JSON object')
  const o = v as Record<string, unknown>
  const int = (name: string) => {
    const x = o[name]
    if (x === undefined) return undefined
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 1)
      throw new BadOptions(`${name} must be a positive integer`)
    return x
  }
  return { fromVersion: int('fromVersion'), limit: int('limit') }
}
