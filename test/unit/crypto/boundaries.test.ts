/**
 * @module crypto/ stays pure (docs/architecture.md#layers): no HTTP framework, no server or storage code, no header
 * names.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const CRYPTO_DIR = fileURLToPath(new URL('../../../crypto/', import.meta.url))

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name))
}

describe('crypto/ dependency direction', () => {
  it('no file in crypto/ imports hono, server/ or storage/, or names an HTTP header', async () => {
    const offences: string[] = []
    for (const file of await sourceFiles(CRYPTO_DIR)) {
      const text = await readFile(file, 'utf8')
      const imports = [...text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1])
      for (const spec of imports) {
        if (
          /^hono(\/|$)|^@hono\/|(^|\/)server\/|(^|\/)storage\/|^undici$/.test(spec) &&
          !file.includes('/kms/http-client.ts')
        ) {
          offences.push(`${relative(CRYPTO_DIR, file)} imports ${spec}`)
        }
      }
      // The KMS client is the one transport in crypto/: it speaks the KMS JSON API's own headers.
      if (/x-amz-|content-md5|authorization/i.test(text) && !file.includes('/kms/http-client.ts')) {
        offences.push(`${relative(CRYPTO_DIR, file)} names an HTTP header`)
      }
    }
    expect(offences).toEqual([])
  })
})
