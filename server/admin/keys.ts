/** @module `strongroom keys list|rotate|rewrap|retire`: the root keyring (crypto/README.md §7). */
import { openAuditLog } from '../audit.js'
import { COMMON_USAGE, commonArgs, parseCommand } from './args.js'
import { liveRewrap } from './live-client.js'
import { progressReporter } from './progress.js'
import { countUsage, rewrap, type RewrapResult, type VersionUsage } from './rewrap.js'
import {
  AdminError,
  SERVER_RUNNING,
  kmsDirs,
  openAdminStore,
  openKeyring,
  openLocked,
  type AdminStore,
} from './store.js'
import type { KmsKeyRecord } from '../../crypto/types.js'
import { LevelMetadataStore } from '../../storage/level/metadata.js'
import path from 'node:path'

export const KEYS_USAGE = `Usage: strongroom keys <list|rotate|rewrap|retire> [options]

The SSE-S3 root keyring (<data-dir>/keyring.json). New objects are sealed by the newest active
version; older versions keep opening what they sealed until it is rewrapped.

  keys list                 versions, state, and the objects, multipart uploads and embedded-KMS
                            key materials sealed under each. Beside a running server it lists the
                            versions only (the counts need the metadata store: stop the server).
  keys rotate               add a new version; new writes use it at once. Runs beside the server:
                            the running server re-reads the keyring file when it changes.
  keys rewrap [--from-version N] [--limit K] [--kms]
                            re-seal every object key (SSE-S3, and the root layer of DSSE-KMS) and
                            embedded-KMS key material still under an older version (or only N) to
                            the active version. Metadata only: no data is rewritten. NEEDS THE
                            SERVER STOPPED (or use --endpoint). Resumable: interrupted (Ctrl-C,
                            crash, --limit K), run it again and it continues where it stopped.
                            Progress on stderr (a bar on a terminal), then a final count.
                            Exit 0 done, 1 some record failed, 3 stopped by --limit, 130 Ctrl-C.
                            --kms also re-encrypts SSE-KMS data keys (KMS ReEncrypt, embedded KMS)
                            under their key's newest material, after 'kms rotate-key'.
  keys rewrap --endpoint URL [--from-version N] [--limit K]
                            LIVE: the running server at URL (e.g. http://127.0.0.1:9000) re-seals
                            the object keys and multipart uploads itself, while it serves traffic
                            (POST /admin/keys/rewrap, signed with the ROOT credentials from
                            STRONGROOM_ACCESS_KEY_ID / STRONGROOM_SECRET_ACCESS_KEY, default
                            test/test, for --region / AWS_REGION). Runs beside the server; one live
                            rewrap at a time. Same progress, count and exit codes (Ctrl-C stops
                            the server's run; run again to continue). The embedded KMS's key
                            material is NOT rewrapped live: that stays an offline step (the
                            command above, server stopped) before retiring the version; --kms is
                            offline only. --data-dir is not used.
  keys retire N             mark version N retired; refused while any object, upload or KMS key
                            material still uses it (rewrap first) and for the active version.
                            NEEDS THE SERVER STOPPED.

${COMMON_USAGE}`

export async function keysCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    {
      'from-version': { type: 'string' },
      limit: { type: 'string' },
      kms: { type: 'boolean' },
      endpoint: { type: 'string' },
    },
    true,
  )
  const [sub, ...rest] = positionals
  if (values.help || sub === undefined) {
    process.stdout.write(KEYS_USAGE)
    return sub === undefined && !values.help ? 2 : 0
  }
  const common = commonArgs(values)
  const audit = openAuditLog(common.auditLog)
  try {
    switch (sub) {
      case 'list':
        return await list(common.dataDir)
      case 'rotate': {
        const keyring = await openKeyring(common.dataDir)
        const from = keyring.active().version
        const version = await keyring.rotate()
        audit.audit({
          operation: 'keys rotate',
          action: 'rotate',
          outcome: 'ok',
          fromVersion: from,
          toVersion: version,
        })
        process.stdout.write(
          `rotated: version ${version} is now active (was ${from}); run 'strongroom keys rewrap' (server stopped, or --endpoint URL beside it) to move existing objects to it\n`,
        )
        return 0
      }
      case 'rewrap':
        return await rewrapCommand(common, values, audit)
      case 'retire':
        return await retire(common, rest[0], audit)
      default:
        throw new AdminError(`unknown subcommand '${sub}'`, 2)
    }
  } finally {
    await audit.close()
  }
}

