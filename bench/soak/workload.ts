/**
 * @module The soak's clients: each loops until the deadline over a weighted mix of operations on
 * a random bucket and key (a third of them on a few hot keys, never deleted, so writes and reads
 * of one key overlap), pausing while the server is down for its restart.
 */
import { CONFIG_BUCKETS, DATA_BUCKETS, HOT_KEYS, KEYS_PER_BUCKET, keyName, type Ctx } from './buckets.js'
import { configBurst, readConfig } from './config.js'
import { completeRace, multipartUpload } from './multipart.js'
import { deleteObject, getObject, listObjects, overwriteRace, putObject } from './objects.js'
import type { Restarts } from './stats.js'

type OpName =
  | 'put'
  | 'get'
  | 'range'
  | 'delete'
  | 'overwrite-race'
  | 'list'
  | 'multipart'
  | 'complete-race'
  | 'config'
  | 'config-read'

/** Relative weights of the operation mix. */
const MIX: Array<[OpName, number]> = [
  ['put', 24],
  ['get', 20],
  ['range', 12],
  ['delete', 7],
  ['overwrite-race', 5],
  ['list', 2],
  ['multipart', 4],
  ['complete-race', 5],
  ['config', 5],
  ['config-read', 3],
]
const TOTAL = MIX.reduce((n, [, w]) => n + w, 0)

function pickOp(ctx: Ctx): OpName {
  let r = ctx.rng.next() * TOTAL
  for (const [op, w] of MIX) {
    r -= w
    if (r < 0) return op
  }
  return 'get'
}

const hotKey = (ctx: Ctx) => keyName(-1 - ctx.rng.int(0, HOT_KEYS - 1))
const coldKey = (ctx: Ctx) => keyName(ctx.rng.int(0, KEYS_PER_BUCKET - 1))

function pickKey(ctx: Ctx): string {
  return ctx.rng.chance(1 / 3) ? hotKey(ctx) : coldKey(ctx)
}

async function runOne(ctx: Ctx): Promise<void> {
  const op = pickOp(ctx)
  const b = ctx.rng.pick(DATA_BUCKETS)
  const key = pickKey(ctx)
  switch (op) {
    case 'put':
      return putObject(ctx, b, key)
    case 'get':
      return getObject(ctx, b, key, false)
    case 'range':
      return getObject(ctx, b, key, true)
    case 'delete':
      // Hot keys are never deleted: once written they always exist, so a 404 on one is a bug.
      return deleteObject(ctx, b, coldKey(ctx))
    case 'overwrite-race':
      return overwriteRace(ctx, b, hotKey(ctx))
    case 'list':
      return listObjects(ctx, b)
    case 'multipart':
      return multipartUpload(ctx, b, key)
    case 'complete-race':
      return completeRace(ctx, b, key)
    case 'config':
      return configBurst(ctx, ctx.rng.pick(CONFIG_BUCKETS))
    case 'config-read':
      return readConfig(ctx, ctx.rng.pick(CONFIG_BUCKETS), ctx.rng.pick(['policy', 'encryption'] as const))
  }
}

/** `clients` concurrent loops until `deadline` (performance.now()); resolves when all have stopped. */
export async function runClients(ctx: Ctx, clients: number, deadline: number, restarts: Restarts): Promise<void> {
  const loop = async () => {
    while (performance.now() < deadline) {
      await restarts.ready()
      if (performance.now() >= deadline) return
      await runOne(ctx)
    }
  }
  await Promise.all(Array.from({ length: clients }, loop))
}
