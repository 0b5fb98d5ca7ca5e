/**
 * @module The client side of the live rewrap: `strongroom keys rewrap --endpoint URL` signs
 * `POST /admin/keys/rewrap` with the root credentials (the one SigV4 signer of
 * lib/sigv4.ts) and reads the streamed `progress <done> <total>` lines and the final
 * JSON line (admin/live-rewrap.ts).
 */
import { LIVE_REWRAP_PATH } from './live-rewrap.js'
import type { RewrapProgress, RewrapResult } from './rewrap.js'
import { AdminError } from './store.js'
import { sha256Hex, signRequest } from '../../lib/sigv4.js'

export interface RootCredentials {
  accessKeyId: string
  secretAccessKey: string
  region: string
}

/** SigV4 headers for a path-only request with a fully signed body. */
export function signAdminRequest(
  method: string,
  url: URL,
  body: string,
  cred: RootCredentials,
  now = new Date(),
): Record<string, string> {
  const payloadHash = sha256Hex(body)
  const headers = signRequest({
    method,
    url,
    headers: { 'x-amz-content-sha256': payloadHash },
    payloadHash,
    region: cred.region,
    service: 's3',
    credentials: cred,
    now,
  })
  delete headers.host
  return headers
}

export interface LiveRewrapAnswer {
  result: RewrapResult
  seconds: number
  aborted: boolean
  note: string
}

/** Runs the live rewrap on the server at `endpoint`; rejects with AdminError on a refusal. */
export async function liveRewrap(
  endpoint: string,
  cred: RootCredentials,
  opts: { fromVersion?: number; limit?: number; signal?: AbortSignal; onProgress?(p: RewrapProgress): void },
): Promise<LiveRewrapAnswer> {
  let url: URL
  try {
    url = new URL(LIVE_REWRAP_PATH, endpoint)
  } catch {
    throw new AdminError(`--endpoint must be a URL such as http://127.0.0.1:9000, got ${endpoint}`, 2)
  }
  const body = JSON.stringify({ fromVersion: opts.fromVersion, limit: opts.limit })
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      body,
      headers: { ...signAdminRequest('POST', url, body, cred), 'content-type': 'application/json' },
      signal: opts.signal,
    })
  } catch (err) {
    if (opts.signal?.aborted) throw new AdminError('interrupted before the server answered', 130)
    throw new AdminError(
      `cannot reach the server at ${url.origin}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`,
    )
  }
  if (res.status !== 200) {
    const text = await res.text()
    let message = text
    try {
      const j = JSON.parse(text) as { error?: string; message?: string }
      message = `${j.error ?? res.status}: ${j.message ?? ''}`
    } catch {
      /* not JSON: show it as is */
    }
    throw new AdminError(`the server refused the live rewrap (HTTP ${res.status}) ${message}`.trim())
  }
  let final: LiveRewrapAnswer | undefined
  let rest = ''
  const decoder = new TextDecoder()
  const line = (l: string) => {
    const m = /^progress (\d+) (\d+)$/.exec(l)
    if (m) return opts.onProgress?.({ done: Number(m[1]), total: Number(m[2]) })
    if (!l.startsWith('{')) return
    const j = JSON.parse(l) as Partial<LiveRewrapAnswer> & { error?: string; message?: string }
    if (j.error) throw new AdminError(`the live rewrap failed on the server: ${j.error}: ${j.message ?? ''}`)
    final = j as LiveRewrapAnswer
  }
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      rest += decoder.decode(chunk, { stream: true })
      let nl: number
      while ((nl = rest.indexOf('\n')) >= 0) {
        line(rest.slice(0, nl))
        rest = rest.slice(nl + 1)
      }
    }
    if (rest) line(rest)
  } catch (err) {
    if (err instanceof AdminError) throw err
    if (opts.signal?.aborted)
      throw new AdminError('interrupted: the server stops starting records; run the command again to continue', 130)
    throw new AdminError(
      `the connection to the server broke during the rewrap (${(err as Error).message}); run it again to continue`,
    )
  }
  if (!final) throw new AdminError('the server closed the stream without a result; run the command again to continue')
  return final
}
