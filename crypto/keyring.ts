/** @module The SSE-S3 root keyring: numbered 256-bit root keys in one owner-only JSON file. */
import { randomBytes } from 'node:crypto'
import { readFileSync, statSync, type Stats } from 'node:fs'
import { link, mkdir, readFile, rename, stat, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { inspect } from 'node:util'
import { fsyncDir, writeSyncedTemp } from '../lib/durable-fs.js'
import { CryptoError } from './errors.js'
import { KEY_SIZE } from './format.js'

/** A root key version and its secret material. Never log it. */
export interface RootKey {
  version: number
  key: Buffer
}

/**
 * What sealing needs from a keyring; RootKeyring implements it, tests may fake it. Both methods
 * return a fresh copy of the key: the SSE-S3 helpers zero it after use.
 */
export interface RootKeySource {
  /** The newest active root key: it seals new objects. */
  active(): RootKey
  /** The key of `version`; throws CryptoError('missing-root-key') if the keyring lacks it. */
  get(version: number): Buffer
}

/** Public facts about one root key version (no key material). */
export interface RootKeyInfo {
  version: number
  /** ISO 8601 time the version was created. */
  createdAt: string
  state: 'active' | 'retired'
}

/** One key as stored in the keyring file. */
interface StoredKey extends RootKeyInfo {
  /** base64 of the 32-byte key. */
  key: string
}

/** The keyring file, format version 1 (crypto/README.md, "Root keyring file"). */
interface KeyringFile {
  v: 1
  keys: StoredKey[]
}

/** Permission bits for group and others: any of them set means the file is not owner-only. */
const GROUP_OTHER_BITS = 0o077
const FILE_MODE = 0o600

/**
 * The root keyring. Opening creates the file (mode 0600, version 1) on first start; an existing
 * file whose mode lets group or others in is refused, never silently re-chmodded. Key material
 * stays in private fields and is redacted from util.inspect, toString and JSON.stringify.
 */
export class RootKeyring implements RootKeySource {
  readonly #path: string
  #file: KeyringFile
  #keys: Map<number, Buffer>
  #queue: Promise<unknown> = Promise.resolve()
  /**
   * Identity of the file last read or written (inode, size, mtime): a change means another process rotated or retired.
   */
  #stamp: string

  private constructor(path: string, file: KeyringFile) {
    this.#path = path
    this.#file = file
    this.#keys = decodeKeys(file, path)
    this.#stamp = fileStamp(path)
  }

  /**
   * Re-reads the file if another process replaced it (`strongroom keys rotate|retire` beside a
   * running server): one stat per call, a read only on change. A file that no longer reads or
   * validates is ignored (the keys in memory stay in use) until it is fixed.
   */
  #refresh(): void {
    const stamp = fileStamp(this.#path)
    if (stamp === this.#stamp || stamp === '') return
    try {
      const file = parseKeyringText(readFileSync(this.#path, 'utf8'), statSync(this.#path), this.#path)
      const keys = decodeKeys(file, this.#path)
      // Never lose a version we know: an older file must not hide keys that sealed objects.
      if ([...this.#keys.keys()].some((v) => !keys.has(v))) return
      this.#file = file
      this.#keys = keys
      this.#stamp = stamp
    } catch {
      // keep the keys in memory
    }
  }

  /**
   * Opens the keyring at `path`, creating it with one fresh key if absent. Throws
   * CryptoError('keyring') if the file is readable or writable by group/others, is not a regular
   * file, or is malformed; CryptoError('unsupported-format') for an unknown format version.
   */
  static async open(path: string): Promise<RootKeyring> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    const existing = await readKeyringFile(path)
    if (existing) return new RootKeyring(path, existing)
    const initial: KeyringFile = { v: 1, keys: [newStoredKey(1)] }
    if (await createExclusive(path, initial)) return new RootKeyring(path, initial)
    // Another process created it between our read and our create: use theirs.
    const created = await readKeyringFile(path)
    if (!created) throw new CryptoError('keyring', `keyring ${path} vanished while opening it`)
    return new RootKeyring(path, created)
  }

  /** The file this keyring lives in. */
  get path(): string {
    return this.#path
  }

  /** The newest active key; it seals new objects. The key is a copy the caller may scrub. */
  active(): RootKey {
    this.#refresh()
    const newest = this.#file.keys.filter((k) => k.state === 'active').reduce((a, b) => (b.version > a.version ? b : a))
    return { version: newest.version, key: Buffer.from(this.#keys.get(newest.version)!) }
  }

  /** A copy of the key of `version` (active or retired); CryptoError('missing-root-key') if absent. */
  get(version: number): Buffer {
    if (!this.#keys.has(version)) this.#refresh()
    const key = this.#keys.get(version)
    if (!key)
      throw new CryptoError('missing-root-key', `root key version ${version} is not in the keyring ${this.#path}`)
    return Buffer.from(key)
  }

  /** Versions in ascending order, without key material. */
  versions(): RootKeyInfo[] {
    this.#refresh()
    return this.#file.keys.map(({ version, createdAt, state }) => ({ version, createdAt, state }))
  }

  /**
   * Adds a new version, which becomes the active one; older versions stay and keep opening
   * what they sealed. The file is replaced atomically (temp file 0600, fsync, rename, fsync dir)
   * and the keyring changes in memory only after that succeeded. Returns the new version.
   */
  rotate(): Promise<number> {
    const run = this.#queue.then(async () => {
      const version = Math.max(...this.#file.keys.map((k) => k.version)) + 1
      const next: KeyringFile = { v: 1, keys: [...this.#file.keys, newStoredKey(version)] }
      await replaceAtomically(this.#path, next)
      this.#keys = decodeKeys(next, this.#path)
      this.#file = next
      this.#stamp = fileStamp(this.#path)
      return version
    })
    this.#queue = run.catch(() => undefined)
    return run
  }

  /**
   * Marks `version` retired (the caller has checked that nothing uses it any more). Throws
   * CryptoError('missing-root-key') for an unknown version, ('keyring') for the active key or
   * one already retired. A retired key still opens what it sealed, should anything turn up.
   */
  retire(version: number): Promise<void> {
    const run = this.#queue.then(async () => {
      this.#refresh()
      const entry = this.#file.keys.find((k) => k.version === version)
      if (!entry)
        throw new CryptoError('missing-root-key', `root key version ${version} is not in the keyring ${this.#path}`)
      if (entry.state === 'retired') throw new CryptoError('keyring', `root key version ${version} is already retired`)
      if (this.active().version === version)
        throw new CryptoError('keyring', `root key version ${version} is the active key; rotate first`)
      const next: KeyringFile = {
        v: 1,
        keys: this.#file.keys.map((k) => (k.version === version ? { ...k, state: 'retired' as const } : k)),
      }
      await replaceAtomically(this.#path, next)
      this.#file = next
      this.#stamp = fileStamp(this.#path)
    })
    this.#queue = run.catch(() => undefined)
    return run
  }

  /** Redacted: never key material. */
  toJSON(): { path: string; versions: RootKeyInfo[] } {
    return { path: this.#path, versions: this.versions() }
  }

  /** Redacted: never key material. */
  toString(): string {
    return `RootKeyring(${this.#path}, versions ${this.versions()
      .map((v) => v.version)
      .join(',')})`
  }

  [inspect.custom](): string {
    return this.toString()
  }
}

function fileStamp(path: string): string {
  try {
    const st = statSync(path, { bigint: true })
    return `${st.ino}:${st.size}:${st.mtimeNs}`
  } catch {
    return ''
  }
}

function newStoredKey(version: number): StoredKey {
  return {
    version,
    key: randomBytes(KEY_SIZE).toString('base64'),
    createdAt: new Date().toISOString(),
    state: 'active',
  }
}

/** Creates `path` with `content` only if it does not exist (link(2) fails on EEXIST). */
async function createExclusive(path: string, content: KeyringFile): Promise<boolean> {
  const temp = await writeTemp(path, content)
  try {
    await link(temp, path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw new CryptoError('keyring', `cannot create keyring ${path}: ${(err as Error).message}`)
  } finally {
    await unlink(temp).catch(() => undefined)
  }
  await fsyncDir(dirname(path))
  return true
}

async function replaceAtomically(path: string, content: KeyringFile): Promise<void> {
  const temp = await writeTemp(path, content)
  try {
    await rename(temp, path)
  } catch (err) {
    await unlink(temp).catch(() => undefined)
    throw new CryptoError('keyring', `cannot replace keyring ${path}: ${(err as Error).message}`)
  }
  await fsyncDir(dirname(path))
}

/** Writes `content` to a new sibling temp file with mode 0600 and fsyncs it. */
function writeTemp(path: string, content: KeyringFile): Promise<string> {
  return writeSyncedTemp(path, `${JSON.stringify(content, null, 2)}\n`, FILE_MODE)
}

/** Reads and checks the keyring file; undefined if it does not exist. */
async function readKeyringFile(path: string): Promise<KeyringFile | undefined> {
  let info: Stats
  let text: string
  try {
    info = await stat(path)
    text = info.isFile() ? await readFile(path, 'utf8') : ''
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    throw new CryptoError('keyring', `cannot read keyring ${path}: ${code ?? 'error'}`)
  }
  return parseKeyringText(text, info, path)
}

/** Checks the mode bits and the content of a keyring file read from `path`. */
function parseKeyringText(text: string, info: Stats, path: string): KeyringFile {
  if (!info.isFile()) throw new CryptoError('keyring', `keyring ${path} is not a regular file`)
  // Refuse, do not repair: a keyring others could read may already have leaked; the operator
  // must look at it and chmod it deliberately. (POSIX only: Windows has no such mode bits.)
  if (process.platform !== 'win32' && (info.mode & GROUP_OTHER_BITS) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, '0')
    throw new CryptoError(
      'keyring',
      `keyring ${path} has mode ${mode}, but it must be readable by its owner only (0600); ` +
        `check who could have read it, then run: chmod 600 ${path}`,
    )
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    // No cause: JSON.parse messages quote the input, which is key material.
    throw new CryptoError('keyring', `keyring ${path} is not valid JSON`)
  }
  return validateFile(parsed, path)
}

function validateFile(parsed: unknown, path: string): KeyringFile {
  const file = parsed as Partial<KeyringFile> | null
  if (typeof file !== 'object' || file === null) throw malformed(path, 'not a JSON object')
  if (file.v !== 1) {
    throw new CryptoError(
      'unsupported-format',
      `keyring ${path} has format version ${String(file.v)}; this build reads 1`,
    )
  }
  if (!Array.isArray(file.keys) || file.keys.length === 0) throw malformed(path, 'no keys')
  const seen = new Set<number>()
  for (const k of file.keys as unknown[]) {
    const key = k as Partial<StoredKey> | null
    const ok =
      typeof key === 'object' &&
      key !== null &&
      Number.isSafeInteger(key.version) &&
      key.version! >= 1 &&
      !seen.has(key.version!) &&
      typeof key.key === 'string' &&
      typeof key.createdAt === 'string' &&
      (key.state === 'active' || key.state === 'retired')
    if (!ok) throw malformed(path, `a key entry (number ${seen.size + 1}) is malformed`)
    seen.add(key.version!)
  }
  if (!file.keys.some((k) => k.state === 'active')) throw malformed(path, 'no active key')
  const keys = [...file.keys].sort((a, b) => a.version - b.version)
  return { v: 1, keys }
}

function decodeKeys(file: KeyringFile, path: string): Map<number, Buffer> {
  const keys = new Map<number, Buffer>()
  for (const entry of file.keys) {
    const key = Buffer.from(entry.key, 'base64')
    if (key.length !== KEY_SIZE || key.toString('base64') !== entry.key) {
      throw malformed(path, `key version ${entry.version} is not 32 bytes of base64`)
    }
    keys.set(entry.version, key)
  }
  return keys
}

function malformed(path: string, detail: string): CryptoError {
  return new CryptoError('keyring', `keyring ${path} is malformed: ${detail}`)
}
