/**
 * @module `strongroom kms create-key|list-keys|rotate-key`: the embedded KMS of the store's own
 * account (<data-dir>/kms), offline. The same operations are reachable with `aws kms` against a
 * running server (CreateKey, ListKeys, RotateKeyOnDemand).
 */
import path from 'node:path'
import { EmbeddedKms } from '../../kms/embedded/service.js'
import { openAuditLog } from '../audit.js'
import { DEFAULT_ACCOUNT_ID } from '../config.js'
import { COMMON_USAGE, commonArgs, parseCommand } from './args.js'
import { AdminError, openKeyring, openLocked } from './store.js'

export const KMS_USAGE = `Usage: strongroom kms <create-key|list-keys|rotate-key> [options]

The embedded KMS of the store's own account (<data-dir>/kms; key material sealed by the root
keyring). Every kms subcommand NEEDS THE SERVER STOPPED (its KMS store is locked while it runs);
with the server running, use aws kms against it instead (create-key, list-keys,
rotate-key-on-demand).

  kms create-key [--description T] [--alias alias/NAME]
                            create a symmetric key; prints its id and ARN
  kms list-keys             key id, state, manager, description, aliases
  kms rotate-key KEY        new key material for KEY (id, ARN or alias/…); new encryptions use it,
                            older ciphertexts keep decrypting. To move SSE-KMS objects to it, copy
                            them onto themselves (aws s3 cp s3://b/k s3://b/k --sse aws:kms …).

${COMMON_USAGE}`

export async function kmsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    { description: { type: 'string' }, alias: { type: 'string' } },
    true,
  )
  const [sub, ...rest] = positionals
  if (values.help || sub === undefined) {
    process.stdout.write(KMS_USAGE)
    return sub === undefined && !values.help ? 2 : 0
  }
  if (!['create-key', 'list-keys', 'rotate-key'].includes(sub)) throw new AdminError(`unknown subcommand '${sub}'`, 2)
  const common = commonArgs(values)
  const dataDir = path.resolve(common.dataDir)
  const keyring = await openKeyring(dataDir)
  const kms = await openLocked(() =>
    EmbeddedKms.openDir(path.join(dataDir, 'kms'), { keyring, region: common.region, accountId: DEFAULT_ACCOUNT_ID }),
  )
  const audit = openAuditLog(common.auditLog)
  try {
    if (sub === 'create-key') {
      const { KeyMetadata: md } = await kms.createKey({ Description: values.description as string | undefined })
      if (values.alias) await kms.createAlias({ AliasName: values.alias as string, TargetKeyId: md.KeyId })
      audit.audit({
        operation: 'kms create-key',
        action: 'seal',
        outcome: 'ok',
        kmsKeyArn: md.Arn,
        rootKeyVersion: keyring.active().version,
      })
      process.stdout.write(`${md.KeyId}\t${md.Arn}${values.alias ? `\t${String(values.alias)}` : ''}\n`)
      return 0
    }
    if (sub === 'list-keys') {
      const aliases = (await kms.listAliases({})).Aliases ?? []
      const rows = [['KEY ID', 'STATE', 'MANAGER', 'DESCRIPTION', 'ALIASES']]
      let marker: string | undefined
      do {
        const page = await kms.listKeys({ Marker: marker })
        for (const k of page.Keys) {
          const { KeyMetadata: md } = await kms.describeKey({ KeyId: k.KeyId })
          const names = aliases
            .filter((a: { TargetKeyId?: string }) => a.TargetKeyId === k.KeyId)
            .map((a: { AliasName?: string }) => a.AliasName)
          rows.push([k.KeyId, md.KeyState, md.KeyManager, md.Description || '-', names.join(',') || '-'])
        }
        marker = page.Truncated ? page.NextMarker : undefined
      } while (marker)
      const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
      for (const r of rows)
        process.stdout.write(
          r
            .map((c, i) => c.padEnd(widths[i]))
            .join('  ')
            .trimEnd() + '\n',
        )
      return 0
    }
    const keyId = rest[0]
    if (!keyId) throw new AdminError('which key? strongroom kms rotate-key KEY', 2)
    const { keyId: id, materialVersion } = await kms.rotateKeyMaterial(keyId)
    audit.audit({
      operation: 'kms rotate-key',
      action: 'rotate',
      outcome: 'ok',
      kmsKeyArn: kms.arnOf(id),
      toVersion: materialVersion,
    })
    process.stdout.write(`rotated ${id}: key material version ${materialVersion} now encrypts\n`)
    return 0
  } catch (err) {
    if ((err as Error).name === 'KmsError' || (err as { __type?: string }).__type)
      throw new AdminError((err as Error).message)
    throw err
  } finally {
    await audit.close()
    await kms.close()
  }
}
