/**
 * A seeded PRNG (mulberry32): numbers uniform in [0, 1) with 32 bits, the same sequence for the
 * same seed on every machine and engine (integer operations only). The one generator of the
 * project: randomised selectors replay identically under a seed, fault injection and fake models
 * are reproducible, and the tiny GGUF writer's weights (and so its files) are byte-identical.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
