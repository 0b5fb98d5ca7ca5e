/**
 * @module compose.yaml and the Dockerfile. No container engine runs here, so the
 * compose file is validated with `docker-compose config` (Debian's docker-compose package; .ci/run
 * installs it). A machine without docker-compose FAILS this suite, it never skips.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const REPO = path.resolve(import.meta.dirname, '../..')
const COMPOSE = path.join(REPO, 'compose.yaml')

function dockerCompose(args: string[]): string {
  const r = spawnSync('docker-compose', ['-f', COMPOSE, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  })
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(
      'docker-compose is not installed or not on PATH: this suite needs it (apt-get install -y docker-compose); it fails rather than skips',
    )
  }
  if (r.error) throw r.error
  if (r.status !== 0) throw new Error(`docker-compose ${args.join(' ')} exited ${r.status}:\n${r.stderr}${r.stdout}`)
  return r.stdout
}

interface Service {
  image?: string
  build?: { context: string }
  command?: string[]
  environment?: Record<string, string>
  ports?: string[]
  volumes?: string[]
  healthcheck?: { test: string[] }
  depends_on?: Record<string, { condition: string }>
  stop_grace_period?: string
}

/** The resolved config as data: YAML parsed by the Python that runs docker-compose (it ships PyYAML). */
function resolvedConfig(): { services: Record<string, Service>; volumes: Record<string, unknown> } {
  const yamlText = dockerCompose(['config'])
  const launcher = spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' }).stdout.trim()
  const shebang = readFileSync(launcher, 'utf8').split('\n')[0]
  const python = shebang.startsWith('#!') ? shebang.slice(2).trim().split(/\s+/)[0] : 'python3'
  const r = spawnSync(python, ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], {
    input: yamlText,
    encoding: 'utf8',
  })
  if (r.status !== 0) throw new Error(`could not parse the docker-compose config with ${python}:\n${r.stderr}`)
  return JSON.parse(r.stdout)
}

describe('compose.yaml', () => {
  it('is valid for docker-compose and declares strongroom and the KMS', () => {
    expect(dockerCompose(['config', '--quiet'])).toBe('')
    expect(dockerCompose(['config', '--services']).trim().split('\n').sort()).toEqual(['kms', 'strongroom'])
    expect(dockerCompose(['config', '--volumes']).trim().split('\n')).toEqual(['strongroom-data'])
  })

  it('delegates SSE-KMS to the moto container, keeps data in a volume, and checks readiness', () => {
    const { services } = resolvedConfig()
    const kms = services.kms
    const store = services.strongroom
    expect(kms.image).toMatch(/^motoserver\/moto:/)
    expect(kms.healthcheck?.test.join(' ')).toMatch(/5000/)

    expect(store.build?.context).toBe(REPO)
    const command = store.command ?? []
    expect(command[0]).toBe('server')
    expect(command).toContain('--kms-endpoint=http://kms:5000')
    expect(command).toContain('--data-dir=/data')
    expect(command).toContain('--host=0.0.0.0')
    // Embedded-KMS keys cannot be declared with an external KMS (server/kms/setup.ts).
    expect(command.join(' ')).not.toMatch(/--kms-keys/)
    expect(Object.keys(store.environment ?? {})).not.toContain('STRONGROOM_KMS_KEYS')
    // Off-host clients are not loopback: SSE-C/SSE-KMS need TLS, so the HTTPS listener is on.
    expect(command).toContain('--tls-self-signed')
    expect(store.depends_on?.kms?.condition).toBe('service_healthy')
    expect(store.volumes).toContain('strongroom-data:/data:rw')
    expect(store.healthcheck?.test.join(' ')).toMatch(/\/health\/ready/)
    // Published on the host's loopback only.
    for (const p of [...(store.ports ?? []), ...(kms.ports ?? [])]) expect(p).toMatch(/^127\.0\.0\.1:/)
    // Longer than the server's own 10 s drain, so SIGTERM ends in a clean exit, not a SIGKILL.
    expect(store.stop_grace_period).toBe('15s')
  })

  it('is accompanied by a Dockerfile on node:24 (the LTS line CI tests) that installs with npm ci and runs the server as PID 1', () => {
    const dockerfile = readFileSync(path.join(REPO, 'Dockerfile'), 'utf8')
    expect(dockerfile).toMatch(/^FROM node:24\b/m)
    expect(dockerfile).toMatch(/^RUN npm ci\b/m)
    expect(dockerfile).toMatch(/^COPY package\.json package-lock\.json/m)
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/strongroom\.js"\]/m)
    expect(dockerfile).toMatch(/^USER node$/m)
    // The start command the image runs is what `npm start` runs.
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    expect(pkg.scripts.start).toBe('exec node bin/strongroom.js server')
  })
})
