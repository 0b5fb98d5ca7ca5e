/**
 * The dependency direction of docs/architecture.md, checked mechanically: server/ -> kms/ ->
 * crypto/, storage/; the core layers import no HTTP code, neither server nor client.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const root = path.resolve(import.meta.dirname, '..', '..')

function sources(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(path.join(root, dir))) {
    const rel = path.join(dir, name)
    if (statSync(path.join(root, rel)).isDirectory()) out.push(...sources(rel))
    else if (name.endsWith('.ts')) out.push(rel)
  }
  return out
}

function imports(file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8')
  return [...text.matchAll(/(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/g)].map((m) => m[1])
}

describe('layout', () => {
  it('crypto/ and storage/ never import hono, server/ or HTTP code', () => {
    for (const file of [...sources('crypto'), ...sources('storage')]) {
      for (const spec of imports(file)) {
        expect(spec, `${file} imports ${spec}`).not.toMatch(/^hono|^@hono\/|server\//)
        expect(spec, `${file} imports ${spec}`).not.toMatch(/^node:http/)
      }
    }
  })

  it('crypto/ and storage/ import no HTTP client (undici, fetch wrappers) and nothing of kms/', () => {
    for (const file of [...sources('crypto'), ...sources('storage')]) {
      for (const spec of imports(file)) {
        expect(spec, `${file} imports ${spec}`).not.toMatch(/^undici|^node:https?$|^node:http2$|^node:net$|^node:tls$/)
        expect(spec, `${file} imports ${spec}`).not.toMatch(/(^|\/)kms\//)
      }
      const text = readFileSync(path.join(root, file), 'utf8')
      expect(text, `${file} calls fetch`).not.toMatch(/\bfetch\(/)
    }
  })

  it('kms/ (the embedded KMS service and the KMS clients) never imports server/, hono or an HTTP server', () => {
    for (const file of sources('kms')) {
      for (const spec of imports(file)) {
        expect(spec, `${file} imports ${spec}`).not.toMatch(/^hono|^@hono\/|server\/|^node:http$|^node:https$/)
        expect(spec, `${file} imports ${spec}`).not.toMatch(/storage\//)
      }
    }
  })

  it('lib/ (helpers every layer shares) imports only node: modules', () => {
    for (const file of sources('lib')) for (const spec of imports(file)) expect(spec, file).toMatch(/^node:(?!https?$)/)
  })

  it('crypto/ and storage/ do not reach into each other except for public types', () => {
    for (const file of sources('crypto')) for (const spec of imports(file)) expect(spec, file).not.toMatch(/storage\//)
    for (const file of sources('storage')) {
      for (const spec of imports(file)) if (spec.includes('crypto/')) expect(spec, file).toMatch(/crypto\/types\.js$/)
    }
  })

  it('no source file passes the 600-line ceiling', () => {
    for (const file of [
      ...sources('server'),
      ...sources('crypto'),
      ...sources('kms'),
      ...sources('lib'),
      ...sources('storage'),
    ]) {
      const lines = readFileSync(path.join(root, file), 'utf8').split('\n').length
      expect(lines, file).toBeLessThanOrEqual(600)
    }
  })
})
