/** @module Fixed-width table formatting of the bench's results. */

export const fmt = (n: number | undefined, digits = 1) =>
  n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits)
export const pad = (s: string, w: number) => (s.length >= w ? s : ' '.repeat(w - s.length) + s)
export const padR = (s: string, w: number) => (s.length >= w ? s : s + ' '.repeat(w - s.length))

export const COLS: Array<[string, number]> = [
  ['case', 10],
  ['conc', 4],
  ['server', 8],
  ['ops', 6],
  ['ops/s', 9],
  ['MiB/s', 8],
  ['spread', 6],
  ['p50 ms', 8],
  ['p99 ms', 8],
  ['srv CPU', 7],
  ['CPU ms/op', 9],
  ['cli CPU', 7],
  ['srv RSS', 8],
  ['vs base', 7],
  ['target', 7],
  ['', 4],
]

export function row(cells: string[]): string {
  return cells
    .map((c, i) => (i === 0 || i === 2 ? padR(c, COLS[i][1]) : pad(c, COLS[i][1])))
    .join('  ')
    .trimEnd()
}
