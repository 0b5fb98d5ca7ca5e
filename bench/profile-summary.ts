/**
 * @module Summarizes a V8 `.cpuprofile` (from `node --cpu-prof`): top functions by self time and
 * by total (inclusive) time, and self time per file. Positions of TypeScript run through tsx are
 * mapped back to `file.ts:line` with the inline source maps in tsx's cache (tsx minifies
 * whitespace, so the generated line numbers alone mean nothing).
 *
 *   npx tsx bench/profile-summary.ts /tmp/prof/CPU.*.cpuprofile [--top 25]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

const ROOT = path.resolve(import.meta.dirname, '..')

// ---- source maps from tsx's cache -------------------------------------------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]))

/** Decoded mappings: per generated line, sorted [genCol, srcLine, srcCol] segments. */
type Mappings = Array<Array<[number, number, number]>>

function decodeMappings(mappings: string): Mappings {
  const lines: Mappings = []
  let srcLine = 0
  let srcCol = 0
  for (const lineText of mappings.split(';')) {
    const segs: Array<[number, number, number]> = []
    let genCol = 0
    for (const seg of lineText.split(',')) {
      if (!seg) continue
      const vals: number[] = []
      let value = 0
      let shift = 0
      for (const ch of seg) {
        const digit = B64_INDEX.get(ch)!
        value += (digit & 31) << shift
        if (digit & 32) shift += 5
        else {
          vals.push(value & 1 ? -(value >>> 1) : value >>> 1)
          value = 0
          shift = 0
        }
      }
      genCol += vals[0]
      if (vals.length >= 4) {
        // vals[1] is the source index: each map here has one source, so it is not tracked.
        srcLine += vals[2]
        srcCol += vals[3]
        segs.push([genCol, srcLine, srcCol])
      }
    }
    lines.push(segs)
  }
  return lines
}

interface Compiled {
  code: string
  mappings: Mappings
  mtime: number
}

/** Every tsx cache entry that has an inline source map, by source path. */
function tsxCache(): Map<string, Compiled[]> {
  const out = new Map<string, Compiled[]>()
  const uid = typeof process.getuid === 'function' ? process.getuid() : ''
  const dir = path.join(os.tmpdir(), `tsx-${uid}`)
  let names: string[] = []
  try {
    names = readdirSync(dir)
  } catch {
    return out
  }
  for (const name of names) {
    const file = path.join(dir, name)
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      continue
    }
    const m = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/.exec(text)
    let mapText: string | undefined
    if (m) mapText = Buffer.from(m[1], 'base64').toString('utf8')
    else {
      // tsx may store the code and its map as JSON.
      try {
        const j = JSON.parse(text) as { code?: string; map?: unknown }
        if (j.code && j.map) {
          text = j.code
          mapText = typeof j.map === 'string' ? j.map : JSON.stringify(j.map)
        }
      } catch {
        /* not JSON */
      }
    }
    if (!mapText) continue
    try {
      const map = JSON.parse(mapText) as { sources: string[]; mappings: string }
      const source = map.sources?.[0]
      if (!source) continue
      const list = out.get(source) ?? []
      list.push({ code: text, mappings: decodeMappings(map.mappings), mtime: statSync(file).mtimeMs })
      out.set(source, list)
    } catch {}
  }
  return out
}

function originalLine(c: Compiled, line: number, col: number): number | undefined {
  const segs = c.mappings[line]
  if (!segs || segs.length === 0) return undefined
  let best = segs[0]
  for (const s of segs) {
    if (s[0] > col) break
    best = s
  }
  return best[1] + 1
}

/** Does the generated code near a frame's position name the frame's function? */
function frameMatches(c: Compiled, f: CallFrame): boolean {
  if (!f.functionName) return true
  const lines = c.code.split('\n')
  const text = lines[f.lineNumber]
  if (text === undefined) return false
  return text.slice(Math.max(0, f.columnNumber - 120), f.columnNumber + 40).includes(f.functionName)
}

// ---- summary ---------------------------------------------------------------------------------

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' } },
  })
  const top = Number(values.top)
  if (positionals.length === 0) {
    process.stderr.write('usage: tsx bench/profile-summary.ts FILE.cpuprofile [--top N]\n')
    process.exit(2)
  }
  const cache = tsxCache()
  for (const file of positionals) summarize(file, top, cache)
}

