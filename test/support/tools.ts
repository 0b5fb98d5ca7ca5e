/**
 * @module Runs an external client (s3cmd, rclone, curl, python3, aws) for the CLI tests. A missing
 * tool fails loudly with how to install it; these tests never skip.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const execFileP = promisify(execFile)
/** One invocation never needs this long; a hung tool fails instead of stalling the suite. */
export const TOOL_TIMEOUT_MS = 120_000

const INSTALL_HINTS: Record<string, string> = {
  s3cmd: 'install s3cmd (Debian: `apt-get install s3cmd`; .ci/run does)',
  rclone: 'install rclone (Debian: `apt-get install rclone`; .ci/run does)',
  curl: 'install curl (`apt-get install curl`)',
  python3: 'install python3 with boto3 (`pip install boto3`)',
  aws: 'install the aws CLI v1 (`pip install awscli`)',
}

export interface ToolResult {
  stdout: string
  stderr: string
}

interface ToolFailure extends Error {
  code?: number | string
  stdout?: string
  stderr?: string
}

/** Runs `tool args` with exactly `env`; rejects with its output when it exits non-zero. */
export async function runTool(
  tool: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { cwd?: string; input?: string } = {},
): Promise<ToolResult> {
  try {
    return await execFileP(tool, args, {
      env,
      cwd: opts.cwd,
      timeout: TOOL_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
      encoding: 'utf8',
    })
  } catch (e) {
    const err = e as ToolFailure
    if (err.code === 'ENOENT')
      throw new Error(
        `required tool '${tool}' is missing: ${INSTALL_HINTS[tool] ?? 'install it'}. These tests never skip.`,
      )
    err.message = `${tool} ${args.join(' ')} failed (exit ${String(err.code)}):\n${err.stderr ?? ''}${err.stdout ?? ''}`
    throw err
  }
}

/** Runs a tool that is expected to fail; resolves with its output, rejects if it succeeded. */
export async function runToolFails(tool: string, args: string[], env: NodeJS.ProcessEnv): Promise<ToolResult> {
  try {
    await runTool(tool, args, env)
  } catch (e) {
    const err = e as ToolFailure
    if (err.message.startsWith('required tool')) throw err
    return { stdout: err.stdout ?? '', stderr: err.stderr ?? '' }
  }
  throw new Error(`${tool} ${args.join(' ')} succeeded, a failure was expected`)
}

/** The minimal environment for a client: PATH and HOME only (no AWS_* or CA bundle of the host). */
export function toolEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', ...extra }
}
