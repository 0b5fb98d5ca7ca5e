#!/usr/bin/env node
// Runs the TypeScript entry through tsx, so `npx strongroom ...` works from a checkout.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)
const tsxCli = require.resolve('tsx/cli')
const res = spawnSync(process.execPath, [tsxCli, path.join(here, '..', 'server', 'main.ts'), ...process.argv.slice(2)], { stdio: 'inherit' })
process.exit(res.status ?? 1)
