/**
 * @module The accounts file (`--credentials-file F`): accounts, each with an account id and access
 * key pairs (the account's full authority, as root), IAM users with inline policies and their own
 * keys, and roles (iam/principals-file.ts), parsed and validated into Credentials and roles. Every
 * fault names the problem and where it is; no message ever contains a secret access key. Unknown
 * fields are ignored (the format may grow).
 *
 *   {"accounts":[{"name":"alice","accountId":"111122223333",
 *                 "keys":[{"accessKeyId":"AK1","secretAccessKey":"S1","userName":"dev"}],
 *                 "users":[…], "roles":[…]}]}
 */
import { readFileSync } from 'node:fs'
import type { Credential } from './config.js'
import type { IamIdentity, IamRole } from './iam/identity.js'
import { parseRoles, parseUsers } from './iam/principals-file.js'

export class CredentialsFileError extends Error {
  override readonly name = 'CredentialsFileError'
}

/** IAM user names: 1-64 of `[\w+=,.@-]`. */
const USER_NAME_RE = /^[\w+=,.@-]{1,64}$/
/** Access key ids as SigV4 carries them in the credential scope: no `/`, no whitespace, no `,`. */
const ACCESS_KEY_ID_RE = /^[A-Za-z0-9_.+=@-]{1,128}$/

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The credentials of a parsed accounts document. `taken`: access key ids already in use (the root pair). */
export function parseCredentialsDocument(doc: unknown, taken: readonly string[] = []): Credential[] {
  return parseAccountsDocument(doc, taken).credentials
}

/** The credentials and the IAM roles of a parsed accounts document. */
export function parseAccountsDocument(
  doc: unknown,
  taken: readonly string[] = [],
): { credentials: Credential[]; roles: IamRole[] } {
  const fail = (msg: string): never => {
    throw new CredentialsFileError(msg)
  }
  if (!isObject(doc)) return fail('the file must hold a JSON object with an "accounts" array')
  const accounts = doc.accounts
  if (!Array.isArray(accounts)) return fail('"accounts" must be an array')
  if (accounts.length === 0) return fail('"accounts" is empty')
  const out: Credential[] = []
  const roles: IamRole[] = []
  const accountIds = new Set<string>()
  const keyIds = new Map<string, string>(taken.map((k) => [k, 'the root credentials']))
  accounts.forEach((account: unknown, i) => {
    let where = `accounts[${i}]`
    if (!isObject(account)) return fail(`${where} must be an object`)
    if (account.name !== undefined && (typeof account.name !== 'string' || account.name === ''))
      fail(`${where}.name must be a non-empty string`)
    if (typeof account.name === 'string') where = `${where} ("${account.name}")`
    const accountId = account.accountId
    if (accountId === undefined) return fail(`${where}: missing "accountId"`)
    if (typeof accountId !== 'string' || !/^\d{12}$/.test(accountId))
      return fail(`${where}: "accountId" must be a string of 12 digits`)
    if (accountIds.has(accountId)) return fail(`${where}: duplicate accountId ${accountId}`)
    accountIds.add(accountId)
    const users = parseUsers(account.users, accountId, where, fail)
    roles.push(...parseRoles(account.roles, accountId, where, fail))
    const keys = account.keys
    const keysOptional = account.keys === undefined && (users.length > 0 || Array.isArray(account.roles))
    if (!keysOptional && (!Array.isArray(keys) || keys.length === 0))
      return fail(`${where}: "keys" must be a non-empty array of access key pairs`)
    const pairs: Array<{ key: unknown; at: string; identity?: IamIdentity }> = ((keys ?? []) as unknown[]).map(
      (key, j) => ({ key, at: `${where}.keys[${j}]` }),
    )
    for (const u of users) {
      if (!Array.isArray(u.keys)) return fail(`${u.at}: "keys" must be an array of access key pairs`)
      u.keys.forEach((key: unknown, j) => pairs.push({ key, at: `${u.at}.keys[${j}]`, identity: u.identity }))
    }
    pairs.forEach(({ key, at, identity }) => {
      if (!isObject(key)) return fail(`${at} must be an object`)
      const { accessKeyId, secretAccessKey, userName } = key
      if (accessKeyId === undefined) return fail(`${at}: missing "accessKeyId"`)
      if (typeof accessKeyId !== 'string' || accessKeyId === '')
        return fail(`${at}: "accessKeyId" must be a non-empty string`)
      if (!ACCESS_KEY_ID_RE.test(accessKeyId))
        return fail(`${at}: "accessKeyId" may hold only letters, digits and _.+=@- (1-128 characters)`)
      const previous = keyIds.get(accessKeyId)
      if (previous !== undefined) return fail(`${at}: duplicate accessKeyId ${accessKeyId} (also in ${previous})`)
      keyIds.set(accessKeyId, at)
      if (secretAccessKey === undefined) return fail(`${at}: missing "secretAccessKey"`)
      if (typeof secretAccessKey !== 'string') return fail(`${at}: "secretAccessKey" must be a string`)
      if (secretAccessKey === '') return fail(`${at}: "secretAccessKey" is empty`)
      let principalArn = `arn:aws:iam::${accountId}:root`
      if (identity) {
        out.push({ accessKeyId, secretAccessKey, accountId, principalArn: identity.arn, identity })
        return
      }
      if (userName !== undefined) {
        if (typeof userName !== 'string' || !USER_NAME_RE.test(userName))
          return fail(`${at}: "userName" must be 1-64 characters of letters, digits and _+=,.@-`)
        principalArn = `arn:aws:iam::${accountId}:user/${userName}`
      }
      out.push({ accessKeyId, secretAccessKey, accountId, principalArn })
    })
  })
  return { credentials: out, roles }
}

/** Reads and validates the accounts file. Throws CredentialsFileError naming the file and the problem. */
export function loadCredentialsFile(file: string, taken: readonly string[] = []): Credential[] {
  return loadAccountsFile(file, taken).credentials
}

/** Reads and validates the accounts file: its credentials and IAM roles. */
export function loadAccountsFile(
  file: string,
  taken: readonly string[] = [],
): { credentials: Credential[]; roles: IamRole[] } {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new CredentialsFileError(
      `credentials file ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    )
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    // JSON.parse messages may quote the text around the fault, which could be a secret: not echoed.
    throw new CredentialsFileError(`credentials file ${file}: not valid JSON`)
  }
  try {
    return parseAccountsDocument(doc, taken)
  } catch (err) {
    if (err instanceof CredentialsFileError) throw new CredentialsFileError(`credentials file ${file}: ${err.message}`)
    throw err
  }
}