function positiveInt(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < 1) throw new AdminError(`${what} must be a positive integer, got ${String(v)}`, 2)
  return n
}

async function list(dataDir: string): Promise<number> {
  const keyring = await openKeyring(dataDir)
  let usage: Map<number, VersionUsage> | undefined
  let note = ''
  try {
    const meta = await openLocked(() => LevelMetadataStore.open(path.join(path.resolve(dataDir), 'meta')))
    try {
      usage = await countUsage(meta, kmsDirs(path.resolve(dataDir)))
    } finally {
      await meta.close()
    }
  } catch (err) {
    if (!(err instanceof AdminError && err.message === SERVER_RUNNING)) throw err
    note = '(counts unavailable: the data directory is in use by a running server; stop it to count)\n'
  }
  const active = keyring.active().version
  const rows = [['VERSION', 'STATE', 'CREATED', 'OBJECTS', 'UPLOADS', 'KMS-MATERIALS']]
  for (const v of keyring.versions()) {
    const u = usage?.get(v.version)
    const state = v.version === active ? 'active (sealing)' : v.state
    rows.push([
      String(v.version),
      state,
      v.createdAt,
      ...(u || usage
        ? [String(u?.objects ?? 0), String(u?.uploads ?? 0), String(u?.kmsMaterials ?? 0)]
        : ['-', '-', '-']),
    ])
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  for (const r of rows)
    process.stdout.write(
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd() + '\n',
    )
  for (const [v, u] of usage ?? []) {
    if (!keyring.versions().some((k) => k.version === v))
      process.stdout.write(
        `warning: ${u.objects + u.uploads + u.kmsMaterials} records name root key version ${v}, which is not in the keyring\n`,
      )
  }
  process.stdout.write(note)
  return 0
}

async function rewrapCommand(
  common: ReturnType<typeof commonArgs>,
  values: Record<string, unknown>,
  audit: ReturnType<typeof openAuditLog>,
): Promise<number> {
  const fromVersion = positiveInt(values['from-version'], '--from-version')
  const limit = positiveInt(values.limit, '--limit')
  if (values.endpoint !== undefined)
    return liveRewrapCommand(String(values.endpoint), common, { fromVersion, limit, kms: values.kms === true })
  const store = await openAdminStore(common.dataDir, common.region)
  const controller = new AbortController()
  const stop = () => {
    process.stderr.write('\ninterrupted: finishing the records in flight…\n')
    controller.abort()
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  const progress = progressReporter(process.stderr, 'rewrap')
  const started = Date.now()
  try {
    const active = store.keyring.active().version
    if (fromVersion === active) throw new AdminError(`version ${fromVersion} is the active version: nothing to rewrap`)
    const res = await rewrap(store.meta, store.keyring, kmsDirs(store.dataDir), {
      fromVersion,
      limit,
      signal: controller.signal,
      audit,
      onProgress: progress.update,
      dataKeys: async () => (await store.kms()).dataKeys,
      reEncrypt: values.kms ? async (kms) => reEncryptDataKey(await store.kms(), kms) : undefined,
    })
    progress.done()
    printSummary(res, (Date.now() - started) / 1000)
    audit.audit({
      operation: 'keys rewrap',
      action: 'rewrap',
      outcome: res.failed.length ? 'failed' : res.stopped ? 'stopped' : 'ok',
      toVersion: res.toVersion,
      fromVersion,
      count: res.rewrapped,
    })
    if (res.stopped) {
      process.stdout.write(`stopped before the end: run 'strongroom keys rewrap' again to continue\n`)
      return controller.signal.aborted ? 130 : 3
    }
    return res.failed.length ? 1 : 0
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    await store.close()
  }
}

/** The final count of a rewrap (stdout) and each failure (stderr). */
function printSummary(res: RewrapResult, secs: number): void {
  const rate = secs > 0 ? Math.round(res.rewrapped / secs) : res.rewrapped
  for (const f of res.failed) process.stderr.write(`failed: ${f.what}: ${f.reason}\n`)
  process.stdout.write(
    `rewrapped ${res.rewrapped} of ${res.total} records${res.current ? ` (${res.current} already current)` : ''} to root key version ${res.toVersion} in ${secs.toFixed(1)} s (${rate}/s)` +
      `${res.changed ? `, ${res.changed} changed meanwhile (left as written)` : ''}` +
      `${res.kmsMaterials ? `, ${res.kmsMaterials} KMS key materials` : ''}${res.upgraded ? `, ${res.upgraded} upgraded from format SR1 to SR2` : ''}` +
      `${res.failed.length ? `, ${res.failed.length} FAILED` : ''}\n`,
  )
}

/** `keys rewrap --endpoint URL`: the running server rewraps; this process shows its progress. */
async function liveRewrapCommand(
  endpoint: string,
  common: ReturnType<typeof commonArgs>,
  o: { fromVersion?: number; limit?: number; kms: boolean },
): Promise<number> {
  if (o.kms)
    throw new AdminError(
      '--kms needs the embedded KMS opened offline: run it without --endpoint, with the server stopped',
      2,
    )
  const cred = {
    accessKeyId: process.env.STRONGROOM_ACCESS_KEY_ID || 'test',
    secretAccessKey: process.env.STRONGROOM_SECRET_ACCESS_KEY || 'test',
    region: common.region,
  }
  const controller = new AbortController()
  const stop = () => {
    process.stderr.write('\ninterrupted: the server finishes the records in flight…\n')
    controller.abort()
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  const progress = progressReporter(process.stderr, 'rewrap (live)')
  try {
    const answer = await liveRewrap(endpoint, cred, {
      fromVersion: o.fromVersion,
      limit: o.limit,
      signal: controller.signal,
      onProgress: progress.update,
    })
    progress.done()
    const res = answer.result
    printSummary(res, answer.seconds)
    process.stdout.write(`note: ${answer.note}\n`)
    if (res.stopped) {
      process.stdout.write(
        `stopped before the end: run 'strongroom keys rewrap --endpoint ${endpoint}' again to continue\n`,
      )
      return controller.signal.aborted || answer.aborted ? 130 : 3
    }
    return res.failed.length ? 1 : 0
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
}

/** KMS ReEncrypt of an SSE-KMS data key to the same key and context; undefined if the material did not change. */
async function reEncryptDataKey(
  k: Awaited<ReturnType<AdminStore['kms']>>,
  rec: KmsKeyRecord,
): Promise<string | undefined> {
  const blob = Buffer.from(rec.ciphertextBlob, 'base64')
  const kms = k.opened.accounts ? k.opened.accounts.forCall(undefined, blob) : k.opened.service
  if (!kms) throw new Error('SSE-KMS data keys can only be re-encrypted by the embedded KMS')
  const out = await kms.reEncrypt({
    CiphertextBlob: blob,
    SourceEncryptionContext: rec.context,
    DestinationKeyId: rec.keyArn,
    DestinationEncryptionContext: rec.context,
  })
  // Header: magic (3) ‖ version (1) ‖ key id (16) ‖ BE32 material version (4) ‖ …
  return out.CiphertextBlob.readUInt32BE(20) === blob.readUInt32BE(20)
    ? undefined
    : out.CiphertextBlob.toString('base64')
}

async function retire(
  common: ReturnType<typeof commonArgs>,
  arg: string | undefined,
  audit: ReturnType<typeof openAuditLog>,
): Promise<number> {
  const version = positiveInt(arg, 'the version to retire')
  if (version === undefined) throw new AdminError('which version? strongroom keys retire N', 2)
  const store = await openAdminStore(common.dataDir, common.region)
  try {
    const info = store.keyring.versions().find((v) => v.version === version)
    if (!info) throw new AdminError(`root key version ${version} is not in the keyring`)
    if (info.state === 'retired') throw new AdminError(`root key version ${version} is already retired`)
    if (store.keyring.active().version === version)
      throw new AdminError(`root key version ${version} is the active version: rotate first`)
    const u = (await countUsage(store.meta, kmsDirs(store.dataDir))).get(version)
    if (u && u.objects + u.uploads + u.kmsMaterials > 0) {
      audit.audit({
        operation: 'keys retire',
        action: 'retire',
        outcome: 'refused-in-use',
        fromVersion: version,
        count: u.objects + u.uploads + u.kmsMaterials,
      })
      throw new AdminError(
        `refused: root key version ${version} still seals ${u.objects} objects, ${u.uploads} multipart uploads and ${u.kmsMaterials} KMS key materials; run 'strongroom keys rewrap' first`,
      )
    }
    await store.keyring.retire(version)
    audit.audit({ operation: 'keys retire', action: 'retire', outcome: 'ok', fromVersion: version })
    process.stdout.write(`retired root key version ${version}\n`)
    return 0
  } finally {
    await store.close()
  }
}
