#!/usr/bin/env node
// `npx strongroom ...` from a checkout: runs the TypeScript entry in this very process (tsx's
// loader registered here, no child process), so a signal sent to this PID reaches the server
// itself, which drains and exits; nothing is left running behind a wrapper.
import { register } from 'tsx/esm/api'

register()
const { runMain } = await import('../server/main.ts')
runMain(process.argv.slice(2))
