/**
 * @module Test support for the command-line tests: the environment that points the aws CLI (v1)
 * at a test server, and one runner for external tools. A missing tool fails the test loudly
 * (these tests never skip); any other failure keeps the tool's stderr and stdout in the message.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { TEST_ACCESS_KEY_ID, TEST_REGION, TEST_SECRET_ACCESS_KEY } from './server.js'

const execFileP = promisify(execFile)

/** One CLI invocation never needs this long; a hung tool fails instead of stalling the suite. */
export const TOOL_TIMEOUT_MS = 60_000

/** How a failed tool run rejects (execFile's error). */
export interface ToolFailure extends Error {
  code?: number | string
  stdout?: string
  stderr?: string
}

/** Environment for the aws CLI pointed at a test server. */
export function awsCliEnv(endpoint: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY,
    AWS_DEFAULT_REGION: TEST_REGION,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
  }
}

/**
 * Runs `tool` with `args` (`input` written to its stdin); rejects with a ToolFailure whose message names the command
 * and its output.
 */
export async function runTool(
  tool: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string },
): Promise<{ stdout: string; stderr: string }> {
  try {
    const child = execFileP(tool, args, {
      env: opts.env,
      cwd: opts.cwd,
      timeout: opts.timeoutMs ?? TOOL_TIMEOUT_MS,
      maxBuffer: 64 << 20,
      encoding: 'utf8',
    })
    if (opts.input !== undefined) child.child.stdin?.end(opts.input)
    return await child
  } catch (e) {
    const err = e as ToolFailure
    if (err.code === 'ENOENT')
      throw new Error(
        `required tool '${tool}' is missing: install it (the aws CLI: \`pip install awscli\`). These tests never skip.`,
      )
    // Python snippets of the CLI tests print this marker when `import boto3` fails.
    if (err.stderr?.includes('MISSING-BOTO3'))
      throw new Error(
        'required Python package boto3 is missing for python3: install it (pip install boto3). These tests never skip.',
      )
    err.message = `${tool} ${args.join(' ')} failed (exit ${String(err.code)}):\n${err.stderr ?? ''}${err.stdout ?? ''}`
    throw err
  }
}

/** Runs the aws CLI; resolves to its stdout. */
export async function runAws(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return (await runTool('aws', args, { env })).stdout
}

/** Runs a tool that must fail; resolves to its stderr and stdout (a missing tool still throws). */
export async function toolFails(
  tool: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string },
): Promise<string> {
  try {
    await runTool(tool, args, opts)
  } catch (e) {
    const err = e as ToolFailure
    if (err.message.startsWith('required tool')) throw err
    return `${err.stderr ?? ''}${err.stdout ?? ''}`
  }
  throw new Error(`${tool} ${args.join(' ')} succeeded but was expected to fail`)
}
