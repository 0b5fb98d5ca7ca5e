/** @module Deterministic test contents: every byte depends on (version, offset), so versions never collide. */

/** `size` bytes of version `version`'s content (a fixed linear congruential sequence per version). */
export function versionContent(version: number, size: number): Buffer {
  const b = Buffer.alloc(size)
  let x = (version * 2654435761) >>> 0
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    b[i] = x >>> 24
  }
  return b
}