function summarize(file: string, top: number, cache: Map<string, Compiled[]>): void {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byId = new Map(prof.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

  // Pick, per source file, the cache entry that best matches the profile's frames.
  const chosen = new Map<string, Compiled | null>()
  const compiledFor = (url: string): Compiled | null => {
    if (chosen.has(url)) return chosen.get(url)!
    let result: Compiled | null = null
    if (url.startsWith('file://')) {
      const p = fileURLToPath(url.split('?')[0])
      const candidates = cache.get(p) ?? []
      const frames = prof.nodes.filter((n) => n.callFrame.url === url).map((n) => n.callFrame)
      let bestScore = -1
      for (const c of candidates) {
        const score = frames.filter((f) => frameMatches(c, f)).length + c.mtime / 1e15
        if (score > bestScore) {
          bestScore = score
          result = c
        }
      }
    }
    chosen.set(url, result)
    return result
  }

  const location = (f: CallFrame): string => {
    if (!f.url) return ''
    const clean = f.url.split('?')[0]
    const p = clean.startsWith('file://') ? fileURLToPath(clean) : clean
    const rel = p.startsWith(ROOT + path.sep) ? path.relative(ROOT, p) : p
    const short = rel.replace(/^.*node_modules\//, 'node_modules/')
    if (p.endsWith('.ts') || p.endsWith('.mts')) {
      const c = compiledFor(f.url)
      const line = c ? originalLine(c, f.lineNumber, f.columnNumber) : undefined
      return `${short}:${line ?? `?(gen ${f.lineNumber + 1}:${f.columnNumber + 1})`}`
    }
    return `${short}:${f.lineNumber + 1}`
  }
  const keyOf = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'}\t${location(n.callFrame)}`

  const isProject = (loc: string) =>
    loc !== '' &&
    !loc.startsWith('node:') &&
    !loc.startsWith('node_modules/') &&
    !loc.startsWith('/') &&
    !loc.startsWith('bench/') &&
    !loc.startsWith('wasm:')
  /** Self time of non-project leaves, charged to the nearest project frame above them. */
  const charged = new Map<string, number>()
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  const fileSelf = new Map<string, number>()
  let sum = 0
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = (prof.timeDeltas[i + 1] ?? 0) / 1000 // ms attributed to sample i
    sum += dt
    const leaf = byId.get(prof.samples[i])!
    const k = keyOf(leaf)
    self.set(k, (self.get(k) ?? 0) + dt)
    const fileKey = leaf.callFrame.url ? location(leaf.callFrame).replace(/:[^:]*$/, '') : leaf.callFrame.functionName
    fileSelf.set(fileKey, (fileSelf.get(fileKey) ?? 0) + dt)
    if (!isProject(location(leaf.callFrame)) && leaf.callFrame.functionName !== '(idle)') {
      let owner = '(no project frame)'
      for (let id = parent.get(leaf.id); id !== undefined; id = parent.get(id)) {
        const f = byId.get(id)!.callFrame
        const loc = location(f)
        if (isProject(loc)) {
          owner = `${f.functionName || '(anonymous)'} ${loc}`
          break
        }
      }
      const ck = `${leaf.callFrame.functionName || '(anonymous)'}\t${owner}`
      charged.set(ck, (charged.get(ck) ?? 0) + dt)
    }
    const seen = new Set<string>()
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const kk = keyOf(byId.get(id)!)
      if (seen.has(kk)) continue
      seen.add(kk)
      total.set(kk, (total.get(kk) ?? 0) + dt)
    }
  }
  const idle = self.get('(idle)\t') ?? 0
  const busy = sum - idle
  const pct = (v: number, of: number) => `${((100 * v) / of).toFixed(1)}%`.padStart(6)
  const ms = (v: number) => v.toFixed(0).padStart(7)

  process.stdout.write(`\n=== ${file}\n`)
  process.stdout.write(
    `sampled ${sum.toFixed(0)} ms, idle ${idle.toFixed(0)} ms, busy ${busy.toFixed(0)} ms (percentages below are of busy time)\n`,
  )
  process.stdout.write(
    `\nTop ${top} by SELF time:\n${'self ms'.padStart(7)}  ${'self'.padStart(6)}  ${'total'.padStart(6)}  function  location\n`,
  )
  const rows = [...self.entries()]
    .filter(([k]) => k !== '(idle)\t')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
  for (const [k, v] of rows) {
    const [fn, loc] = k.split('\t')
    process.stdout.write(`${ms(v)}  ${pct(v, busy)}  ${pct(total.get(k) ?? 0, busy)}  ${fn}  ${loc}\n`)
  }
  process.stdout.write(`\nTop ${top} project functions by TOTAL (inclusive) time:\n`)
  const project = [...total.entries()]
    .filter(([k]) => isProject(k.split('\t')[1]))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
  for (const [k, v] of project) {
    const [fn, loc] = k.split('\t')
    process.stdout.write(`${ms(v)}  ${pct(v, busy)}  ${fn}  ${loc}\n`)
  }
  process.stdout.write(`\nTop ${top} runtime/library self time charged to the nearest project caller:\n`)
  for (const [k, v] of [...charged.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const [leafName, owner] = k.split('\t')
    process.stdout.write(`${ms(v)}  ${pct(v, busy)}  ${leafName}  ← ${owner}\n`)
  }
  process.stdout.write(`\nSELF time by file:\n`)
  for (const [f, v] of [...fileSelf.entries()]
    .filter(([f]) => f !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)) {
    process.stdout.write(`${ms(v)}  ${pct(v, busy)}  ${f}\n`)
  }
}

main()
