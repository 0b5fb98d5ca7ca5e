/**
 * @module The operator commands of `strongroom` (docs/architecture.md#operating-it): `keys list|rotate|rewrap|retire`,
 * `kms create-key|list-keys|rotate-key`, `verify`. Each parses its own flags (node:util parseArgs)
 * and answers `--help`; which of them need the server stopped is stated in their help.
 */
import { keysCommand, KEYS_USAGE } from './keys.js'
import { kmsCommand, KMS_USAGE } from './kms.js'
import { AdminError } from './store.js'
import { verifyCommand, VERIFY_USAGE } from './verify.js'

export const ADMIN_COMMANDS = new Set(['keys', 'kms', 'verify'])

export const ADMIN_USAGE = `  keys       root keyring: list, rotate, rewrap, retire (see: strongroom keys --help)
  kms        embedded KMS: create-key, list-keys, rotate-key (see: strongroom kms --help)
  verify     read and authenticate every object offline (see: strongroom verify --help)
`

/** Runs one admin command; resolves to the process exit code. */
export async function runAdmin(command: string, argv: string[]): Promise<number> {
  try {
    if (command === 'keys') return await keysCommand(argv)
    if (command === 'kms') return await kmsCommand(argv)
    if (command === 'verify') return await verifyCommand(argv)
    throw new AdminError(`unknown command '${command}'`, 2)
  } catch (err) {
    if (!(err instanceof AdminError)) throw err
    const usage =
      err.code === 2 ? `\n${command === 'keys' ? KEYS_USAGE : command === 'kms' ? KMS_USAGE : VERIFY_USAGE}` : '\n'
    process.stderr.write(`strongroom ${command}: ${err.message}${usage}`)
    return err.code
  }
}
