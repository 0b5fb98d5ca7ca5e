/**
 * @module Builds the Hono app: health endpoints, then every other request goes to the S3
 * pipeline, which writes to the Node response directly so object bodies stream without copies.
 */
import type { HttpBindings } from '@hono/node-server'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import { Hono } from 'hono'
import type { Services } from './s3/context.js'
import { handleS3 } from './s3/handler.js'

export type AppEnv = { Bindings: HttpBindings }

export function buildApp(svc: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const s3 = async (incoming: HttpBindings['incoming'], outgoing: HttpBindings['outgoing']) => {
    await handleS3(svc, incoming, outgoing)
    return RESPONSE_ALREADY_SENT
  }
  // Health endpoints are unauthenticated; a signed request for the same path is an S3 request
  // (GetObject of key `live` in a bucket named `health`).
  const isSigned = (url: string, auth: string | undefined) => auth !== undefined || /[?&]X-Amz-(Signature|Credential)=/i.test(url)
  app.get('/health/live', (c) => (isSigned(c.req.url, c.req.header('authorization')) ? s3(c.env.incoming, c.env.outgoing) : c.json({ status: 'ok' })))
  app.get('/health/ready', async (c) => {
    if (isSigned(c.req.url, c.req.header('authorization'))) return s3(c.env.incoming, c.env.outgoing)
    try {
      await svc.meta.listBuckets()
      return c.json({ status: 'ok' })
    } catch {
      return c.json({ status: 'unavailable' }, 503)
    }
  })
  app.all('*', (c) => s3(c.env.incoming, c.env.outgoing))
  app.onError((err, c) => {
    svc.log.error('unhandled error outside the S3 pipeline', { err })
    return c.text('Internal Server Error', 500)
  })
  return app
}
