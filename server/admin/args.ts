/** @module Flags and help text every admin command shares. */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { FLAGS } from '../config.js'
import { AdminError } from './store.js'

/** Flags every admin command takes. */
export const COMMON_OPTIONS = {
  'data-dir': { type: 'string' },
  'audit-log': { type: 'string' },
  region: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options']

export const COMMON_USAGE = `Common options:
  --data-dir D     data directory                  STRONGROOM_DATA_DIR  (default ${FLAGS['data-dir'].default})
  --audit-log F    append audit events (rotate, rewrap, retire, KMS key changes) to F, - for stdout
                                                   STRONGROOM_AUDIT_LOG (default: off)
  --region R       region of the embedded KMS      AWS_REGION           (default ${FLAGS.region.default})
  -h, --help       this help
`

export interface CommonArgs {
  dataDir: string
  auditLog?: string
  region: string
}

/** Parses `argv` with the common options plus `extra`; throws AdminError on a bad flag. */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  extra: O,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...extra }, strict: true, allowPositionals })
  } catch (err) {
    throw new AdminError((err as Error).message, 2)
  }
}

export function commonArgs(
  values: { 'data-dir'?: unknown; 'audit-log'?: unknown; region?: unknown },
  env = process.env,
): CommonArgs {
  const dataDir = String(values['data-dir'] ?? env.STRONGROOM_DATA_DIR ?? FLAGS['data-dir'].default)
  const auditLog = (values['audit-log'] as string | undefined) ?? (env.STRONGROOM_AUDIT_LOG || undefined)
  const region = String(values.region ?? env.AWS_REGION ?? FLAGS.region.default)
  return { dataDir, auditLog, region }
}
