/** @module IAM wildcard matching: `*` any run of characters (also none), `?` exactly one. */

/**
 * True if `value` matches `pattern`. Iterative with one backtrack point, so hostile patterns
 * (`*a*a*a*…`) cost O(n·m) at worst, never exponential time.
 */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern
  const v = ignoreCase ? value.toLowerCase() : value
  let pi = 0
  let vi = 0
  let star = -1
  let mark = 0
  while (vi < v.length) {
    if (pi < p.length && (p[pi] === '?' || (p[pi] === v[vi] && p[pi] !== '*'))) {
      pi++
      vi++
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++
      mark = vi
    } else if (star >= 0) {
      pi = star + 1
      vi = ++mark
    } else {
      return false
    }
  }
  while (pi < p.length && p[pi] === '*') pi++
  return pi === p.length
}
